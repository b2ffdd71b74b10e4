// Sending and receiving: types on the wire, channels, reliability, broadcast (encoded once), exclude.
import test from 'ava';
import { ENetClient, Err, PacketType } from '../dist/index.js';
import { startServer, connectClient, waitFor, collect } from './helpers.js';

test('client → server: each value arrives decoded, with its channel, after rawPacketReceived', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const events = [];
  server.on('rawPacketReceived', (p, data, channel) => events.push(['raw', p, data, channel]));
  server.on('packetReceived', (p, packet, channel) => events.push(['packet', p, packet, channel]));
  const done = collect(server, 'packetReceived', 4);
  t.is(client.sendPacket('héllo wörld', 1), Err.OK);
  t.is(client.sendPacket({ type: 'move', x: 1.5, list: [1, 2, 3], nested: { ok: true } }), Err.OK);
  t.is(client.sendPacket(Buffer.from([9, 8, 7])), Err.OK);
  t.is(client.sendPacket(42), Err.OK);
  await done;
  const packets = events.filter((e) => e[0] === 'packet');
  t.deepEqual(packets.map((e) => e[2]), ['héllo wörld', { type: 'move', x: 1.5, list: [1, 2, 3], nested: { ok: true } }, Buffer.from([9, 8, 7]), 42]);
  t.deepEqual(packets.map((e) => e[3]), [1, 0, 0, 0]);
  t.true(packets.every((e) => e[1] === peer));
  // Every packet is first announced raw, in order, with its wire bytes.
  t.deepEqual(events.map((e) => e[0]), ['raw', 'packet', 'raw', 'packet', 'raw', 'packet', 'raw', 'packet']);
  const firstRaw = events[0][2];
  t.is(firstRaw[0], PacketType.STRING);
  t.is(firstRaw.readUInt32LE(1), Buffer.byteLength('héllo wörld'));
  t.is(events[4][2][0], PacketType.RAW);
  t.is(events[2][2][0], PacketType.MSGPACK);
});

test('server → client: sendPacket and peer.sendPacket deliver decoded values', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const received = collect(client, 'packetReceived', 3);
  t.is(server.sendPacket(peer.peerId, { type: 'welcome' }, 0, true), Err.OK);
  t.is(peer.sendPacket('text', 1), Err.OK);
  t.is(server.sendPacket(peer.peerId, [1, 'two', null], 0, false), Err.OK);
  const got = await received;
  t.deepEqual(got, [[{ type: 'welcome' }, 0], ['text', 1], [[1, 'two', null], 0]]);
});

test('sendRawPacket puts the bytes on the wire without a type byte', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const raw = waitFor(client, 'rawPacketReceived');
  t.is(peer.sendRawPacket(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 1), Err.OK);
  const [data, channel] = await raw;
  t.deepEqual([...data], [0xde, 0xad, 0xbe, 0xef]);
  t.is(channel, 1);
});

test('1000 reliable packets arrive complete and in order', async (t) => {
  const server = await startServer(t);
  const { client } = await connectClient(t, server);
  const all = collect(server, 'packetReceived', 1000, 15000);
  for (let i = 0; i < 1000; i++) t.is(client.sendPacket({ i }), Err.OK);
  const got = await all;
  t.deepEqual(got.map(([, packet]) => packet.i), [...Array(1000).keys()]);
});

test('sendPacketToAll reaches every authenticated peer except the excluded ones; broadcastPacket reaches all', async (t) => {
  const server = await startServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const c = await connectClient(t, server);
  const gotB = waitFor(b.client, 'packetReceived');
  const gotC = waitFor(c.client, 'packetReceived');
  let aGot = 0;
  a.client.on('packetReceived', (packet) => packet.type === 'chat' && aGot++);
  t.is(server.sendPacketToAll({ type: 'chat', msg: 'hi' }, 0, true, [a.peer.peerId]), Err.OK);
  t.deepEqual((await gotB)[0], { type: 'chat', msg: 'hi' });
  t.deepEqual((await gotC)[0], { type: 'chat', msg: 'hi' });

  const all = Promise.all([a, b, c].map(({ client }) => waitFor(client, 'packetReceived', undefined, (p) => p.type === 'all')));
  server.broadcastPacket({ type: 'all' }, 1);
  const results = await all;
  t.true(results.every(([packet, channel]) => packet.type === 'all' && channel === 1));
  t.is(aGot, 0, 'the excluded peer never got the chat message');
});

