// One send engine (src/common/send-engine.ts): the main thread and a game actor answer the same sends
// with the same Err — a server of 4 channels, a client that opened 2, maxPacketSize 1024. Before the
// engine, group sends on a channel the client lacks answered OK in an actor (ERR_INVALID_PARAMETER on
// the main thread), an actor accepted channels up to 254, never counted busySkipped, and its kick
// threw when the reason could not be encoded.
import test from 'ava';
import { ENetServerSupervisor, ENetClient, Err } from '../dist/index.js';
import { waitFor, WAIT_MS } from './helpers.js';

const PROBE = new URL('./fixtures/game/send-probe.mjs', import.meta.url).href;
const BIG = 'x'.repeat(4096);

/** [case, the ctx call (fixture op), the same call on the main thread]. */
const CASES = [
  ['send on a channel the peer did not open', { op: 'send', channel: 3 }, (s, id) => s.sendPacket(id, 'p', 3)],
  ['send on an open channel', { op: 'send', channel: 1 }, (s, id) => s.sendPacket(id, 'p', 1)],
  ['send to an unknown peer', { op: 'send', to: 99999, channel: 0 }, (s) => s.sendPacket(99999, 'p', 0)],
  ['sendRaw of something that is not bytes', { op: 'sendRaw', bytes: 'notBytes', channel: 0 }, (s, id) => s.getPeer(id).sendRawPacket('notBytes', 0)],
  ['sendRaw on a channel the peer did not open', { op: 'sendRaw', channel: 2 }, (s, id) => s.getPeer(id).sendRawPacket(Uint8Array.from([0, 1]), 2)],
  ['to all on a channel only the server has', { op: 'toAll', channel: 3 }, (s) => s.sendPacketToAll('p', 3)],
  ['to all past the server\'s channels', { op: 'toAll', channel: 4 }, (s) => s.sendPacketToAll('p', 4)],
  ['to all on a channel past ENet\'s', { op: 'toAll', channel: 300 }, (s) => s.sendPacketToAll('p', 300)],
  ['to all on an open channel', { op: 'toAll', channel: 1 }, (s) => s.sendPacketToAll('p', 1)],
  ['to all, exclude not an array', { op: 'toAll', channel: 0, exclude: 'nope' }, (s) => s.sendPacketToAll('p', 0, true, 'nope')],
  ['to multiple on a channel only the server has', { op: 'toMultiple', ids: 'self', channel: 3 }, (s, id) => s.sendPacketToMultiple([id], 'p', 3)],
  ['to multiple, ids not an array', { op: 'toMultiple', ids: 7, channel: 0 }, (s) => s.sendPacketToMultiple(7, 'p', 0)],
  ['to multiple, nobody known', { op: 'toMultiple', ids: [99999], channel: 0 }, (s) => s.sendPacketToMultiple([99999], 'p', 0)],
  ['event with an empty name', { op: 'event', name: '', channel: 0 }, (s, id) => s.triggerEvent(id, '', {}, 0)],
  ['event with an array payload', { op: 'event', name: 'e', payload: [1], channel: 0 }, (s, id) => s.triggerEvent(id, 'e', [1], 0)],
  ['event to all on a channel only the server has', { op: 'eventToAll', name: 'e', channel: 3 }, (s) => s.triggerEventToAll('e', {}, 3)],
  ['a packet over maxPacketSize', { op: 'big' }, (s, id) => s.sendPacket(id, BIG, 0)],
  ['a packet over maxPacketSize to all', { op: 'bigToAll' }, (s) => s.sendPacketToAll(BIG, 0)],
];

async function serverAndClient(t, options) {
  const server = new ENetServerSupervisor();
  await server.createServer(0, 8, 4, { bindAddress: '127.0.0.1', maxPacketSize: 1024, ...options });
  t.teardown(() => server.stopServer());
  const client = new ENetClient({ maxPacketSize: 1024 });
  t.teardown(() => client.disconnectFromServer());
  const joined = waitFor(server, 'peerAuthenticated');
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort(), 2), Err.OK);
  await waitFor(client, 'connectedToServer');
  const [peer] = await joined;
  return { server, client, peer };
}

async function actorAnswers(t, server, client, probe) {
  const posted = waitFor(server, 'actorMessage');
  t.is(client.sendPacket({ probe }), Err.OK);
  const [, message] = await posted;
  return message.answers;
}

test('the main thread and a game actor answer every send the same way', async (t) => {
  const main = await serverAndClient(t, {});
  const actor = await serverAndClient(t, { gameLogic: PROBE, gameActors: 1 });
  const fromActor = await actorAnswers(t, actor.server, actor.client, CASES.map(([, op]) => op));
  const fromMain = CASES.map(([, , call]) => call(main.server, main.peer.peerId));
  for (let i = 0; i < CASES.length; i++) t.is(fromActor[i], fromMain[i], `${CASES[i][0]}: actor ${fromActor[i]}, main thread ${fromMain[i]}`);
  // The cases that had drifted, by value:
  const answer = (name) => fromActor[CASES.findIndex(([n]) => n === name)];
  t.is(answer('to all on a channel only the server has'), Err.ERR_INVALID_PARAMETER);
  t.is(answer('to multiple on a channel only the server has'), Err.ERR_INVALID_PARAMETER);
  t.is(answer('to all past the server\'s channels'), Err.ERR_INVALID_PARAMETER);
  t.is(answer('to all on an open channel'), Err.OK);
});

test('a kick whose reason cannot be encoded still disconnects, from a game actor as from the main thread', async (t) => {
  for (const options of [{}, { gameLogic: PROBE, gameActors: 1 }]) {
    const { server, client, peer } = await serverAndClient(t, options);
    const errors = [];
    server.on('error', (error) => errors.push(error));
    const gone = waitFor(server, 'peerDisconnected');
    const clientGone = waitFor(client, 'disconnectedFromServer');
    if (options.gameLogic) {
      const posted = waitFor(server, 'actorMessage');
      client.sendPacket({ probe: [{ op: 'kickHuge', to: peer.peerId }] });
      const [, message] = await posted;
      t.deepEqual(message.answers, [Err.OK]);
    } else {
      server.kickPeer(peer.peerId, BIG);
    }
    const [who] = await gone;
    t.is(who.peerId, peer.peerId);
    await clientGone;
    t.false(errors.some((error) => error.code === 'ERR_GAME_HANDLER'), 'the kick did not throw in the handler');
  }
});

test('group sends left out for maxQueuedBytesPerPeer are counted in busySkipped, from a game actor too', async (t) => {
  const packet = 'y'.repeat(900);
  for (const options of [{}, { gameLogic: PROBE, gameActors: 1 }]) {
    const { server, client } = await serverAndClient(t, { ...options, maxQueuedBytesPerPeer: 1024 });
    const answers = options.gameLogic
      ? (await actorAnswers(t, server, client, [{ op: 'toAllMany', n: 40, size: packet.length }]))[0]
      : Array.from({ length: 40 }, () => server.sendPacketToAll(packet, 0));
    t.true(answers.includes(Err.ERR_INVALID_PARAMETER), `some sends found every target over budget: ${answers}`);
    const deadline = Date.now() + WAIT_MS;
    while (server.getMetrics().busySkipped === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    t.true(server.getMetrics().busySkipped > 0, `${options.gameLogic ? 'game actor' : 'main thread'}: busySkipped ${server.getMetrics().busySkipped}`);
  }
});
