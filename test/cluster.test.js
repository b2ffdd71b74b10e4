// A fleet on Redis (docs/cluster.md): servers in this process, each with its own
// ENet host, joined through a real redis-server of the test's own; real ENetClients. Presence and
// load, sendTo, broadcast with exclude, publish/subscribe, the duplicate-login policies, redirect,
// option checks, and Redis stopped and started again under traffic.
import test from 'ava';
import { ENetClient, ENetServerSupervisor, Err, InvalidOptionError } from '../dist/index.js';
import { connectClient, startServer, waitFor, collect, until } from './helpers.js';
import { eventually, startRedis } from './redis-helper.js';

// Nothing here waits for an expiry (test/cluster-processes.test.js does): a TTL long enough that a
// loaded machine delaying heartbeats never expires a live server or identity (nor a sendTo's answer).
const HEARTBEAT_MS = 200;
const TTL_MS = 3000;

/** Errors and warnings are kept, not printed (Redis going down on purpose is logged as a warning). */
function quietLogger() {
  const lines = [];
  return { lines, warn: (line) => lines.push(line), error: (line) => lines.push(line) };
}

async function startMember(t, redis, { serverId, maxPeers = 32, duplicateLogin, setup } = {}) {
  return startServer(t, {
    maxPeers,
    setup,
    options: { logger: quietLogger(), cluster: { redis: redis.url, serverId, heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS, duplicateLogin } },
  });
}

/** A client on `server` named `identity` fleet-wide. */
async function connectAs(t, server, identity) {
  const connected = await connectClient(t, server);
  t.is(await connected.peer.setIdentity(identity), Err.OK);
  return connected;
}

async function rejectsWith(t, promise, code) {
  const error = await t.throwsAsync(promise);
  t.is(error.code, code, error.message);
}

test('options: wrong cluster options are InvalidOptionError naming the option; without them server.cluster is null', async (t) => {
  const bad = [
    [{ redis: 'http://x:1' }, 'cluster.redis'],
    [{}, 'cluster.redis'],
    [{ redis: 'redis://127.0.0.1:1', serverId: '' }, 'cluster.serverId'],
    [{ redis: 'redis://127.0.0.1:1', serverId: 'a\nb' }, 'cluster.serverId'],
    [{ redis: 'redis://127.0.0.1:1', advertise: { address: 'h', port: 0 } }, 'cluster.advertise'],
    [{ redis: 'redis://127.0.0.1:1', heartbeatMs: 5 }, 'cluster.heartbeatMs'],
    [{ redis: 'redis://127.0.0.1:1', heartbeatMs: 100, ttlMs: 150 }, 'cluster.ttlMs'],
    [{ redis: 'redis://127.0.0.1:1', duplicateLogin: 'kick-new' }, 'cluster.duplicateLogin'],
    ['redis://127.0.0.1:1', 'cluster'],
  ];
  const server = new ENetServerSupervisor();
  for (const [cluster, option] of bad) {
    const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', cluster }), { instanceOf: InvalidOptionError });
    t.is(error.option, option, JSON.stringify(cluster));
    t.is(error.code, Err.ERR_INVALID_PARAMETER);
  }
  t.false(server.isServerActive());
  const plain = await startServer(t);
  t.is(plain.cluster, null);
  const { peer } = await connectClient(t, plain);
  await rejectsWith(t, peer.setIdentity('ada'), Err.ERR_UNCONFIGURED);
  t.is(peer.getIdentity(), null);
});

