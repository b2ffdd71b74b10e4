// Game logic in actors: game actors on real UDP with real ENet clients — order per peer,
// placement, the peer view, what flows on to the main-thread signals, ctx, ticks, stop.
import test from 'ava';
import { ENetClient, ENetServerSupervisor, AuthMode, Err } from '../dist/index.js';
import { collect, connectClient, startServer, until, waitFor } from './helpers.js';

const BEHAVIOUR = new URL('./fixtures/game/behaviour.mjs', import.meta.url).href;
const TICKS = new URL('./fixtures/game/ticks.mjs', import.meta.url).href;
const EMPTY = new URL('./fixtures/game/empty.mjs', import.meta.url).href;

const actorServer = (t, extra = {}, setup) =>
  startServer(t, { options: { gameLogic: BEHAVIOUR, gameActors: 2, ...extra }, setup });

/** Resolves with the next 'actorMessage' whose message passes `filter`. */
const message = (server, filter) => waitFor(server, 'actorMessage', undefined, (_id, m) => filter(m)).then(([id, m]) => ({ id, ...m }));

test.serial('createServer resolves after every actor ran onStart; getMetrics has a row per actor', async (t) => {
  const started = new Set();
  const server = await startServer(t, {
    options: { gameLogic: BEHAVIOUR, gameActors: 3 },
    setup: (s) => s.on('actorMessage', (id, m) => m.t === 'start' && started.add(id)),
  });
  await until(() => started.size === 3, undefined, 'three start messages');
  const rows = server.getMetrics().actors;
  t.deepEqual(rows.map((r) => `${r.kind}:${r.id}`), ['net:0', 'game:0', 'game:1', 'game:2']);
  for (const row of rows) {
    t.is(row.restarts, 0);
    t.is(typeof row.inboundDepth, 'number');
    t.is(typeof row.outboundDepth, 'number');
  }
});

test.serial('several actors: each peer\'s packets are handled in the order sent, by the actor of peerId % 2', async (t) => {
  const server = await actorServer(t);
  const disorder = [];
  server.on('actorMessage', (_id, m) => m.t === 'disorder' && disorder.push(m));
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await connectClient(t, server));
  const N = 300;
  const acks = clients.map(({ client, peer }) => {
    const got = [];
    const done = new Promise((resolve) => {
      client.on('packetReceived', (p) => {
        if (p?.ack === undefined) return;
        got.push(p);
        if (got.length === N) resolve(got);
      });
    });
    for (let seq = 0; seq < N; seq++) client.sendPacket({ seq });
    return done.then((list) => ({ list, peer }));
  });
  for (const { list, peer } of await Promise.all(acks)) {
    t.deepEqual(list.map((p) => p.ack), [...Array(N).keys()]);
    t.true(list.every((p) => p.actor === peer.peerId % 2), `peer ${peer.peerId} handled by actor ${peer.peerId % 2}`);
  }
  t.deepEqual(disorder, []);
  const metrics = server.getMetrics();
  const rows = metrics.actors.filter((r) => r.kind === 'game');
  t.true(rows.every((r) => r.handled >= (N * 4) / 2), JSON.stringify(rows));
  t.deepEqual(rows.map((r) => r.peers), [2, 2]);
  t.is(metrics.actors[0].peers, 4);
  t.true(metrics.actors[0].handled >= N * 4);
  t.true(metrics.memoryRss > 10e6 && Number.isFinite(metrics.cpuPercent), `${metrics.memoryRss} ${metrics.cpuPercent}`);
});

