// Supervision: the net actor's thread fails from the inside (injectFault) and is restarted on the
// same native ENet host, so connected peers stay connected and no accepted message is lost.
import test from 'ava';
import { ENetServerSupervisor, Err } from '../dist/index.js';
import { startServer, connectClient, collect, waitFor } from './helpers.js';

test('a crashed net actor is restarted; the peer stays connected and traffic flows both ways', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  let disconnected = 0;
  server.on('peerDisconnected', () => disconnected++);
  const restarted = waitFor(server, 'actorRestarted');
  server.injectFault('net');
  const [kind, id, reason] = await restarted;
  t.is(kind, 'net');
  t.is(id, 0);
  t.regex(reason, /fault injected/);
  t.is(server.getMetrics().actorRestarts, 1);

  const got = waitFor(server, 'packetReceived');
  client.sendPacket('after the restart');
  const [from, packet] = await got;
  t.is(from, peer);
  t.is(packet, 'after the restart');
  const echoed = waitFor(client, 'packetReceived');
  t.is(server.sendPacket(peer.peerId, { back: true }), Err.OK);
  t.deepEqual((await echoed)[0], { back: true });
  t.is(disconnected, 0);
  t.true(client.isConnectedToServer());
});

test('messages sent while the net actor is down arrive after its restart, complete and in order', async (t) => {
  // A long first backoff keeps the actor down while both sides send.
  const server = await startServer(t, { options: { restartPolicy: { backoffMs: 300 } } });
  const { client, peer } = await connectClient(t, server);
  const restarted = waitFor(server, 'actorRestarted');
  const inbound = collect(server, 'packetReceived', 200);
  const outbound = collect(client, 'packetReceived', 200);
  server.injectFault('net');
  for (let i = 0; i < 200; i++) {
    t.is(client.sendPacket({ i }), Err.OK);
    t.is(server.sendPacket(peer.peerId, { i }), Err.OK);
  }
  await restarted;
  t.deepEqual((await inbound).map(([, packet]) => packet.i), [...Array(200).keys()]);
  t.deepEqual((await outbound).map(([packet]) => packet.i), [...Array(200).keys()]);
});

test('past the restart intensity the supervisor gives up: error, then the server stops', async (t) => {
  const server = new ENetServerSupervisor();
  await server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', restartPolicy: { intensity: 1, periodMs: 60_000, backoffMs: 1 } });
  t.teardown(() => server.stopServer());
  const errors = [];
  server.on('error', (error) => errors.push(error));
  const first = waitFor(server, 'actorRestarted');
  server.injectFault('net');
  await first;
  const stopped = waitFor(server, 'serverStopped');
  server.injectFault('net');
  await stopped;
  t.false(server.isServerActive());
  t.is(errors.length, 1);
  t.regex(errors[0].message, /failed too often/);
});

test('injectFault refuses what it cannot do', async (t) => {
  const server = new ENetServerSupervisor();
  t.is(t.throws(() => server.injectFault('net')).code, Err.ERR_UNCONFIGURED);
  await server.createServer(0, 4, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => server.stopServer());
  t.is(t.throws(() => server.injectFault('game')).code, Err.ERR_UNAVAILABLE);
  t.is(t.throws(() => server.injectFault('net', 3)).code, Err.ERR_INVALID_PARAMETER);
});

test('a restart policy that is not one is refused', async (t) => {
  const server = new ENetServerSupervisor();
  for (const restartPolicy of [{ intensity: -1 }, { backoffMs: Number.NaN }, { strategy: 'one_for_all' }]) {
    const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', restartPolicy }));
    t.is(error.code, Err.ERR_INVALID_PARAMETER);
  }
  t.false(server.isServerActive());
});
