// Errors never kill the server: whatever the server calls — listeners (sync throws and the rejected
// promises of async ones), registered events, the authenticator, 'error' listeners themselves,
// lifecycle listeners — fails into 'error' or the logger, and the server keeps serving.
import test from 'ava';
import { AuthMode, ENetClient, ENetServerSupervisor, Err } from '../dist/index.js';
import { connectClient, startServer, waitFor } from './helpers.js';

/** A logger that keeps what it is given. */
const recorder = () => {
  const lines = [];
  return { lines, warn: (m) => lines.push(m), error: (m) => lines.push(m) };
};

async function stillServes(t, client) {
  const echo = waitFor(client, 'packetReceived', undefined, (p) => p?.echo === 'still');
  client.sendPacket({ echo: 'still' });
  await echo;
  t.pass();
}

test('an async packetReceived listener that rejects is reported through \'error\'; the process and the server go on', async (t) => {
  const server = await startServer(t);
  let first = true;
  server.on('packetReceived', async (peer, packet) => {
    if (first) {
      first = false;
      throw new Error('async boom');
    }
    server.sendPacket(peer.peerId, packet);
  });
  const errors = [];
  server.on('error', (e) => errors.push(e));
  const { client } = await connectClient(t, server);
  const reported = waitFor(server, 'error');
  client.sendPacket({ n: 1 });
  t.regex((await reported)[0].message, /async boom/);
  await stillServes(t, client);
});

test('an async registered event handler that rejects, and an authenticator that throws, are reported', async (t) => {
  const logger = recorder();
  const server = await startServer(t, { options: { logger } });
  server.registerEvent('bad', async () => {
    throw new Error('event boom');
  });
  server.on('packetReceived', (peer, packet) => server.sendPacket(peer.peerId, packet));
  const { client } = await connectClient(t, server);
  client.triggerEvent('bad', {});
  await stillServes(t, client);
  // No 'error' listener: the logger has it, with the cause.
  t.true(logger.lines.some((l) => /event 'bad'/.test(l) && /event boom/.test(l)), logger.lines.join('\n'));

  server.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
  server.setCustomAuthenticator(() => {
    throw new Error('auth boom');
  });
  const c2 = new ENetClient();
  t.teardown(() => c2.disconnectFromServer());
  c2.on('connectedToServer', () => c2.sendPacket({ login: 1 }));
  const rejected = waitFor(c2, 'disconnectedFromServer');
  c2.connectToServer('127.0.0.1', server.getLocalPort());
  t.is((await rejected)[0], 'Authentication failed');
  t.true(logger.lines.some((l) => /the authenticator/.test(l) && /auth boom/.test(l)));
});

test('an \'error\' listener that throws (or rejects) is logged, never thrown into the server', async (t) => {
  const logger = recorder();
  const server = await startServer(t, { options: { logger } });
  server.on('packetReceived', (peer, packet) => {
    if (packet?.boom) throw new Error('listener boom');
    server.sendPacket(peer.peerId, packet);
  });
  server.on('error', () => {
    throw new Error('error listener boom');
  });
  server.on('error', async () => {
    throw new Error('async error listener boom');
  });
  const { client } = await connectClient(t, server);
  client.sendPacket({ boom: true });
  await stillServes(t, client);
  t.true(logger.lines.some((l) => /error listener boom/.test(l)), logger.lines.join('\n'));
});

test('a throwing serverStarted listener does not make createServer() reject: the server is up and stops cleanly', async (t) => {
  const logger = recorder();
  const server = new ENetServerSupervisor();
  server.on('serverStarted', () => {
    throw new Error('started boom');
  });
  await server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', logger });
  t.true(server.isServerActive());
  t.true(logger.lines.some((l) => /serverStarted/.test(l) && /started boom/.test(l)));
  await server.stopServer();
  t.false(server.isServerActive());
});

test('the same error over and over is logged once per cause (with a count), not once per packet', async (t) => {
  const logger = recorder();
  const server = await startServer(t, { options: { logger } });
  server.on('packetReceived', (peer, packet) => {
    if (packet?.boom) throw new Error('again and again');
    server.sendPacket(peer.peerId, packet);
  });
  const { client } = await connectClient(t, server);
  for (let i = 0; i < 200; i++) client.sendPacket({ boom: i });
  await stillServes(t, client);
  t.is(logger.lines.filter((l) => /again and again/.test(l)).length, 1);
});

test('bad arguments to group sends and node state return ERR_INVALID_PARAMETER, never a TypeError or a silent OK', async (t) => {
  const server = await startServer(t);
  const { peer } = await connectClient(t, server);
  t.is(server.sendPacketToAll({ a: 1 }, 0, true, null), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacketToAll({ a: 1 }, 0, true, 'x'), Err.ERR_INVALID_PARAMETER);
  t.is(server.triggerEventToAll('e', {}, 0, true, 5), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacketToMultiple(null, { a: 1 }), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendNodeState(peer.peerId, { name: 'n' }, 'x'), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendNodeState(peer.peerId, { name: 'n' }, 99), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendNodeToAll({ name: 'n' }, -1), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendNodeState(peer.peerId, { name: 'n' }, 1), Err.OK);
});