test.serial('packets sent right after authentication are not lost or overtaken (prelogin, async approval)', async (t) => {
  const server = await actorServer(t, {}, (s) => {
    s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
    // Approved a little later, while the client already streams: those packets reach the actor in order.
    s.setCustomAuthenticator(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return true;
    });
  });
  const disorder = [];
  server.on('actorMessage', (_id, m) => m.t === 'disorder' && disorder.push(m));
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const authenticated = waitFor(server, 'peerAuthenticated');
  client.on('connectedToServer', () => {
    client.sendPacket({ login: 'ann' });
  });
  client.connectToServer('127.0.0.1', server.getLocalPort());
  await authenticated;
  // The first packets race the route's hand-over to the actor: sent at once, in one burst.
  const N = 200;
  const got = collect(client, 'packetReceived', N);
  for (let seq = 0; seq < N; seq++) client.sendPacket({ seq });
  const acks = (await got).map(([p]) => p.ack);
  t.deepEqual(acks, [...Array(N).keys()]);
  t.deepEqual(disorder, []);
});

test.serial('a login followed at once by a burst: the packets behind the login reach the actor in order (sync approval)', async (t) => {
  const server = await actorServer(t, {}, (s) => {
    s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
    s.setCustomAuthenticator(() => true);
  });
  const disorder = [];
  server.on('actorMessage', (_id, m) => m.t === 'disorder' && disorder.push(m));
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const N = 300;
  const got = collect(client, 'packetReceived', N);
  // Approved while the supervisor handles the login: what follows it in the same batch is already
  // in the supervisor's ring and is forwarded to the actor ahead of anything routed there directly.
  client.on('connectedToServer', () => {
    client.sendPacket({ login: 'ann' });
    for (let seq = 0; seq < N; seq++) client.sendPacket({ seq });
  });
  client.connectToServer('127.0.0.1', server.getLocalPort());
  t.deepEqual((await got).map(([p]) => p.ack), [...Array(N).keys()]);
  t.deepEqual(disorder, []);
  t.is(server.getMetrics().droppedUnauthenticated, 0);
});

test.serial('placePeer places by the custom data the authenticator stored; the actor sees a structured clone of it', async (t) => {
  const server = await actorServer(t, { placePeer: (peer) => peer.getCustomData().match }, (s) => {
    s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
    s.setCustomAuthenticator((peer, login) => {
      peer.setCustomData({ match: login.match, name: login.name, since: new Date(0), tags: new Map([['a', 1]]) });
      return true;
    });
  });
  const joins = [];
  server.on('actorMessage', (id, m) => m.t === 'joined' && joins.push({ id, ...m }));
  for (const [name, match] of [['ann', 1], ['bob', 0], ['cy', 1]]) {
    const client = new ENetClient();
    t.teardown(() => client.disconnectFromServer());
    client.on('connectedToServer', () => client.sendPacket({ name, match }));
    const authenticated = waitFor(server, 'peerAuthenticated');
    client.connectToServer('127.0.0.1', server.getLocalPort());
    await authenticated;
  }
  await until(() => joins.length === 3, undefined, 'three joins');
  for (const join of joins) {
    t.is(join.id, join.peer.customData.match, `${join.peer.customData.name} on its match's actor`);
    t.true(join.peer.customData.since instanceof Date);
    t.true(join.peer.customData.tags instanceof Map);
    t.is(join.peer.remoteAddress, '127.0.0.1');
    t.is(typeof join.peer.remotePort, 'number');
  }
});

test.serial('placePeer that throws or returns an invalid index: the peer is rejected with "Server error" and \'error\' emitted', async (t) => {
  let verdict = () => 7;
  const server = await actorServer(t, { placePeer: () => verdict() });
  const errors = [];
  server.on('error', (e) => errors.push(e));
  for (const place of [() => 7, () => { throw new Error('no room'); }]) {
    verdict = place;
    const client = new ENetClient();
    t.teardown(() => client.disconnectFromServer());
    const gone = waitFor(client, 'disconnectedFromServer');
    client.connectToServer('127.0.0.1', server.getLocalPort());
    const [reason] = await gone;
    t.is(reason, 'Server error');
  }
  t.is(errors.length, 2);
  t.true(errors.every((e) => e.code === 'ERR_PLACEMENT'));
  t.regex(errors[1].message, /no room/);
});

