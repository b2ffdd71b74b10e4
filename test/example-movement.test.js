// examples/movement/game.mjs on real UDP with real ENet clients: inputs move the player, each actor
// sends snapshots of its own players only, a player that leaves is gone from its actor's snapshots.
import test from 'ava';
import { ENetClient } from '../dist/index.js';
import { connectClient, startServer, waitFor } from './helpers.js';
import { SNAPSHOT_CHANNEL, SPEED } from '../examples/movement/game.mjs';

const GAME = new URL('../examples/movement/game.mjs', import.meta.url).href;

const movementServer = (t, gameActors) => startServer(t, { options: { gameLogic: GAME, gameActors } });

/** A connected player: its client, its server-side peer and the payload of its 'welcome' event. */
async function join(t, server) {
  const client = new ENetClient();
  client.registerEvent('welcome', () => {});
  const welcome = waitFor(client, 'customEventReceived', undefined, (name) => name === 'welcome');
  const { peer } = await connectClient(t, server, { client });
  const [, payload] = await welcome;
  return { client, peer, welcome: payload };
}

/** The next snapshot `client` receives that passes `filter`. */
async function snapshot(client, filter = () => true) {
  const [packet] = await waitFor(client, 'packetReceived', undefined, (p, channel) => p?.t === 'state' && channel === SNAPSHOT_CHANNEL && filter(p));
  return packet;
}

const entry = (packet, id) => packet.players.find(([playerId]) => playerId === id);
/** The next snapshot in which `id`'s last applied input is `seq`, as [x, y, tick]. */
const positionAt = async (client, id, seq) => {
  const packet = await snapshot(client, (p) => entry(p, id)?.[3] === seq);
  const [, x, y] = entry(packet, id);
  return [x, y, packet.tick];
};
// Reliable on one channel, so that the test sees them applied in the order sent.
const input = (client, payload) => client.triggerEvent('input', payload, 0, true);

test('inputs move the player in their direction, at most SPEED; invalid or stale inputs are ignored', async (t) => {
  const server = await movementServer(t, 1);
  const { client, peer, welcome } = await join(t, server);
  const id = peer.peerId;
  t.is(welcome.id, id);
  t.is(welcome.actor, 0);
  const [x0, y0] = await positionAt(client, id, 0);
  t.deepEqual([x0, y0], [welcome.x, welcome.y], 'no input yet: still at the spawn point');

  input(client, { seq: 1, dx: 1, dy: -1 }); // right and up, diagonally
  const moved = await snapshot(client, (p) => entry(p, id)?.[3] === 1 && entry(p, id)[1] > x0 + 1);
  const [, x1, y1] = entry(moved, id);
  t.true(y1 < y0, `moved up: ${y0} → ${y1}`);
  t.true(Math.abs(x1 - x0 - (y0 - y1)) < 0.05, `as much right as up: (${x0}, ${y0}) → (${x1}, ${y1})`);

  input(client, { seq: 2, dx: 0, dy: 0 });
  const [xs, ys] = await positionAt(client, id, 2);
  const seen = [];
  const watch = (p) => p?.t === 'state' && seen.push(entry(p, id));
  client.on('packetReceived', watch);
  input(client, { seq: 3, dx: 'fast', dy: 0 });
  input(client, { seq: 4, dx: Number.NaN, dy: 1 });
  input(client, { seq: 5 });
  input(client, { seq: 1, dx: 1, dy: 1 }); // stale
  input(client, { seq: 6.5, dx: 1, dy: 1 });
  input(client, { seq: 7, dx: 0, dy: 0 }); // valid: once it shows, every input before it was handled
  t.deepEqual((await positionAt(client, id, 7)).slice(0, 2), [xs, ys], 'stopped, and the invalid inputs did not move it');
  client.off('packetReceived', watch);
  t.true(seen.every(([, x, y, seq]) => x === xs && y === ys && (seq === 2 || seq === 7)), JSON.stringify(seen));

  input(client, { seq: 8, dx: -1000, dy: 0 }); // clamped to -1: left at SPEED, not 1000 × SPEED
  const [xa, , ta] = await positionAt(client, id, 8);
  const later = await snapshot(client, (p) => p.tick >= ta + 4);
  const [, xb] = entry(later, id);
  t.true(xb < xa, `moved left: ${xa} → ${xb}`);
  // dt is capped at 0.25 s per tick, so this bound holds even on a slow machine.
  t.true(xa - xb <= SPEED * 0.25 * (later.tick - ta) + 0.01, `${xa - xb} units in ${later.tick - ta} ticks`);
});

test('two actors: peers are placed by peerId % 2 and each gets snapshots of its own actor\'s players', async (t) => {
  const server = await movementServer(t, 2);
  const a = await join(t, server);
  const b = await join(t, server);
  t.is(a.welcome.actor, a.peer.peerId % 2);
  t.is(b.welcome.actor, b.peer.peerId % 2);
  t.not(a.welcome.actor, b.welcome.actor);
  const [sa, sb] = await Promise.all([snapshot(a.client), snapshot(b.client)]);
  t.is(sa.actor, a.welcome.actor);
  t.is(sb.actor, b.welcome.actor);
  t.deepEqual(sa.players.map(([id]) => id), [a.peer.peerId]);
  t.deepEqual(sb.players.map(([id]) => id), [b.peer.peerId]);
});

test('a player that disconnects is removed from its actor\'s snapshots', async (t) => {
  const server = await movementServer(t, 2);
  const a = await join(t, server);
  const b = await join(t, server);
  const c = await join(t, server);
  t.is(a.welcome.actor, c.welcome.actor, 'consecutive ids: a and c share an actor');
  const ids = (p) => p.players.map(([id]) => id).sort((x, y) => x - y);
  const both = await snapshot(c.client, (p) => p.players.length === 2);
  t.deepEqual(ids(both), [a.peer.peerId, c.peer.peerId]);

  const left = waitFor(server, 'peerDisconnected', undefined, (peer) => peer.peerId === a.peer.peerId);
  a.client.disconnectFromServer('bye');
  await left;
  const after = await snapshot(c.client, (p) => !entry(p, a.peer.peerId));
  t.deepEqual(ids(after), [c.peer.peerId]);
  t.true(after.tick > both.tick);
  // The other actor's player was never in these snapshots and is still in its own.
  t.deepEqual(ids(await snapshot(b.client)), [b.peer.peerId]);
});
