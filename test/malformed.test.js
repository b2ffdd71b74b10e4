// Malformed packets from a raw client: dropped, counted, reported once, never fatal.
import test from 'ava';
import { PacketType } from '../dist/index.js';
import { startServer, connectClient, waitFor } from './helpers.js';

const garbage = [
  Buffer.from([0xff, 1, 2, 3]), // unknown type byte
  Buffer.from([PacketType.STRING, 10, 0, 0, 0, 0x61]), // length larger than the body
  Buffer.from([PacketType.STRING, 1, 0, 0, 0, 0xff]), // invalid UTF-8
  Buffer.from([PacketType.JSON, 0, 0]), // truncated length
  Buffer.from([PacketType.MSGPACK, 0xc1]), // never-used msgpack byte
  Buffer.from([PacketType.MSGPACK, 0x92, 0x01]), // array of 2 with one element
  Buffer.concat([Buffer.from([PacketType.MSGPACK]), Buffer.alloc(5000, 0x91), Buffer.from([0x01])]), // nesting 5000 deep
];

test('malformed packets are dropped and counted; rawPacketReceived still sees them; the server carries on', async (t) => {
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const server = await startServer(t, { options: { logger } });
  const { client, peer } = await connectClient(t, server);
  const raws = [];
  const packets = [];
  server.on('rawPacketReceived', (p, data) => raws.push(data));
  server.on('packetReceived', (p, packet) => packets.push(packet));
  for (const bytes of garbage) client.sendRawPacket(bytes);
  const marker = waitFor(server, 'packetReceived');
  client.sendPacket('after the garbage');
  await marker;
  t.deepEqual(packets, ['after the garbage']);
  t.is(raws.length, garbage.length + 1);
  t.deepEqual(raws.slice(0, garbage.length), garbage);
  t.is(server.getMetrics().malformedPackets, garbage.length);
  t.is(warnings.length, 1, 'reported once per peer, then counted silently');
  t.regex(warnings[0], new RegExp(`peer ${peer.peerId}`));
  t.true(server.isServerActive());
});

test('an empty packet is malformed too', async (t) => {
  const server = await startServer(t, { options: { logger: { warn() {}, error() {} } } });
  const { client } = await connectClient(t, server);
  let packets = 0;
  server.on('packetReceived', () => packets++);
  client.sendRawPacket(new Uint8Array(0));
  const marker = waitFor(server, 'packetReceived');
  client.sendPacket(1);
  await marker;
  t.is(packets, 1);
  t.is(server.getMetrics().malformedPackets, 1);
});
