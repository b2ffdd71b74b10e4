// sendNodeState / sendNodeToAll / client sendNodeState: the body chosen by the flags.
import test from 'ava';
import { NodeSyncFlags, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor, collect } from './helpers.js';

const player = {
  name: 'Player1',
  path: '/root/World/Player1',
  className: 'CharacterBody2D',
  position: { x: 10, y: 20 },
  rotation: 1.5,
  scale: { x: 1, y: 1 },
  properties: { hp: 90, team: 'red' },
  serializeForNetwork: () => ({ hp: 90, ammo: 12 }),
};

test('each flag chooses its body: node, node_transform, node_custom, node_meta', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const got = collect(client, 'packetReceived', 4);
  t.is(server.sendNodeState(peer.peerId, player, NodeSyncFlags.SYNC_PROPERTIES), Err.OK);
  t.is(server.sendNodeState(peer.peerId, player, NodeSyncFlags.SYNC_TRANSFORM_ONLY, 1), Err.OK);
  t.is(server.sendNodeState(peer.peerId, player, NodeSyncFlags.SYNC_CUSTOM | NodeSyncFlags.SYNC_PROPERTIES), Err.OK);
  t.is(server.sendNodeState(peer.peerId, player, NodeSyncFlags.SYNC_METADATA_ONLY), Err.OK);
  const [full, transform, custom, meta] = await got;
  const base = { _class: 'CharacterBody2D', _path: '/root/World/Player1', _name: 'Player1' };
  t.like(full[0], { ...base, _type: 'node', properties: { hp: 90, team: 'red' }, rotation: 1.5 });
  t.is(full[0].position.x, 10);
  t.is(full[0].position.y, 20);
  t.like(transform[0], { ...base, _type: 'node_transform', rotation: 1.5 });
  t.is(transform[0].properties, undefined);
  t.is(transform[1], 1);
  t.deepEqual(custom[0], { ...base, _type: 'node_custom', custom: { hp: 90, ammo: 12 } });
  t.deepEqual(meta[0], { ...base, _type: 'node_meta' });
});

test('sendNodeToAll reaches every authenticated peer; the client can send node state too', async (t) => {
  const server = await startServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const both = Promise.all([waitFor(a.client, 'packetReceived'), waitFor(b.client, 'packetReceived')]);
  t.is(server.sendNodeToAll({ name: 'Door', position: { x: 1, y: 2, z: 3 } }, NodeSyncFlags.SYNC_TRANSFORM_ONLY), Err.OK);
  for (const [packet] of await both) t.like(packet, { _type: 'node_transform', _name: 'Door', _path: 'Door', _class: 'Node' });

  const fromClient = waitFor(server, 'packetReceived');
  t.is(a.client.sendNodeState({ name: 'Me', properties: { x: 1 } }, NodeSyncFlags.SYNC_PROPERTIES), Err.OK);
  t.like((await fromClient)[1], { _type: 'node', _name: 'Me', properties: { x: 1 } });
});

test('sendNodeState refuses unknown peers and non-objects', async (t) => {
  const server = await startServer(t);
  const { peer } = await connectClient(t, server);
  t.is(server.sendNodeState(999, player, NodeSyncFlags.SYNC_PROPERTIES), Err.ERR_INVALID_PARAMETER);
  t.is(server.sendNodeState(peer.peerId, null, NodeSyncFlags.SYNC_PROPERTIES), Err.ERR_INVALID_DATA);
  t.is(server.sendNodeToAll(null, NodeSyncFlags.SYNC_PROPERTIES), Err.ERR_INVALID_DATA);
});

test('the client refuses a null node like the server does; sendNodeToAll before createServer is ERR_UNCONFIGURED', async (t) => {
  const server = await startServer(t);
  const { client } = await connectClient(t, server);
  t.is(client.sendNodeState(null, NodeSyncFlags.SYNC_PROPERTIES), Err.ERR_INVALID_DATA);
  await server.stopServer();
  t.is(server.sendNodeToAll(player, NodeSyncFlags.SYNC_PROPERTIES), Err.ERR_UNCONFIGURED);
  t.is(server.sendPacketToAll('x'), Err.ERR_UNCONFIGURED);
});
