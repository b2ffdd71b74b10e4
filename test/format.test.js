// Per-peer packet format over the wire: MSGPACK by default, VARIANT (Godot) when the server is set to
// PacketFormat.GODOT, when a client is, or when a peer shows it speaks VARIANT/DICTIONARY.
import test from 'ava';
import { ENetClient, Err, NodeSyncFlags, PacketFormat, PacketType, Vector2, Vector3, ENetPacketUtils } from '../dist/index.js';
import { startServer, connectClient, waitFor } from './helpers.js';

/** The next packet the client gets: [type byte, decoded value]. */
async function nextPacket(client) {
  const raw = waitFor(client, 'rawPacketReceived');
  const decoded = waitFor(client, 'packetReceived');
  return [(await raw)[0][0], (await decoded)[0]];
}

test('a server in PacketFormat.GODOT sends structured values as VARIANT; strings and bytes keep their types', async (t) => {
  const server = await startServer(t, { options: { packetFormat: PacketFormat.GODOT } });
  const { client, peer } = await connectClient(t, server);
  let got = nextPacket(client);
  t.is(server.sendPacket(peer.peerId, { hp: 3, pos: new Vector2(1.5, -2) }), Err.OK);
  const [type, value] = await got;
  t.is(type, PacketType.VARIANT);
  t.is(value.hp, 3);
  t.true(value.pos instanceof Vector2);
  t.deepEqual([value.pos.x, value.pos.y], [1.5, -2]);
  got = nextPacket(client);
  server.sendPacket(peer.peerId, 'text');
  t.deepEqual(await got, [PacketType.STRING, 'text']);
});

test('a peer that speaks VARIANT is answered in VARIANT; a MSGPACK peer beside it keeps MSGPACK, broadcasts included', async (t) => {
  const server = await startServer(t);
  const godotLike = new ENetClient();
  godotLike.setPacketFormat(PacketFormat.GODOT);
  t.is(godotLike.getPacketFormat(), PacketFormat.GODOT);
  const a = await connectClient(t, server, { client: godotLike });
  const b = await connectClient(t, server);

  const seen = waitFor(server, 'rawPacketReceived');
  godotLike.sendPacket({ hello: 'from godot' });
  t.is((await seen)[1][0], PacketType.VARIANT);

  let gotA = nextPacket(a.client);
  let gotB = nextPacket(b.client);
  t.is(server.sendPacket(a.peer.peerId, { v: new Vector3(1, 2, 3) }), Err.OK);
  t.is(server.sendPacket(b.peer.peerId, { v: 1 }), Err.OK);
  const [typeA, valueA] = await gotA;
  t.is(typeA, PacketType.VARIANT);
  t.true(valueA.v instanceof Vector3);
  t.deepEqual(await gotB, [PacketType.MSGPACK, { v: 1 }]);

  gotA = nextPacket(a.client);
  gotB = nextPacket(b.client);
  t.is(server.sendPacketToAll({ all: true }), Err.OK);
  t.deepEqual(await gotA, [PacketType.VARIANT, { all: true }]);
  t.deepEqual(await gotB, [PacketType.MSGPACK, { all: true }]);
});

test('a DICTIONARY packet also marks the peer as Godot; node state is always NODE with Godot math types', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const seen = waitFor(server, 'packetReceived');
  client.sendRawPacket(ENetPacketUtils.encodeDictionary({ from: 'raw dictionary' }));
  t.deepEqual((await seen)[1], { from: 'raw dictionary' });
  let got = nextPacket(client);
  server.sendPacket(peer.peerId, { back: 1 });
  t.deepEqual(await got, [PacketType.VARIANT, { back: 1 }]);

  got = nextPacket(client);
  t.is(server.sendNodeState(peer.peerId, { name: 'P', position: { x: 1, y: 2 } }, NodeSyncFlags.SYNC_TRANSFORM_ONLY), Err.OK);
  const [type, node] = await got;
  t.is(type, PacketType.NODE);
  t.true(node.position instanceof Vector2);
});

test('setPacketFormat refuses unknown formats', (t) => {
  const client = new ENetClient();
  t.is(t.throws(() => client.setPacketFormat(7)).code, Err.ERR_INVALID_PARAMETER);
  t.is(client.getPacketFormat(), PacketFormat.MSGPACK);
});