test.serial('what a module does not handle flows on to the supervisor\'s signals; handled events do not', async (t) => {
  const server = await startServer(t, { options: { gameLogic: EMPTY, gameActors: 2 } });
  const { client, peer } = await connectClient(t, server);
  const raw = [];
  server.on('rawPacketReceived', (p, data) => raw.push(data[0]));
  server.registerEvent('hello', (p, payload) => server.sendPacket(p.peerId, { hi: payload.n }));
  const packet = waitFor(server, 'packetReceived');
  client.sendPacket({ plain: true });
  const [from, value] = await packet;
  t.is(from, peer);
  t.deepEqual(value, { plain: true });
  const answer = waitFor(client, 'packetReceived');
  client.triggerEvent('hello', { n: 5 });
  t.deepEqual((await answer)[0], { hi: 5 });
  const unknown = waitFor(server, 'unknownEventReceived');
  client.triggerEvent('nobody', { x: 1 });
  t.is((await unknown)[1], 'nobody');
  t.true(raw.length >= 3);

  // With a module that lists 'ping' and has onPacket: neither reaches the main thread.
  const behaviour = await actorServer(t);
  const c2 = (await connectClient(t, behaviour)).client;
  const mainSaw = [];
  behaviour.on('packetReceived', (_p, v) => mainSaw.push(v));
  behaviour.on('customEventReceived', (_p, name) => mainSaw.push(name));
  const pong = waitFor(c2, 'unknownEventReceived');
  c2.triggerEvent('ping', { n: 1 });
  t.is((await pong)[0], 'pong');
  const other = waitFor(behaviour, 'unknownEventReceived');
  c2.triggerEvent('notListed', {});
  t.is((await other)[1], 'notListed');
  t.deepEqual(mainSaw, [{ _event: 'notListed' }]);
});

test.serial('a malformed packet to an actor is counted and reported by the supervisor, and the peer keeps being served', async (t) => {
  const server = await actorServer(t);
  const { client } = await connectClient(t, server);
  const raw = waitFor(server, 'rawPacketReceived');
  client.sendRawPacket(Uint8Array.from([6, 0xc1])); // MSGPACK type byte, then a byte msgpack never uses
  await raw;
  t.is(server.getMetrics().malformedPackets, 1);
  const ack = waitFor(client, 'packetReceived');
  client.sendPacket({ seq: 0 });
  t.is((await ack)[0].ack, 0);
});

test.serial('ctx: peers(), sendToAll with exclude across actors, sendToMultiple, send to another actor\'s peer, raw, events, bad arguments', async (t) => {
  const server = await actorServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const c = await connectClient(t, server);
  const ids = [a, b, c].map((x) => x.peer.peerId);

  const peersOf = waitFor(a.client, 'packetReceived');
  a.client.sendPacket({ cmd: 'peers' });
  const [{ peers, actor }] = await peersOf;
  t.deepEqual(peers, ids.filter((id) => id % 2 === actor));

  // sendToAll from a's actor reaches b and c (whatever their actor), not the excluded a.
  const seenAll = [];
  for (const x of [a, b, c]) x.client.on('packetReceived', (p) => p?.fromAll && seenAll.push(x.peer.peerId));
  const resultAll = message(server, (m) => m.cmd === 'toAll');
  a.client.sendPacket({ cmd: 'toAll', exclude: [ids[0]] });
  t.is((await resultAll).err, Err.OK);
  await until(() => seenAll.length === 2, undefined, 'two fromAll');
  t.deepEqual(seenAll.sort(), [ids[1], ids[2]].sort());

  const multi = waitFor(c.client, 'packetReceived', undefined, (p) => p?.fromMultiple !== undefined);
  const resultMulti = message(server, (m) => m.cmd === 'toMultiple');
  a.client.sendPacket({ cmd: 'toMultiple', ids: [ids[2], 424242] });
  t.is((await resultMulti).err, Err.OK);
  t.is((await multi)[0].fromMultiple, ids[0]);

  const direct = waitFor(b.client, 'packetReceived', undefined, (p) => p?.direct !== undefined);
  a.client.sendPacket({ cmd: 'sendTo', to: ids[1] });
  t.is((await direct)[0].direct, ids[0]);

  const news = [];
  for (const x of [a, b, c]) x.client.on('unknownEventReceived', (name, payload) => name === 'news' && news.push([x.peer.peerId, payload.from]));
  b.client.sendPacket({ cmd: 'eventToAll' });
  await until(() => news.length === 2, undefined, 'two news');
  t.deepEqual(news.map(([id]) => id).sort(), [ids[0], ids[2]].sort());

  const raw = waitFor(a.client, 'rawPacketReceived');
  a.client.sendPacket({ cmd: 'raw' });
  t.deepEqual([...(await raw)[0]], [0, 7, 7, 7]);

  const bad = message(server, (m) => m.cmd === 'badChannel');
  a.client.sendPacket({ cmd: 'badChannel' });
  const result = await bad;
  t.is(result.err, Err.ERR_INVALID_PARAMETER);
  t.is(result.unknown, Err.ERR_INVALID_PARAMETER);
});

