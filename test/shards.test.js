// Shards: several net actors, each owning one ENet host bound to the same UDP
// port with SO_REUSEPORT, behave as one server. Real UDP, real ENetClients: each client has its own
// socket (source port), so the kernel's hash spreads them over the shards.
import test from 'ava';
import dgram from 'node:dgram';
import { ENetClient, ENetServerSupervisor, Err } from '../dist/index.js';
import { collect, connectClient, startServer, until, waitFor } from './helpers.js';

const BEHAVIOUR = new URL('./fixtures/game/behaviour.mjs', import.meta.url).href;

const netRows = (server) => server.getMetrics().actors.filter((row) => row.kind === 'net');

/**
 * Connects clients until every shard has at least `perShard` peers (bounded: the hash is uneven,
 * but 60 clients leave 3 shards without 2 peers each with odds below 1e-12).
 */
async function spreadClients(t, server, perShard = 2, most = 60) {
  const clients = [];
  while (clients.length < most) {
    clients.push(await connectClient(t, server));
    if (netRows(server).every((row) => row.peers >= perShard)) return clients;
  }
  throw new Error(`after ${most} clients the shards hold ${netRows(server).map((row) => row.peers).join('/')} peers`);
}

test('three shards on one port: unique ids from 1, peers on every shard, one row per shard, stats in total', async (t) => {
  const server = await startServer(t, { maxPeers: 300, options: { netActors: 3 } });
  const clients = await spreadClients(t, server);
  const ids = clients.map(({ peer }) => peer.peerId);
  t.deepEqual([...ids].sort((a, b) => a - b), ids.map((_, i) => i + 1), 'ids 1..n across shards, never two alike');
  const rows = netRows(server);
  t.deepEqual(rows.map((row) => row.id), [0, 1, 2]);
  t.is(rows.reduce((sum, row) => sum + row.peers, 0), clients.length);
  t.is(server.getPeerCount(), clients.length);
  t.is(server.getAuthenticatedPeerCount(), clients.length);

  // Every peer answers on its own shard: a ping and a packet each way for everyone.
  const echoes = clients.map(({ client }, i) => waitFor(client, 'packetReceived', undefined, (p) => p?.back === i));
  server.on('packetReceived', (peer, packet) => peer.sendPacket({ back: packet.n }));
  clients.forEach(({ client }, i) => client.sendPacket({ n: i }));
  await Promise.all(echoes);
  const before = server.getMetrics();
  t.true(before.packetsIn >= clients.length, 'counters are added up over the shards');
  t.true(before.packetsOut >= clients.length);
  await until(() => clients.every(({ peer }) => peer.getPing() > 0 || peer.getStatistic(0) >= 0), undefined, 'stats rows');
  for (const { peer } of clients) t.is(server.getPeer(peer.peerId), peer);
});

test('group sends span every shard: broadcast with exclude, sendPacketToMultiple, events to all, node state', async (t) => {
  const server = await startServer(t, { maxPeers: 200, options: { netActors: 2 } });
  const clients = await spreadClients(t, server);
  const excluded = clients[0];
  const others = clients.slice(1);
  const got = others.map(({ client }) => waitFor(client, 'packetReceived', undefined, (p) => p?.all === 1));
  let excludedGot = 0;
  excluded.client.on('packetReceived', (p) => p?.all === 1 && excludedGot++);
  t.is(server.sendPacketToAll({ all: 1 }, 0, true, [excluded.peer.peerId]), Err.OK);
  await Promise.all(got);

  // A subset that has peers of both shards.
  const byShard = new Map();
  for (const c of clients) byShard.set(c.peer.shard, [...(byShard.get(c.peer.shard) ?? []), c]);
  t.is(byShard.size, 2);
  const subset = [...byShard.values()].map((list) => list[0]);
  const multiple = subset.map(({ client }) => waitFor(client, 'packetReceived', undefined, (p) => p?.some === 2));
  t.is(server.sendPacketToMultiple(subset.map(({ peer }) => peer.peerId), { some: 2 }), Err.OK);
  await Promise.all(multiple);

  const events = clients.map(({ client }) => waitFor(client, 'customEventReceived', undefined, (name) => name === 'news'));
  clients.forEach(({ client }) => client.registerEvent('news', () => {}));
  t.is(server.triggerEventToAll('news', { n: 3 }), Err.OK);
  await Promise.all(events);

  const nodes = clients.map(({ client }) => waitFor(client, 'rawPacketReceived'));
  t.is(server.sendNodeToAll({ name: 'n', position: [1, 2, 3] }, 1), Err.OK);
  await Promise.all(nodes);
  t.is(excludedGot, 0, 'the excluded peer got nothing');
});