test('presence: three servers see each other with peers, maxPeers and load; pickServer the least loaded; a stopped one leaves at once and its calls reject ERR_UNCONFIGURED', async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a', maxPeers: 10 });
  const b = await startMember(t, redis, { serverId: 'b', maxPeers: 10 });
  const c = await startMember(t, redis, { serverId: 'c', maxPeers: 4 });
  await connectClient(t, a);
  await connectClient(t, a);
  await connectClient(t, b);
  await connectClient(t, c);
  // The counts reach Redis with the next heartbeat.
  const servers = await eventually(async () => {
    const list = await b.cluster.servers();
    const peers = Object.fromEntries(list.map((s) => [s.serverId, s.peers]));
    return peers.a === 2 && peers.b === 1 && peers.c === 1 && list;
  }, 5000, 'the peer counts');
  const byId = Object.fromEntries(servers.map((s) => [s.serverId, s]));
  t.deepEqual(Object.keys(byId).sort(), ['a', 'b', 'c']);
  t.like(byId.a, { address: '127.0.0.1', port: a.getLocalPort(), peers: 2, maxPeers: 10, load: 0.2 });
  t.like(byId.b, { port: b.getLocalPort(), peers: 1, maxPeers: 10, load: 0.1 });
  t.like(byId.c, { port: c.getLocalPort(), peers: 1, maxPeers: 4, load: 0.25 });
  t.true(Math.abs(byId.a.startedAt - Date.now()) < 60_000);
  t.is((await c.cluster.pickServer()).serverId, 'b');

  const member = b.cluster;
  await b.stopServer();
  t.deepEqual((await a.cluster.servers()).map((s) => s.serverId).sort(), ['a', 'c']);
  await rejectsWith(t, member.servers(), Err.ERR_UNCONFIGURED);
  await rejectsWith(t, member.sendTo('x', 'hi'), Err.ERR_UNCONFIGURED);
});

test('sendTo reaches a peer on another server (OK once queued there); locate names its server and peer; unknown identities are ERR_DOES_NOT_EXIST', async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a' });
  const b = await startMember(t, redis, { serverId: 'b' });
  const { client, peer } = await connectAs(t, b, 'ada');
  t.is(peer.getIdentity(), 'ada');
  t.deepEqual(await a.cluster.locate('ada'), { serverId: 'b', peerId: peer.peerId });
  t.is(await a.cluster.locate('nobody'), null);

  const received = collect(client, 'packetReceived', 3);
  t.is(await a.cluster.sendTo('ada', { hello: 'from a', n: [1, 2, 3] }, 1), Err.OK);
  t.is(await a.cluster.sendTo('ada', 'a string', 0, false), Err.OK);
  // The owner sending to its own peer: no round trip to itself.
  t.is(await b.cluster.sendTo('ada', new Uint8Array([1, 2, 3])), Err.OK);
  const packets = await received;
  t.deepEqual(packets[0], [{ hello: 'from a', n: [1, 2, 3] }, 1]);
  t.deepEqual(packets[1], ['a string', 0]);
  t.deepEqual([...packets[2][0]], [1, 2, 3]);

  t.is(await a.cluster.sendTo('nobody', 'x'), Err.ERR_DOES_NOT_EXIST);
  t.is(await a.cluster.sendTo('ada', 'x', 7), Err.ERR_INVALID_PARAMETER); // b's peer opened 2 channels
  t.is(await a.cluster.sendTo('ada', () => {}), Err.ERR_INVALID_DATA);

  const gone = waitFor(b, 'peerDisconnected');
  client.disconnectFromServer();
  await gone;
  await until(() => true);
  t.is(await a.cluster.sendTo('ada', 'x'), Err.ERR_DOES_NOT_EXIST);
  t.is(await a.cluster.locate('ada'), null);
});