test('a broadcast is queued as one ENet packet for all targets (packetsOut counts each peer)', async (t) => {
  const server = await startServer(t);
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connectClient(t, server));
  const before = server.getMetrics().packetsOut;
  const arrived = Promise.all(clients.map(({ client }) => waitFor(client, 'packetReceived')));
  server.sendPacketToAll('x'.repeat(100));
  await arrived;
  t.is(server.getMetrics().packetsOut - before, 3);
});

test('sendPacketToMultiple reaches exactly the listed peers and skips unknown ids', async (t) => {
  const server = await startServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const c = await connectClient(t, server);
  const cGot = [];
  c.client.on('packetReceived', (packet) => cGot.push(packet));
  const both = Promise.all([waitFor(a.client, 'packetReceived'), waitFor(b.client, 'packetReceived')]);
  t.is(server.sendPacketToMultiple([a.peer.peerId, b.peer.peerId, 999], 'to some'), Err.OK);
  t.deepEqual((await both).map(([p]) => p), ['to some', 'to some']);
  // Reliable packets on one channel arrive in order: once c has the later one, it would have had the earlier one.
  const later = waitFor(c.client, 'packetReceived');
  server.sendPacket(c.peer.peerId, 'later');
  await later;
  t.deepEqual(cGot, ['later']);
});

test('send errors: unknown peer, bad channel, unencodable value, oversize packet', async (t) => {
  const server = await startServer(t, { channels: 2, options: { maxPacketSize: 1024 } });
  const { client, peer } = await connectClient(t, server);
  t.is(server.sendPacket(12345, 'x'), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacket(peer.peerId, 'x', 2), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacket(peer.peerId, 'x', -1), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacket(peer.peerId, () => 1), Err.ERR_INVALID_DATA);
  t.is(server.sendPacket(peer.peerId, 'y'.repeat(2000)), Err.ERR_INVALID_DATA);
  t.is(client.sendPacket('x', 5), Err.ERR_INVALID_PARAMETER);
  // Nothing bad was sent; a good packet still goes through.
  const ok = waitFor(client, 'packetReceived');
  t.is(server.sendPacket(peer.peerId, 'fine'), Err.OK);
  t.is((await ok)[0], 'fine');
});

test('a peer that opened fewer channels: a send on a channel it lacks is refused, group sends leave it out', async (t) => {
  const server = await startServer(t, { channels: 2 });
  const narrow = await connectClient(t, server, { channels: 1 });
  const wide = await connectClient(t, server, { channels: 2 });
  t.is(narrow.peer.sendPacket('on channel 1', 1), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacket(narrow.peer.peerId, 'on channel 1', 1), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendPacketToMultiple([narrow.peer.peerId], 'on channel 1', 1), Err.ERR_INVALID_PARAMETER);

  const narrowGot = [];
  narrow.client.on('packetReceived', (packet, channel) => narrowGot.push([packet, channel]));
  const wideGot = waitFor(wide.client, 'packetReceived');
  t.is(server.sendPacketToAll('to all on 1', 1), Err.OK);
  t.deepEqual(await wideGot, ['to all on 1', 1]);
  // Channel 0 still reaches the narrow peer; nothing else came to it.
  const narrowLater = waitFor(narrow.client, 'packetReceived');
  t.is(server.sendPacket(narrow.peer.peerId, 'on channel 0', 0), Err.OK);
  t.deepEqual(await narrowLater, ['on channel 0', 0]);
  t.deepEqual(narrowGot, [['on channel 0', 0]]);
});

test('sending from a disconnected client returns an error instead of losing the packet silently', (t) => {
  const client = new ENetClient();
  t.not(client.sendPacket('x'), Err.OK);
  t.not(client.triggerEvent('e', {}), Err.OK);
});
