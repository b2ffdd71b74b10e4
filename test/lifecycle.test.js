// createServer / stopServer / isServerActive / getLocalPort / poll rate, and the singleton.
import test from 'ava';
import { ENetServer, ENetServerSupervisor, ENetClient, ENetError, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor } from './helpers.js';

test('ENetServer is the process-wide instance of ENetServerSupervisor', (t) => {
  t.true(ENetServer instanceof ENetServerSupervisor);
  t.false(ENetServer.isServerActive());
  t.is(ENetServer.getPollRate(), 10);
});

test('createServer on port 0 binds a real port, emits serverStarted(port) before resolving', async (t) => {
  const server = new ENetServerSupervisor();
  let startedWith;
  server.on('serverStarted', (port) => (startedWith = port));
  await server.createServer(0, 8, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => server.stopServer());
  t.true(server.isServerActive());
  t.true(server.getLocalPort() > 0);
  t.is(startedWith, server.getLocalPort());
});

test('createServer rejects a second start with ERR_ALREADY_IN_USE', async (t) => {
  const server = await startServer(t);
  const error = await t.throwsAsync(server.createServer(0));
  t.true(error instanceof ENetError);
  t.is(error.code, Err.ERR_ALREADY_IN_USE);
});

test('createServer rejects a port that is taken with ERR_CANT_CREATE', async (t) => {
  const first = await startServer(t);
  const second = new ENetServerSupervisor();
  const error = await t.throwsAsync(second.createServer(first.getLocalPort(), 4, 2, { bindAddress: '127.0.0.1' }));
  t.is(error.code, Err.ERR_CANT_CREATE);
  t.false(second.isServerActive());
});

test('createServer rejects out-of-range arguments with ERR_INVALID_PARAMETER', async (t) => {
  const server = new ENetServerSupervisor();
  for (const args of [[-1], [70000], [0, 0], [0, 65536], [0, 8, 0], [0, 8, 256], [1.5]]) {
    const error = await t.throwsAsync(server.createServer(...args));
    t.is(error.code, Err.ERR_INVALID_PARAMETER, `args ${JSON.stringify(args)}`);
  }
  t.false(server.isServerActive());
});

test('stopServer disconnects every peer with "Server stopped", emits serverStopped, and the server starts again on another port', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const serverSide = waitFor(server, 'peerDisconnected');
  const clientSide = waitFor(client, 'disconnectedFromServer');
  const stopped = waitFor(server, 'serverStopped');
  await server.stopServer();
  await stopped;
  const [gone, reason] = await serverSide;
  t.is(gone, peer);
  t.is(reason, 'Server stopped');
  t.deepEqual(await clientSide, ['Server stopped']);
  t.false(server.isServerActive());
  t.is(server.getPeerCount(), 0);

  await server.createServer(0, 4, 2, { bindAddress: '127.0.0.1' });
  t.true(server.isServerActive());
  const again = new ENetClient();
  const { peer: newPeer } = await connectClient(t, server, { client: again });
  t.is(newPeer.peerId, 1, 'a new server run numbers peers from 1 again');
});

test('stopServer on a stopped server is a no-op', async (t) => {
  const server = new ENetServerSupervisor();
  await server.stopServer();
  t.false(server.isServerActive());
});

test('setPollRate clamps to at least 1 ms and works on a running server', async (t) => {
  const server = await startServer(t);
  server.setPollRate(0);
  t.is(server.getPollRate(), 1);
  server.setPollRate(25);
  t.is(server.getPollRate(), 25);
  // Traffic still flows at once: the poll rate only bounds the wait when nothing happens.
  const { client } = await connectClient(t, server);
  const received = waitFor(server, 'packetReceived');
  client.sendPacket('hi');
  t.is((await received)[1], 'hi');
});