test('broadcast reaches every authenticated peer of every server, once, except the excluded identities', async (t) => {
  const redis = await startRedis(t);
  const servers = [await startMember(t, redis, { serverId: 'a' }), await startMember(t, redis, { serverId: 'b' }), await startMember(t, redis, { serverId: 'c' })];
  const clients = [];
  for (const [i, server] of servers.entries()) {
    for (let j = 0; j < 2; j++) clients.push({ name: `p${i}${j}`, ...(await connectAs(t, server, `p${i}${j}`)) });
  }
  const excluded = new Set(['p01', 'p20']);
  const got = new Map(clients.map((c) => [c.name, []]));
  for (const c of clients) c.client.on('packetReceived', (packet) => got.get(c.name).push(packet));
  await servers[1].cluster.broadcast({ news: 'fleet-wide' }, 0, true, [...excluded]);
  const expected = clients.filter((c) => !excluded.has(c.name));
  await until(() => expected.every((c) => got.get(c.name).length === 1), 5000, 'every broadcast delivered');
  // A marker sent after it, locally, shows the excluded got nothing in between.
  for (const c of clients) c.peer.sendPacket('marker');
  await until(() => clients.every((c) => got.get(c.name).at(-1) === 'marker'), 5000, 'the markers');
  for (const c of clients) {
    t.deepEqual(got.get(c.name), excluded.has(c.name) ? ['marker'] : [{ news: 'fleet-wide' }, 'marker'], c.name);
  }
});

test('publish/subscribe: structured-clone values reach every subscribed server with the sender id; unsubscribe stops them', async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a' });
  const b = await startMember(t, redis, { serverId: 'b' });
  const c = await startMember(t, redis, { serverId: 'c' });
  const seen = { b: [], c: [] };
  await b.cluster.subscribe('events', (message, from) => seen.b.push([message, from]));
  await c.cluster.subscribe('events', (message, from) => seen.c.push([message, from]));
  const message = { at: new Date(0), ids: new Set([1, 2]), big: 2n ** 70n, map: new Map([['k', new Uint8Array([9])]]) };
  await a.cluster.publish('events', message);
  await until(() => seen.b.length === 1 && seen.c.length === 1, 5000, 'both subscribers');
  t.deepEqual(seen.b[0], [message, 'a']);
  t.deepEqual(seen.c[0], [message, 'a']);
  await c.cluster.unsubscribe('events');
  await a.cluster.publish('events', 'second');
  await b.cluster.publish('other', 'not subscribed');
  await until(() => seen.b.length === 2, 5000, 'the second message');
  // A round trip through b's subscription after it: c would have had it by now.
  await b.cluster.subscribe('flush', () => seen.b.push('flush'));
  await a.cluster.publish('flush', 1);
  await until(() => seen.b.at(-1) === 'flush', 5000, 'the flush');
  t.is(seen.c.length, 1);
  await rejectsWith(t, a.cluster.publish('events', { f: () => {} }), Err.ERR_INVALID_DATA);
  await rejectsWith(t, a.cluster.subscribe('', () => {}), Err.ERR_INVALID_PARAMETER);
});

test("duplicate login 'kick-old': the older peer, on another server, is disconnected with \"Logged in elsewhere\" and the identity moves", async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a', duplicateLogin: 'kick-old' });
  const b = await startMember(t, redis, { serverId: 'b', duplicateLogin: 'kick-old' });
  const old = await connectAs(t, a, 'ada');
  const kicked = waitFor(old.client, 'disconnectedFromServer');
  const newer = await connectAs(t, b, 'ada');
  t.deepEqual(await kicked, ['Logged in elsewhere']);
  t.deepEqual(await a.cluster.locate('ada'), { serverId: 'b', peerId: newer.peer.peerId });
  // And on the same server.
  const third = waitFor(newer.client, 'disconnectedFromServer');
  const latest = await connectAs(t, b, 'ada');
  t.deepEqual(await third, ['Logged in elsewhere']);
  t.deepEqual(await a.cluster.locate('ada'), { serverId: 'b', peerId: latest.peer.peerId });
  t.true(latest.client.isConnectedToServer());
});