test.serial('ctx.kick disconnects with its reason on both ends; the actor and the supervisor both hear it', async (t) => {
  const server = await actorServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const clientGone = waitFor(b.client, 'disconnectedFromServer');
  const serverGone = waitFor(server, 'peerDisconnected');
  const actorHeard = message(server, (m) => m.t === 'left');
  a.client.sendPacket({ cmd: 'kick', who: b.peer.peerId, reason: 'cheating' });
  t.is((await clientGone)[0], 'cheating');
  const [peer, reason] = await serverGone;
  t.is(peer, b.peer);
  t.is(reason, 'cheating');
  const left = await actorHeard;
  t.is(left.peerId, b.peer.peerId);
  t.is(left.reason, 'cheating');
  t.is(left.id, b.peer.peerId % 2);
  t.is(server.getPeerCount(), 1);
});

test.serial('the main thread\'s kickPeer and a client\'s own disconnect reach the actor with the right reason', async (t) => {
  const server = await actorServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const kicked = message(server, (m) => m.t === 'left' && m.peerId === a.peer.peerId);
  server.kickPeer(a.peer.peerId, 'bye');
  t.is((await kicked).reason, 'bye');
  const lost = message(server, (m) => m.t === 'left' && m.peerId === b.peer.peerId);
  b.client.disconnectFromServer();
  t.is((await lost).reason, 'Connection lost');
});

test.serial('async handlers run one at a time per actor, in order', async (t) => {
  const server = await actorServer(t);
  const { client } = await connectClient(t, server);
  const done = [];
  client.on('unknownEventReceived', (name, payload) => name === 'slowDone' && done.push(payload.n));
  for (let n = 0; n < 5; n++) client.triggerEvent('slow', { n });
  await until(() => done.length === 5, undefined, 'five slow events');
  t.deepEqual(done, [0, 1, 2, 3, 4]);
});

test.serial('onTick runs at tickRate with dt in seconds; a slow tick delays the next one instead of piling ticks up', async (t) => {
  const server = await startServer(t, { options: { gameLogic: TICKS, gameActors: 1 } });
  const [, report] = await waitFor(server, 'actorMessage', 8000, (_id, m) => m.t === 'ticks');
  // 50 Hz: 0.02 s apart on average.
  const normal = report.dts.slice(0, 20);
  const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
  t.true(mean > 0.015 && mean < 0.04, `mean dt ${mean}`);
  // Tick 25 took 100 ms (5 periods): the next tick comes once (dt ≈ 0.1), then the pace is back.
  // Piling up would run the 5 missed ticks back to back (dts ≈ 0).
  t.true(report.dts[25] >= 0.09, `dt after the slow tick ${report.dts[25]}`);
  const after = report.dts.slice(26, 31).reduce((a, b) => a + b, 0);
  t.true(after >= 0.06, `the 5 ticks after the slow one took ${after} s: ${JSON.stringify(report.dts)}`);
});

