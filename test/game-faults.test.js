// Faults in game actors: handler errors, dying actor threads and injected faults, each while
// several clients stream numbered reliable messages. Every message is handled at least once and, once
// duplicates are removed, in order per peer; peers stay connected with their ids; the poison record is
// set aside; the restarts are reported.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENetServerSupervisor } from '../dist/index.js';
import { connectClient, startServer, until, waitFor } from './helpers.js';

const FAULTY = new URL('./fixtures/game/faulty.mjs', import.meta.url).href;
const N = 400; // messages per client
const FAULT_AT = 150;

function markerDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'enet-faults-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Connects `count` clients and records every ack each receives. */
async function streamers(t, server, count) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const { client, peer } = await connectClient(t, server);
    const acks = [];
    client.on('packetReceived', (p) => p?.ack !== undefined && acks.push(p));
    list.push({ client, peer, acks });
  }
  return list;
}

/** Sends seq from..to-1 from every client, a few at a time, yielding to the event loop between bursts. */
async function stream(clients, from, to, fault) {
  for (let seq = from; seq < to; seq++) {
    for (const [i, { client }] of clients.entries()) {
      client.sendPacket(fault && i === 0 && seq === FAULT_AT ? { seq, ...fault } : { seq });
    }
    if (seq % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The acks' first occurrences, in arrival order. */
const deduplicated = (acks) => {
  const seen = new Set();
  return acks.map((a) => a.ack).filter((seq) => !seen.has(seq) && seen.add(seq));
};

async function checkDelivery(t, server, clients, missing = () => false) {
  for (const [i, { acks, peer, client }] of clients.entries()) {
    const expected = [...Array(N).keys()].filter((seq) => !missing(i, seq));
    await until(() => new Set(acks.map((a) => a.ack)).size >= expected.length, 15000, `client ${i}: ${expected.length} acks`);
    t.deepEqual(deduplicated(acks), expected, `client ${i} (peer ${peer.peerId})`);
    t.true(client.isConnectedToServer());
    t.is(server.getPeer(peer.peerId), peer, 'still connected with its id');
  }
}

test.serial('a handler that throws is reported (actor, handler, peer) and the actor keeps its state and its peers', async (t) => {
  const server = await startServer(t, { options: { gameLogic: FAULTY, gameActors: 2 } });
  const errors = [];
  server.on('error', (e) => errors.push(e));
  const restarts = [];
  server.on('actorRestarted', (...a) => restarts.push(a));
  const clients = await streamers(t, server, 3);
  await stream(clients, 0, N, { fault: 'throw' });
  await checkDelivery(t, server, clients, (i, seq) => i === 0 && seq === FAULT_AT);
  t.is(errors.length, 1);
  const [error] = errors;
  t.is(error.code, 'ERR_GAME_HANDLER');
  t.is(error.handler, 'onPacket');
  t.is(error.peerId, clients[0].peer.peerId);
  t.is(error.actorId, clients[0].peer.peerId % 2);
  t.regex(error.message, /poison 150/);
  // State kept: the per-peer count went on from where it was (N - 1 handled, the poison not counted).
  t.is(clients[0].acks.at(-1).count, N - 1);
  t.deepEqual(restarts, []);
  t.is(server.getMetrics().actors.find((r) => r.kind === 'game' && r.id === error.actorId).handlerErrors, 1);
});

test.serial('restartOnHandlerError: the actor restarts; the poison record, in hand at 3 deaths, is set aside; nothing else is lost', async (t) => {
  const server = await startServer(t, { options: { gameLogic: FAULTY, gameActors: 2, restartOnHandlerError: true } });
  const errors = [];
  server.on('error', (e) => errors.push(e));
  const restarts = [];
  server.on('actorRestarted', (...a) => restarts.push(a));
  const clients = await streamers(t, server, 3);
  await stream(clients, 0, N, { fault: 'throw' });
  await checkDelivery(t, server, clients, (i, seq) => i === 0 && seq === FAULT_AT);
  const actor = clients[0].peer.peerId % 2;
  t.is(server.getMetrics().setAside, 1);
  t.deepEqual(restarts.map(([kind, id]) => `${kind}:${id}`), ['game:' + actor, 'game:' + actor, 'game:' + actor]);
  t.is(errors.filter((e) => e.code === 'ERR_GAME_HANDLER').length, 3);
  const setAside = errors.find((e) => e.code === 'ERR_SET_ASIDE');
  t.truthy(setAside);
  t.is(setAside.peerId, clients[0].peer.peerId);
  t.is(server.getMetrics().actors.find((r) => r.kind === 'game' && r.id === actor).restarts, 3);
});

for (const [fault, title, options] of [
  ['exit', 'a handler that calls process.exit', {}],
  ['oom', 'a handler that allocates until its resourceLimits end the thread', { actorResourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } }],
  ['uncaught', 'an exception thrown outside any handler', {}],
]) {
  test.serial(`${title}: the actor is restarted on the same rings, onStart again, every message handled at least once in order`, async (t) => {
    const server = await startServer(t, { options: { gameLogic: FAULTY, gameActors: 2, ...options } });
    const restarted = waitFor(server, 'actorRestarted', 15000);
    const clients = await streamers(t, server, 3);
    await stream(clients, 0, N, { fault, once: join(markerDir(t), 'done') });
    const [kind, id, reason] = await restarted;
    t.is(kind, 'game');
    t.is(id, clients[0].peer.peerId % 2);
    t.is(typeof reason, 'string');
    await checkDelivery(t, server, clients);
    t.is(server.getMetrics().setAside, 0);
    t.is(server.getMetrics().actorRestarts, 1);
  });
}

test.serial('injectFault(\'game\', id) while clients stream: restarted, nothing lost, peers kept', async (t) => {
  const server = await startServer(t, { options: { gameLogic: FAULTY, gameActors: 2 } });
  const clients = await streamers(t, server, 4);
  const restarted = waitFor(server, 'actorRestarted', 15000);
  await stream(clients, 0, FAULT_AT);
  server.injectFault('game', 1);
  await stream(clients, FAULT_AT, N);
  const [kind, id, reason] = await restarted;
  t.deepEqual([kind, id], ['game', 1]);
  t.regex(reason, /fault injected/);
  await checkDelivery(t, server, clients);
  t.throws(() => server.injectFault('game', 2), { message: /no game actor #2/ });
});

test.serial('injectFault(\'net\') with 50 clients connected and game actors: nobody dropped, nothing lost', async (t) => {
  const server = await startServer(t, { maxPeers: 64, options: { gameLogic: FAULTY, gameActors: 2 } });
  const clients = await streamers(t, server, 50);
  const streaming = clients.slice(0, 5);
  const restarted = waitFor(server, 'actorRestarted', 15000);
  await stream(streaming, 0, FAULT_AT);
  server.injectFault('net');
  await stream(streaming, FAULT_AT, N);
  t.deepEqual((await restarted).slice(0, 2), ['net', 0]);
  await checkDelivery(t, server, streaming);
  t.is(server.getPeerCount(), 50);
  t.true(clients.every(({ client }) => client.isConnectedToServer()));
});

test.serial('past the restart intensity the supervisor gives up on a game actor: \'error\', then the server stops', async (t) => {
  const server = new ENetServerSupervisor();
  await server.createServer(0, 8, 2, {
    bindAddress: '127.0.0.1',
    gameLogic: FAULTY,
    gameActors: 1,
    restartOnHandlerError: true,
    restartPolicy: { intensity: 1, periodMs: 10_000 },
  });
  t.teardown(() => server.stopServer());
  const errors = [];
  server.on('error', (e) => errors.push(e));
  const stopped = waitFor(server, 'serverStopped', 15000);
  const { client } = await connectClient(t, server);
  const gone = waitFor(client, 'disconnectedFromServer', 15000);
  client.sendPacket({ seq: 0, fault: 'throw' });
  await stopped;
  t.false(server.isServerActive());
  const gaveUp = errors.find((e) => e.code === 'ERR_ACTOR_GAVE_UP');
  t.truthy(gaveUp, errors.map((e) => e.code).join());
  t.is(gaveUp.kind, 'game');
  t.is(gaveUp.actorId, 0);
  t.is((await gone)[0], 'Server stopped');
});