test('kick and disconnects on any shard; compression mode applies to every shard', async (t) => {
  const server = await startServer(t, { maxPeers: 200, options: { netActors: 2 } });
  const clients = await spreadClients(t, server, 1);
  const shards = new Set(clients.map(({ peer }) => peer.shard));
  t.is(shards.size, 2);
  for (const shard of shards) {
    const { client, peer } = clients.find((c) => c.peer.shard === shard);
    const gone = waitFor(client, 'disconnectedFromServer');
    const serverSide = waitFor(server, 'peerDisconnected', undefined, (p) => p === peer);
    server.kickPeer(peer.peerId, `bye from shard ${shard}`);
    t.deepEqual(await gone, [`bye from shard ${shard}`]);
    t.is((await serverSide)[1], `bye from shard ${shard}`);
  }
  // A client in range-coder mode can connect only once every shard speaks it.
  server.setCompressionMode(1);
  const ranged = [];
  while (new Set(ranged.map(({ peer }) => peer.shard)).size < 2 && ranged.length < 40) {
    const client = new ENetClient();
    client.setCompressionMode(1);
    ranged.push(await connectClient(t, server, { client }));
  }
  t.is(new Set(ranged.map(({ peer }) => peer.shard)).size, 2, 'range-coder clients on both shards');
});

test('maxPeers above 4,095 is accepted (2 shards by default) and maxPeers is enforced across shards', async (t) => {
  const big = new ENetServerSupervisor();
  await big.createServer(0, 5000, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => big.stopServer());
  t.deepEqual(netRows(big).map((row) => row.id), [0, 1]);

  const server = await startServer(t, { maxPeers: 4, options: { netActors: 2 } });
  const accepted = [];
  const refusedReasons = [];
  for (let i = 0; i < 10 && refusedReasons.length < 2; i++) {
    const client = new ENetClient();
    t.teardown(() => client.disconnectFromServer());
    const outcome = Promise.race([
      waitFor(client, 'disconnectedFromServer').then(([reason]) => ({ reason })),
      waitFor(server, 'peerAuthenticated').then(() => ({ ok: true })),
    ]);
    t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
    const result = await outcome;
    if (result.ok) accepted.push(client);
    else refusedReasons.push(result.reason);
  }
  t.is(accepted.length, 4);
  t.deepEqual(refusedReasons, ['Server full', 'Server full']);
  t.is(server.getPeerCount(), 4);
  t.true(server.getMetrics().refusedConnects.full >= 2);
});

test.serial('one shard\'s net actor fails while both carry traffic: only it restarts, nothing is lost, nobody is dropped', async (t) => {
  const server = await startServer(t, { maxPeers: 200, options: { netActors: 2 } });
  const clients = await spreadClients(t, server, 2);
  const N = 400;
  const seen = new Map(clients.map(({ peer }) => [peer.peerId, []]));
  server.on('packetReceived', (peer, packet) => seen.get(peer.peerId)?.push(packet.i));
  let dropped = 0;
  server.on('peerDisconnected', () => dropped++);
  const restarted = waitFor(server, 'actorRestarted');
  const streams = clients.map(async ({ client }) => {
    for (let i = 0; i < N; i++) {
      while (client.sendPacket({ i }) === Err.ERR_BUSY) await new Promise((resolve) => setImmediate(resolve));
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  await until(() => [...seen.values()].every((list) => list.length > 20), undefined, 'traffic on both shards');
  server.injectFault('net', 1);
  const [kind, id] = await restarted;
  t.deepEqual([kind, id], ['net', 1]);
  await Promise.all(streams);
  await until(() => [...seen.values()].every((list) => list.length === N), undefined, 'every message');
  for (const list of seen.values()) t.deepEqual(list, Array.from({ length: N }, (_, i) => i));
  t.is(dropped, 0);
  const rows = netRows(server);
  t.deepEqual(rows.map((row) => row.restarts), [0, 1]);
  t.throws(() => server.injectFault('net', 2), { code: Err.ERR_INVALID_PARAMETER });
});

test('game actors across shards: each peer\'s packets reach its actor in order; ctx.sendToAll reaches every shard', async (t) => {
  const server = await startServer(t, { maxPeers: 200, options: { netActors: 2, gameLogic: BEHAVIOUR, gameActors: 2 } });
  const disorder = [];
  server.on('actorMessage', (_id, m) => m.t === 'disorder' && disorder.push(m));
  const clients = await spreadClients(t, server, 2);
  const N = 200;
  const acks = clients.map(({ client }) => collect(client, 'packetReceived', N));
  for (let i = 0; i < N; i++) for (const { client } of clients) client.sendPacket({ seq: i });
  const results = await Promise.all(acks);
  for (const list of results) t.deepEqual(list.map(([p]) => p.ack), Array.from({ length: N }, (_, i) => i));
  t.deepEqual(disorder, []);

  const [sender, ...rest] = clients;
  const everyone = rest.map(({ client }) => waitFor(client, 'packetReceived', undefined, (p) => p?.fromAll === sender.peer.peerId));
  const result = waitFor(server, 'actorMessage', undefined, (_id, m) => m.t === 'result' && m.cmd === 'toAll');
  sender.client.sendPacket({ cmd: 'toAll', exclude: [sender.peer.peerId] });
  t.is((await result)[1].err, Err.OK);
  await Promise.all(everyone);
  t.true(new Set(rest.map(({ peer }) => peer.shard)).size === 2);
});

test('stopServer stops every shard: the port is free again', async (t) => {
  const server = new ENetServerSupervisor();
  await server.createServer(0, 100, 2, { bindAddress: '127.0.0.1', netActors: 3 });
  const port = server.getLocalPort();
  await server.stopServer();
  t.is(netRows(server).length, 0);
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', resolve);
  });
  socket.close();
  t.pass();
});