test("duplicate login 'reject-new': the newer peer is rejected with \"Logged in elsewhere\" (ERR_ALREADY_IN_USE), the older keeps the identity", async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a', duplicateLogin: 'reject-new' });
  const b = await startMember(t, redis, { serverId: 'b', duplicateLogin: 'reject-new' });
  const old = await connectAs(t, a, 'ada');
  const newer = await connectClient(t, b);
  const rejected = waitFor(newer.client, 'disconnectedFromServer');
  t.is(await newer.peer.setIdentity('ada'), Err.ERR_ALREADY_IN_USE);
  t.deepEqual(await rejected, ['Logged in elsewhere']);
  t.deepEqual(await b.cluster.locate('ada'), { serverId: 'a', peerId: old.peer.peerId });
  t.true(old.client.isConnectedToServer());
  // Once the older one leaves, the identity is free again.
  const left = waitFor(a, 'peerDisconnected');
  old.client.disconnectFromServer();
  await left;
  await connectAs(t, b, 'ada');
});

test("duplicate login 'allow': both peers stay, the identity names the newest", async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a', duplicateLogin: 'allow' });
  const b = await startMember(t, redis, { serverId: 'b', duplicateLogin: 'allow' });
  const old = await connectAs(t, a, 'ada');
  const newer = await connectAs(t, b, 'ada');
  t.deepEqual(await a.cluster.locate('ada'), { serverId: 'b', peerId: newer.peer.peerId });
  // The older one leaving does not take the identity from the newer.
  const left = waitFor(a, 'peerDisconnected');
  old.client.disconnectFromServer();
  await left;
  await until(() => true);
  t.deepEqual(await a.cluster.locate('ada'), { serverId: 'b', peerId: newer.peer.peerId });
  t.true(newer.client.isConnectedToServer());
});

test('redirect: ENetClient gets _redirect, emits redirected, and connects to the other server (unless followRedirects: false)', async (t) => {
  const redis = await startRedis(t);
  const a = await startMember(t, redis, { serverId: 'a' });
  const b = await startMember(t, redis, { serverId: 'b' });
  const target = await a.cluster.pickServer().then(() => b.cluster.servers()).then((list) => list.find((s) => s.serverId === 'b'));
  const { client, peer } = await connectClient(t, a);
  const disconnected = waitFor(client, 'disconnectedFromServer');
  const redirected = waitFor(client, 'redirected');
  const arrived = waitFor(b, 'peerAuthenticated');
  const reconnected = waitFor(client, 'connectedToServer');
  t.is(peer.redirect(target.address, target.port, 'Go to b'), Err.OK);
  t.deepEqual(await disconnected, ['Go to b']);
  t.deepEqual(await redirected, ['127.0.0.1', b.getLocalPort(), 'Go to b']);
  await reconnected;
  await arrived;
  t.is(client.getServerPort(), b.getLocalPort());
  t.is(peer.redirect('', 1), Err.ERR_INVALID_PARAMETER);

  const stay = new ENetClient({ followRedirects: false });
  const second = await connectClient(t, a, { client: stay });
  const told = waitFor(stay, 'redirected');
  second.peer.redirect('127.0.0.1', b.getLocalPort());
  // A client that follows connects again synchronously right after 'redirected': nothing to wait for.
  t.deepEqual(await told, ['127.0.0.1', b.getLocalPort(), '']);
  t.false(stay.isConnectedToServer());
  t.is(stay.getConnectionStatus(), 0);
  t.throws(() => new ENetClient({ followRedirects: 'no' }), { instanceOf: InvalidOptionError });
});