/** Sends 30 packets 10 ms apart and collects the at-tick fixture's reports until all 30 were handled. */
async function deliveryTimes(t, gameLogic) {
  const server = await startServer(t, { options: { gameLogic, gameActors: 1 } });
  const reports = [];
  server.on('actorMessage', (_id, m) => m.t === 'tick' && reports.push(m));
  const { client } = await connectClient(t, server);
  for (let seq = 0; seq < 30; seq++) {
    client.sendPacket({ seq });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await until(() => reports.flatMap((r) => r.seqs).length === 30, 5000, 'all 30 packets handled');
  return reports;
}

test.serial('deliverAtTick: packets are handled in a batch just before each tick, in order, none lost; without it, as they arrive', async (t) => {
  const atTick = await deliveryTimes(t, new URL('./fixtures/game/at-tick.mjs', import.meta.url).href);
  t.deepEqual(atTick.flatMap((r) => r.seqs), [...Array(30).keys()]);
  // 300 ms of packets at 10 Hz: several ticks, each handling what arrived since the last one.
  t.true(atTick.length >= 2, JSON.stringify(atTick));
  const worst = Math.max(...atTick.map((r) => r.maxBeforeTickMs));
  t.true(worst < 40, `handled up to ${worst} ms before their tick: ${JSON.stringify(atTick)}`);
  // The control: handled on arrival, so some long before the tick that follows (ticks are 100 ms apart,
  // packets 10 ms apart: the first of each tick's batch arrived ~90 ms before it).
  const onArrival = await deliveryTimes(t, new URL('./fixtures/game/at-arrival.mjs', import.meta.url).href);
  t.deepEqual(onArrival.flatMap((r) => r.seqs), [...Array(30).keys()]);
  t.true(Math.max(...onArrival.map((r) => r.maxBeforeTickMs)) > 60, JSON.stringify(onArrival));
});

test.serial('stopServer runs onPeerDisconnected in the actors for every peer ("Server stopped") while they can still be sent to, then disconnects them', async (t) => {
  const server = new ENetServerSupervisor();
  await server.createServer(0, 8, 2, { bindAddress: '127.0.0.1', gameLogic: BEHAVIOUR, gameActors: 2 });
  t.teardown(() => server.stopServer());
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connectClient(t, server));
  const left = [];
  server.on('actorMessage', (id, m) => m.t === 'left' && left.push(m));
  const heard = clients.map(({ client }) => {
    const order = [];
    client.on('packetReceived', (p) => p?.bye !== undefined && order.push('bye'));
    return waitFor(client, 'disconnectedFromServer').then(([reason]) => [...order, reason]);
  });
  await server.stopServer();
  // Each actor's goodbye reached its peer before the disconnect did.
  for (const events of await Promise.all(heard)) t.deepEqual(events, ['bye', 'Server stopped']);
  await until(() => left.length === 3, undefined, 'three goodbyes');
  t.deepEqual(left.map((m) => m.peerId).sort(), clients.map(({ peer }) => peer.peerId).sort());
  t.true(left.every((m) => m.reason === 'Server stopped'));
  t.false(server.isServerActive());
  // And it starts again, with actors.
  await server.createServer(0, 8, 2, { bindAddress: '127.0.0.1', gameLogic: BEHAVIOUR, gameActors: 1 });
  const again = await connectClient(t, server);
  const ack = waitFor(again.client, 'packetReceived');
  again.client.sendPacket({ seq: 0 });
  t.is((await ack)[0].ack, 0);
});
