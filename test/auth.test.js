// Authentication modes, prelogin, custom (sync/async) authenticators, the enforced timeout.
import test from 'ava';
import { ENetServerSupervisor, AuthMode, AuthState, ConnectionState, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor, until } from './helpers.js';

async function connectUnauthenticated(t, server) {
  return connectClient(t, server, { authenticated: false });
}

test('defaults: AUTH_NONE, 10 s timeout', (t) => {
  const server = new ENetServerSupervisor();
  t.is(server.getAuthenticationMode(), AuthMode.AUTH_NONE);
  t.is(server.getAuthenticationTimeout(), 10);
});

test('AUTH_PRELOGIN_ONLY: the first dictionary is the login data, the app approves with authenticate()', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setAuthenticationMode(AuthMode.AUTH_PRELOGIN_ONLY) });
  const { client, peer } = await connectUnauthenticated(t, server);
  t.is(peer.getConnectionState(), ConnectionState.STATE_PRELOGIN);
  t.is(peer.getAuthState(), AuthState.AUTH_PENDING);
  t.is(server.getAuthenticatedPeerCount(), 0);
  const prelogin = waitFor(server, 'peerPrelogin');
  client.sendPacket({ user: 'ada', token: 't0k' });
  const [p, login] = await prelogin;
  t.is(p, peer);
  t.deepEqual(login, { user: 'ada', token: 't0k' });
  const authed = waitFor(server, 'peerAuthenticated');
  peer.authenticate();
  t.is((await authed)[0], peer);
  t.is(peer.getConnectionState(), ConnectionState.STATE_AUTHENTICATED);
  t.is(peer.getAuthState(), AuthState.AUTH_APPROVED);
  const packet = waitFor(server, 'packetReceived');
  client.sendPacket('now in game');
  t.is((await packet)[1], 'now in game');
});

test('packets of a peer that is not authenticated never reach packetReceived or events', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setAuthenticationMode(AuthMode.AUTH_PRELOGIN_ONLY) });
  let leaked = 0;
  server.on('packetReceived', () => leaked++);
  server.on('rawPacketReceived', () => leaked++);
  server.on('customEventReceived', () => leaked++);
  server.on('unknownEventReceived', () => leaked++);
  server.registerEvent('jump', () => leaked++);
  const { client, peer } = await connectUnauthenticated(t, server);
  const prelogin = waitFor(server, 'peerPrelogin');
  client.sendPacket({ user: 'x' });
  await prelogin;
  client.sendPacket('sneaky');
  client.triggerEvent('jump', {});
  await until(() => server.getMetrics().droppedUnauthenticated === 2, undefined, 'both packets dropped');
  // A marker after approval proves nothing else was waiting to leak.
  const approved = waitFor(server, 'peerAuthenticated');
  peer.authenticate();
  await approved;
  const marker = waitFor(server, 'packetReceived');
  client.sendPacket('marker');
  t.is((await marker)[1], 'marker');
  t.is(leaked, 2, 'only the marker (raw + packet) got through');
});

test('a prelogin packet that is not a dictionary is rejected with "Invalid authentication packet format"', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setAuthenticationMode(AuthMode.AUTH_PRELOGIN_ONLY) });
  const { client, peer } = await connectUnauthenticated(t, server);
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  client.sendPacket('not a dictionary');
  t.deepEqual(await serverSide, [peer, 'Invalid authentication packet format']);
  t.deepEqual(await clientSide, ['Invalid authentication packet format']);
  t.is(peer.getAuthState(), AuthState.AUTH_REJECTED);
});

test('AUTH_CUSTOM: a sync authenticator returning true approves, false rejects with "Authentication failed"', async (t) => {
  const server = await startServer(t, {
    setup: (s) => {
      s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
      s.setCustomAuthenticator((peer, data) => data.token === 'secret123');
    },
  });
  let prelogins = 0;
  server.on('peerPrelogin', () => prelogins++);
  const good = await connectUnauthenticated(t, server);
  const approved = waitFor(server, 'peerAuthenticated');
  good.client.sendPacket({ token: 'secret123' });
  t.is((await approved)[0], good.peer);

  const bad = await connectUnauthenticated(t, server);
  const rejected = waitFor(bad.client, 'disconnectedFromServer');
  const serverSide = waitFor(server, 'peerDisconnected');
  bad.client.sendPacket({ token: 'wrong' });
  t.deepEqual(await serverSide, [bad.peer, 'Authentication failed']);
  t.deepEqual(await rejected, ['Authentication failed']);
  t.is(prelogins, 0, 'with an authenticator, the app is not asked');
});

test('AUTH_CUSTOM: an async authenticator (Promise) approves or rejects; a rejected Promise rejects', async (t) => {
  const server = await startServer(t, {
    setup: (s) => {
      s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
      s.setCustomAuthenticator(async (peer, data) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (data.token === 'boom') throw new Error('database down');
        return data.token === 'ok';
      });
    },
  });
  const ok = await connectUnauthenticated(t, server);
  const approved = waitFor(server, 'peerAuthenticated');
  ok.client.sendPacket({ token: 'ok' });
  t.is((await approved)[0], ok.peer);

  const boom = await connectUnauthenticated(t, server);
  const gone = waitFor(server, 'peerDisconnected');
  boom.client.sendPacket({ token: 'boom' });
  t.deepEqual(await gone, [boom.peer, 'Authentication failed']);
});

test('AUTH_CUSTOM: an authenticator returning undefined decides later with peer.authenticate()/reject()', async (t) => {
  const pending = [];
  const server = await startServer(t, {
    setup: (s) => {
      s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
      s.setCustomAuthenticator((peer, data) => {
        pending.push([peer, data]);
      });
    },
  });
  const a = await connectUnauthenticated(t, server);
  a.client.sendPacket({ name: 'a' });
  const b = await connectUnauthenticated(t, server);
  b.client.sendPacket({ name: 'b' });
  await new Promise((resolve) => {
    const check = () => (pending.length === 2 ? resolve() : setTimeout(check, 5));
    check();
  });
  t.is(a.peer.getAuthState(), AuthState.AUTH_PENDING);
  const approved = waitFor(server, 'peerAuthenticated');
  const rejected = waitFor(b.client, 'disconnectedFromServer');
  pending[0][0].authenticate();
  pending[1][0].reject('Invalid token');
  t.is((await approved)[0], a.peer);
  t.deepEqual(await rejected, ['Invalid token']);
});

test('the authentication timeout is enforced: "Authentication timeout"', async (t) => {
  const server = await startServer(t, {
    setup: (s) => {
      s.setAuthenticationMode(AuthMode.AUTH_PRELOGIN_ONLY);
      s.setAuthenticationTimeout(0.3);
    },
  });
  t.is(server.getAuthenticationTimeout(), 0.3);
  const started = Date.now();
  const { client, peer } = await connectUnauthenticated(t, server);
  const clientSide = waitFor(client, 'disconnectedFromServer');
  const [gone, reason] = await waitFor(server, 'peerDisconnected');
  t.is(gone, peer);
  t.is(reason, 'Authentication timeout');
  t.true(Date.now() - started >= 250, 'not before the timeout');
  t.deepEqual(await clientSide, ['Authentication timeout']);
});

test('setAuthenticationMode and setCustomAuthenticator refuse bad values', (t) => {
  const server = new ENetServerSupervisor();
  t.is(t.throws(() => server.setAuthenticationMode(7)).code, Err.ERR_INVALID_PARAMETER);
  t.is(t.throws(() => server.setCustomAuthenticator('nope')).code, Err.ERR_INVALID_PARAMETER);
});