test('Redis stopped and started again under traffic: local echo loses nothing, cluster calls reject ERR_UNAVAILABLE meanwhile, and within 2 s of it being back presence, identities and subscriptions work again', async (t) => {
  const redis = await startRedis(t);
  const echo = (server) => server.on('packetReceived', (peer, packet) => peer.sendPacket(packet));
  const a = await startMember(t, redis, { serverId: 'a', setup: echo });
  const b = await startMember(t, redis, { serverId: 'b', setup: echo });
  const onA = await connectAs(t, a, 'ada');
  const onB = await connectAs(t, b, 'bob');
  const topic = [];
  await a.cluster.subscribe('topic', (message) => topic.push(message));

  // Local traffic: a packet every 5 ms from each client to its server, echoed.
  const echoed = { a: 0, b: 0 };
  onA.client.on('packetReceived', () => echoed.a++);
  onB.client.on('packetReceived', (packet) => typeof packet === 'number' && echoed.b++);
  let sent = 0;
  const traffic = setInterval(() => {
    sent++;
    onA.client.sendPacket(sent);
    onB.client.sendPacket(sent);
  }, 5);
  t.teardown(() => clearInterval(traffic));

  const down = Promise.all([waitFor(a, 'clusterDown', 5000), waitFor(b, 'clusterDown', 5000)]);
  await redis.stop();
  const [[error]] = await down;
  t.is(error.code, Err.ERR_UNAVAILABLE);
  t.false(a.cluster.isUp());
  const started = Date.now();
  await rejectsWith(t, a.cluster.sendTo('bob', 'x'), Err.ERR_UNAVAILABLE);
  await rejectsWith(t, a.cluster.servers(), Err.ERR_UNAVAILABLE);
  await rejectsWith(t, a.cluster.publish('topic', 1), Err.ERR_UNAVAILABLE);
  await rejectsWith(t, a.cluster.broadcast('x'), Err.ERR_UNAVAILABLE);
  await rejectsWith(t, onA.peer.setIdentity('other'), Err.ERR_UNAVAILABLE);
  t.true(Date.now() - started < 500, 'they fail fast');
  t.is(onA.peer.getIdentity(), 'ada');
  // Local traffic goes on while Redis is away: 20 more echoes on each server.
  const echoedWhenDown = { ...echoed };
  await until(() => echoed.a >= echoedWhenDown.a + 20 && echoed.b >= echoedWhenDown.b + 20, 5000, 'echoes while Redis is away');

  const up = Promise.all([waitFor(a, 'clusterUp', 5000), waitFor(b, 'clusterUp', 5000)]);
  await redis.start(); // an empty Redis: everything must be written again by the servers
  const back = Date.now();
  await up;
  const recovery = Date.now() - back;
  t.log(`clusterUp ${recovery} ms after Redis answered again`);
  t.true(recovery < 2000, `clusterUp after ${recovery} ms`);
  t.deepEqual((await a.cluster.servers()).map((s) => s.serverId).sort(), ['a', 'b']);
  t.deepEqual(await a.cluster.locate('bob'), { serverId: 'b', peerId: onB.peer.peerId });
  const gotIt = waitFor(onB.client, 'packetReceived', 5000, (packet) => packet === 'after');
  t.is(await a.cluster.sendTo('bob', 'after'), Err.OK);
  await gotIt;
  await b.cluster.publish('topic', 'resubscribed');
  await until(() => topic.includes('resubscribed'), 2000, 'the topic message after the restart');
  t.true(Date.now() - back < 2000 + 1000, 'everything worked within 2 s (+ the checks themselves)');

  clearInterval(traffic);
  await until(() => echoed.a === sent && echoed.b === sent, 5000, `every echo (${sent} sent)`).catch(() => {});
  t.is(echoed.a, sent, 'no local packet lost on a');
  t.is(echoed.b, sent, 'no local packet lost on b');
});

const CLUSTER_LOGIC = new URL('./fixtures/game/cluster.mjs', import.meta.url).href;

