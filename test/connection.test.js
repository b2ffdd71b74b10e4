// Peers connecting, being listed, kicked, rejected, and leaving.
import test from 'ava';
import { ENetClient, ConnectionState, AuthState, ClientStatus, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor } from './helpers.js';

test('a connecting peer is announced with peerConnecting(peer, data) then peerAuthenticated(peer)', async (t) => {
  const server = await startServer(t);
  const order = [];
  let connectingArgs;
  server.on('peerConnecting', (...args) => {
    connectingArgs = args;
    order.push('connecting');
  });
  server.on('peerAuthenticated', () => order.push('authenticated'));
  const { client, peer } = await connectClient(t, server);
  t.deepEqual(order, ['connecting', 'authenticated']);
  t.is(connectingArgs[0], peer);
  t.is(connectingArgs[1], 0, 'ENet connect data');
  t.is(peer.peerId, 1);
  t.is(peer.getPeerId(), 1);
  t.is(peer.getConnectionState(), ConnectionState.STATE_AUTHENTICATED);
  t.is(peer.getAuthState(), AuthState.AUTH_APPROVED);
  t.true(client.isConnectedToServer());
  t.is(client.getConnectionStatus(), ClientStatus.STATUS_CONNECTED);
});

test('peers are listed, counted, and found by id; ids grow and are never reused', async (t) => {
  const server = await startServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  t.is(server.getPeerCount(), 2);
  t.is(server.getAuthenticatedPeerCount(), 2);
  t.deepEqual(server.getPeers().map((p) => p.peerId).sort(), [1, 2]);
  t.is(server.getPeer(2), b.peer);
  t.is(server.getPeer(99), null);

  const left = waitFor(server, 'peerDisconnected');
  a.client.disconnectFromServer();
  await left;
  const c = await connectClient(t, server);
  t.is(c.peer.peerId, 3, 'the freed ENet slot gets a new id');
  t.is(server.getPeerCount(), 2);
});

test('kickPeer disconnects with the reason on both sides', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  server.kickPeer(peer.peerId, 'Kicked for being AFK');
  t.is(peer.getConnectionState(), ConnectionState.STATE_DISCONNECTING);
  const [gone, reason] = await serverSide;
  t.is(gone, peer);
  t.is(reason, 'Kicked for being AFK');
  t.deepEqual(await clientSide, ['Kicked for being AFK']);
  t.is(server.getPeerCount(), 0);
  t.false(client.isConnectedToServer());
});

test('kickPeer without a reason: both sides report the same empty reason', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  server.kickPeer(peer.peerId);
  t.deepEqual(await serverSide, [peer, '']);
  t.deepEqual(await clientSide, ['']);
});

test('peer.disconnectPeer(reason) works like kickPeer', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const clientSide = waitFor(client, 'disconnectedFromServer');
  peer.disconnectPeer('bye now');
  t.deepEqual(await clientSide, ['bye now']);
});

test('a client that leaves is reported as "Connection lost"', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  client.disconnectFromServer('going home');
  t.deepEqual(await serverSide, [peer, 'Connection lost']);
  t.deepEqual(await clientSide, ['going home']);
});

test('peer.reject() inside peerConnecting refuses the connection with its reason', async (t) => {
  const server = await startServer(t);
  server.on('peerConnecting', (peer) => peer.reject('Server full'));
  let authenticated = false;
  server.on('peerAuthenticated', () => (authenticated = true));
  const client = new ENetClient();
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
  const [peer, reason] = await serverSide;
  t.is(reason, 'Server full');
  t.is(peer.getAuthState(), AuthState.AUTH_REJECTED);
  t.deepEqual(await clientSide, ['Server full']);
  t.false(authenticated);
});

test('a client connecting to a port nobody listens on reports connectionFailed', async (t) => {
  const server = await startServer(t);
  const port = server.getLocalPort();
  await server.stopServer();
  const client = new ENetClient({ connectTimeoutMs: 1500 });
  const failed = waitFor(client, 'connectionFailed');
  t.is(client.connectToServer('127.0.0.1', port), Err.OK);
  t.is(client.getConnectionStatus(), ClientStatus.STATUS_CONNECTING);
  const [reason] = await failed;
  t.regex(reason, /timed out|could not connect/i);
  t.is(client.getConnectionStatus(), ClientStatus.STATUS_DISCONNECTED);
});

test('connectToServer validates its arguments and refuses a second connection', async (t) => {
  const server = await startServer(t);
  const client = new ENetClient();
  t.is(client.connectToServer('127.0.0.1', 0), Err.ERR_INVALID_PARAMETER);
  t.is(client.connectToServer('127.0.0.1', 70000), Err.ERR_INVALID_PARAMETER);
  t.is(client.connectToServer('', 1234), Err.ERR_INVALID_PARAMETER);
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort(), 0), Err.ERR_INVALID_PARAMETER);
  await connectClient(t, server, { client });
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.ERR_ALREADY_IN_USE);
  t.is(client.getServerAddress(), '127.0.0.1');
  t.is(client.getServerPort(), server.getLocalPort());
});