test('ctx.cluster from a game actor: sendTo, broadcast and publish go through the supervisor to the fleet; without a cluster they reject ERR_UNCONFIGURED', async (t) => {
  const redis = await startRedis(t);
  const game = await startServer(t, {
    options: { gameLogic: CLUSTER_LOGIC, gameActors: 1, logger: quietLogger(), cluster: { redis: redis.url, serverId: 'game', heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS } },
  });
  const lobby = await startMember(t, redis, { serverId: 'lobby' });
  const player = await connectClient(t, game);
  const bob = await connectAs(t, lobby, 'bob');
  const eve = await connectAs(t, lobby, 'eve');
  const answered = (client, name) => waitFor(client, 'unknownEventReceived', undefined, (n) => n === name || n === 'failed');

  let answer = answered(player.client, 'whispered');
  const whisper = waitFor(bob.client, 'packetReceived');
  player.client.triggerEvent('whisper', { to: 'bob', msg: 'psst' });
  t.deepEqual(await whisper, [{ whisper: 'psst' }, 0]);
  const [name, payload] = await answer;
  t.is(name, 'whispered');
  t.is(payload.err, Err.OK);
  t.log(`ctx.cluster.sendTo, actor → supervisor → Redis → lobby and back: ${payload.ms.toFixed(2)} ms`);

  answer = answered(player.client, 'whispered');
  player.client.triggerEvent('whisper', { to: 'nobody', msg: 'x' });
  t.is((await answer)[1].err, Err.ERR_DOES_NOT_EXIST);

  const shout = waitFor(bob.client, 'packetReceived');
  const eveGot = [];
  eve.client.on('packetReceived', (packet) => eveGot.push(packet));
  answer = answered(player.client, 'shouted');
  player.client.triggerEvent('shout', { msg: 'hello fleet', except: ['eve'] });
  t.deepEqual((await shout)[0], { shout: 'hello fleet' });
  t.is((await answer)[0], 'shouted');

  const news = [];
  await lobby.cluster.subscribe('news', (message, from) => news.push([message, from]));
  answer = answered(player.client, 'announced');
  player.client.triggerEvent('announce', { topic: 'news', message: { big: 'news' } });
  t.is((await answer)[0], 'announced');
  await until(() => news.length === 1, 5000, 'the announcement');
  t.deepEqual(news[0], [{ big: 'news' }, 'game']);
  t.deepEqual(eveGot, [], 'eve was excluded from the shout');

  const alone = await startServer(t, { options: { gameLogic: CLUSTER_LOGIC, gameActors: 1 } });
  const lonely = await connectClient(t, alone);
  answer = answered(lonely.client, 'whispered');
  lonely.client.triggerEvent('whisper', { to: 'bob', msg: 'x' });
  const [failed, reason] = await answer;
  t.is(failed, 'failed');
  t.is(reason.code, Err.ERR_UNCONFIGURED);
});

test('a server started while Redis is down serves its peers, says clusterDown, and joins the fleet by itself once Redis is up', async (t) => {
  const redis = await startRedis(t);
  await redis.stop();
  const server = new ENetServerSupervisor();
  const down = waitFor(server, 'clusterDown', 10_000);
  const started = Date.now();
  await server.createServer(0, 8, 2, { bindAddress: '127.0.0.1', logger: quietLogger(), cluster: { redis: redis.url, serverId: 'early', heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS } });
  t.teardown(() => server.stopServer());
  const took = Date.now() - started;
  t.log(`createServer with Redis unreachable: ${took} ms`);
  // A refused connection ends its wait at once; waiting for the start-up bound would take 10 s.
  t.true(took < 5000, `createServer waited ${took} ms for an unreachable Redis`);
  t.is((await down)[0].code, Err.ERR_UNAVAILABLE);
  server.on('packetReceived', (peer, packet) => peer.sendPacket(packet));
  const { client, peer } = await connectClient(t, server);
  const echoed = waitFor(client, 'packetReceived');
  client.sendPacket('local play');
  t.deepEqual(await echoed, ['local play', 0]);
  await rejectsWith(t, peer.setIdentity('ada'), Err.ERR_UNAVAILABLE);

  const up = waitFor(server, 'clusterUp', 10_000);
  await redis.start();
  await up;
  t.is(await peer.setIdentity('ada'), Err.OK);
  t.deepEqual((await server.cluster.servers()).map((s) => s.serverId), ['early']);
  t.deepEqual(await server.cluster.locate('ada'), { serverId: 'early', peerId: peer.peerId });
});
