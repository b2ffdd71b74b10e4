// Sessions (README "Sessions", docs/protocol.md "Sessions"): a client whose connection breaks — its
// NAT re-maps its port, or the link goes dark for longer than ENet's timeout — comes back on a new
// connection with the same seat, and every reliable message is delivered exactly once, in order, both
// ways. Real UDP through a real relay (src/net-relay/relay.ts) between real ENetClients and the server.
import test from 'ava';
import { ENetServerSupervisor, ENetClient, AuthMode, Err, createLinkRelay } from '../dist/index.js';
import { waitFor, until, WAIT_MS } from './helpers.js';

const GAME_ACTORS = Number(process.env.ENET_TEST_GAME_ACTORS ?? 0);
const EMPTY = new URL('./fixtures/game/empty.mjs', import.meta.url).href;
const STATEFUL = new URL('./fixtures/game/session-state.mjs', import.meta.url).href;

/** ENet gives a silent peer up within 2 s (peerTimeout), whatever RTT it measured: drops come on time under load. */
const QUICK_TIMEOUT = { limit: 4, minimumMs: 1000, maximumMs: 2000 };

async function startServer(t, options = {}, maxPeers = 32) {
  const server = new ENetServerSupervisor();
  const actors = GAME_ACTORS > 0 ? { gameLogic: EMPTY, gameActors: GAME_ACTORS } : {};
  await server.createServer(0, maxPeers, 2, { bindAddress: '127.0.0.1', peerTimeout: QUICK_TIMEOUT, ...actors, ...options });
  t.teardown(() => server.stopServer());
  return server;
}

/** A relay in front of the server, and a session-aware client connected through it. */
async function connectThroughRelay(t, server, clientOptions = {}, connectOptions) {
  const relay = await createLinkRelay({ target: { address: '127.0.0.1', port: server.getLocalPort() }, rebindGraceMs: 200 });
  t.teardown(() => relay.close());
  const client = new ENetClient({ silenceMs: 600, connectTimeoutMs: 2000, reconnect: { retries: 40, minDelayMs: 50, maxDelayMs: 300 }, ...clientOptions });
  t.teardown(() => client.disconnectFromServer());
  const approved = waitFor(client, 'authenticated');
  const joined = waitFor(server, 'peerAuthenticated');
  t.is(client.connectToServer('127.0.0.1', relay.port, 2, connectOptions), Err.OK);
  await approved;
  const [peer] = await joined;
  return { relay, client, peer };
}

/**
 * Both sides send numbered reliable messages on both channels for `ms`, while `disturb` runs; then
 * waits until each side holds every number, and checks each arrived exactly once, in order per channel.
 */
async function streamBothWays(t, server, client, peer, { ms = 1500, every = 5, disturb }) {
  const got = { server: [[], []], client: [[], []] };
  server.on('packetReceived', (from, packet, channel) => {
    if (from.peerId === peer.peerId && packet?.c !== undefined) got.server[channel].push(packet.c);
  });
  client.on('packetReceived', (packet, channel) => {
    if (packet?.s !== undefined) got.client[channel].push(packet.s);
  });
  const sent = { server: [0, 0], client: [0, 0] };
  const started = Date.now();
  const timer = setInterval(() => {
    for (const channel of [0, 1]) {
      if (server.sendPacket(peer.peerId, { s: sent.server[channel] + 1 }, channel, true) === Err.OK) sent.server[channel]++;
      if (client.sendPacket({ c: sent.client[channel] + 1 }, channel, true) === Err.OK) sent.client[channel]++;
    }
  }, every);
  await disturb?.();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - (Date.now() - started))));
  clearInterval(timer);
  await until(
    () => [0, 1].every((ch) => got.server[ch].length >= sent.client[ch] && got.client[ch].length >= sent.server[ch]),
    WAIT_MS * 2,
    'every message delivered',
  );
  for (const side of ['server', 'client']) {
    for (const channel of [0, 1]) {
      const list = got[side][channel];
      const expected = Array.from({ length: list.length }, (_, i) => i + 1);
      t.deepEqual(list, expected, `${side} channel ${channel}: every number once, in order`);
    }
  }
  t.true(sent.server[0] > 50 && sent.client[0] > 50, `streamed ${JSON.stringify(sent)}`);
  return sent;
}

test('a NAT re-mapping mid-stream: the session resumes on the same seat, nothing lost or doubled either way', async (t) => {
  const server = await startServer(t);
  const { relay, client, peer } = await connectThroughRelay(t, server);
  peer.setCustomData({ name: 'ada' });
  const events = [];
  for (const name of ['peerDropped', 'peerResumed', 'peerDisconnected']) server.on(name, (p) => events.push(`${name}:${p.peerId}`));
  const clientEvents = [];
  for (const name of ['connectionInterrupted', 'resumed', 'disconnectedFromServer']) client.on(name, () => clientEvents.push(name));
  const oldPort = peer.getRemotePort();
  await streamBothWays(t, server, client, peer, {
    disturb: async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      relay.rebind();
      await waitFor(server, 'peerResumed', WAIT_MS);
    },
  });
  t.deepEqual(events, [`peerResumed:${peer.peerId}`]);
  t.deepEqual(clientEvents, ['connectionInterrupted', 'resumed']);
  t.is(server.getPeer(peer.peerId), peer, 'the same ENetServerPeer');
  t.deepEqual(peer.getCustomData(), { name: 'ada' });
  t.not(peer.getRemotePort(), oldPort, 'the new address is the peer\'s');
  t.true(client.isConnectedToServer());
  t.is(server.getMetrics().sessions.resumed, 1);
});

test('a blackout longer than the peer timeout: the seat is held (peerDropped), then resumed with nothing lost', async (t) => {
  const server = await startServer(t);
  const { relay, client, peer } = await connectThroughRelay(t, server);
  const events = [];
  for (const name of ['peerDropped', 'peerResumed', 'peerDisconnected']) server.on(name, (p) => events.push(name));
  await streamBothWays(t, server, client, peer, {
    ms: 2500,
    every: 20,
    disturb: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      relay.blackout(6000); // three times the server's peerTimeout.maximumMs: ENet gives the peer up, even on a busy machine
      const [dropped] = await waitFor(server, 'peerDropped', 10_000);
      t.is(dropped, peer);
      t.true(peer.isDropped());
      t.is(server.getPeerCount(), 1, 'the seat still counts');
      t.is(server.sendPacket(peer.peerId, { s: 'while dropped' }, 1, false), Err.OK, 'unreliable: OK, dropped');
      await waitFor(server, 'peerResumed', 15_000);
    },
  });
  t.deepEqual(events, ['peerDropped', 'peerResumed']);
  t.false(peer.isDropped());
  t.is(server.getPeer(peer.peerId), peer);
});

test('a window that runs out ends the seat ("Connection lost") and the late resume is told "Session expired"', async (t) => {
  const server = await startServer(t, { resume: { windowMs: 500 } });
  const { relay, client, peer } = await connectThroughRelay(t, server);
  server.sendPacket(peer.peerId, { s: 1 }); // unacknowledged data makes ENet give up after ~5 s
  const gone = waitFor(server, 'peerDisconnected', 10_000);
  const clientGone = waitFor(client, 'disconnectedFromServer', 20_000);
  relay.blackout(7000); // dropped after ≤ 2 s (peerTimeout, later on a busy machine), the 500 ms window over long before the link is back
  const keepSending = setInterval(() => server.sendPacket(peer.peerId, { s: 2 }), 50);
  t.teardown(() => clearInterval(keepSending));
  const [who, reason] = await gone;
  clearInterval(keepSending);
  t.is(who, peer);
  t.is(reason, 'Connection lost');
  const [clientReason] = await clientGone;
  t.is(clientReason, 'Session expired');
  const sessions = server.getMetrics().sessions;
  t.is(sessions.expired, 1);
  t.true(sessions.refused >= 1);
});

test('a wrong token, and a token already used, are refused with "Session expired"; the real seat is untouched', async (t) => {
  const server = await startServer(t);
  const { relay, client, peer } = await connectThroughRelay(t, server);
  const firstToken = client.session.token;
  relay.rebind();
  await waitFor(client, 'resumed', WAIT_MS);
  t.not(client.session.token, firstToken, 'rotated at the resume');
  // A second client presents the spent token (as a thief replaying it would), then a made-up one.
  for (const token of [firstToken, 'AAAAAAAAAAAAAAAAAAAAAA']) {
    const { relay: relay2, client: thief } = await connectThroughRelay(t, server);
    thief.session.token = token;
    const refused = waitFor(thief, 'disconnectedFromServer', WAIT_MS);
    relay2.rebind();
    const [reason] = await refused;
    t.is(reason, 'Session expired');
  }
  t.is(server.getMetrics().sessions.refused, 2);
  t.is(server.getPeer(peer.peerId), peer);
  t.false(peer.isDropped());
  const echo = waitFor(server, 'packetReceived', WAIT_MS);
  t.is(client.sendPacket({ still: 'here' }), Err.OK);
  const [from, packet] = await echo;
  t.is(from, peer);
  t.deepEqual(packet, { still: 'here' });
});

test('an outbox that overflows while the peer is dropped ends its session', async (t) => {
  const server = await startServer(t, { resume: { windowMs: 20_000, outboxBytes: 4096 } });
  const { relay, client, peer } = await connectThroughRelay(t, server);
  server.sendPacket(peer.peerId, { s: 1 });
  relay.blackout(7000);
  await waitFor(server, 'peerDropped', 10_000);
  const gone = waitFor(server, 'peerDisconnected', WAIT_MS);
  const clientGone = waitFor(client, 'disconnectedFromServer', 20_000);
  for (let i = 0; i < 20; i++) server.sendPacket(peer.peerId, { fill: 'x'.repeat(400), i });
  const [, reason] = await gone;
  t.is(reason, 'Connection lost');
  t.is((await clientGone)[0], 'Session expired');
  t.is(server.getMetrics().sessions.expired, 1);
});

test('a client that leaves, and a kick, end the session at once (no peerDropped)', async (t) => {
  const server = await startServer(t);
  const dropped = [];
  server.on('peerDropped', (peer) => dropped.push(peer.peerId));
  const a = await connectThroughRelay(t, server);
  const left = waitFor(server, 'peerDisconnected', WAIT_MS);
  a.client.disconnectFromServer();
  const [who, reason] = await left;
  t.is(who, a.peer);
  t.is(reason, 'Connection lost');
  const b = await connectThroughRelay(t, server);
  const kicked = waitFor(server, 'peerDisconnected', WAIT_MS);
  const clientKicked = waitFor(b.client, 'disconnectedFromServer', WAIT_MS);
  server.kickPeer(b.peer.peerId, 'bye');
  t.is((await kicked)[1], 'bye');
  t.is((await clientKicked)[0], 'bye');
  t.deepEqual(dropped, []);
  t.is(server.getMetrics().sessions.held, 0);
});

test('login from the client: sends made before the approval are held, then delivered; authenticated fires', async (t) => {
  const server = await startServer(t, { resume: false });
  server.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
  server.setCustomAuthenticator(async (peer, login) => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // an async check: packets sent meanwhile must wait
    return login.user === 'ada';
  });
  const received = [];
  server.on('packetReceived', (peer, packet) => received.push(packet));
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort(), 2, { login: { user: 'ada' } }), Err.OK);
  await waitFor(client, 'connectedToServer');
  for (let i = 1; i <= 5; i++) t.is(client.sendPacket({ early: i }), Err.OK);
  await waitFor(client, 'authenticated');
  await until(() => received.length === 5, WAIT_MS, 'the early packets');
  t.deepEqual(received, [1, 2, 3, 4, 5].map((i) => ({ early: i })));
  t.is(server.getMetrics().droppedUnauthenticated, 0);
});

test('game actors: the peer stays on its actor with its state across a resume (onPeerDropped / onPeerResumed)', async (t) => {
  const server = await startServer(t, { gameLogic: STATEFUL, gameActors: 2 });
  const posts = [];
  server.on('actorMessage', (actor, message) => posts.push({ actor, ...message }));
  const { relay, client, peer } = await connectThroughRelay(t, server);
  for (let i = 0; i < 3; i++) client.sendPacket({ add: 1 });
  await until(() => posts.some((m) => m.t === 'count' && m.count === 3), WAIT_MS, 'count 3');
  relay.blackout(6000); // past the server's peerTimeout: it drops the peer, its actor keeps it
  client.sendPacket({ add: 1 }, 0, true); // queued by the client while interrupted, delivered on resume
  await until(() => posts.some((m) => m.t === 'resumed'), 15_000, 'onPeerResumed');
  t.true(posts.some((m) => m.t === 'dropped' && m.peerId === peer.peerId), 'onPeerDropped ran');
  const actor = posts.find((m) => m.t === 'count').actor;
  t.is(posts.find((m) => m.t === 'resumed').actor, actor, 'still on its actor');
  for (let i = 0; i < 2; i++) client.sendPacket({ add: 1 });
  await until(() => posts.some((m) => m.t === 'count' && m.count === 6), WAIT_MS, 'count 6: state kept, nothing lost');
  t.false(posts.some((m) => m.t === 'left'));
});

test('shards: resumes whichever shard the new connection lands on, same seat, nothing lost', async (t) => {
  const server = await startServer(t, { netActors: 2 });
  const { relay, client, peer } = await connectThroughRelay(t, server);
  const shards = new Set([peer.shard]);
  let resumes = 0;
  server.on('peerResumed', () => resumes++);
  await streamBothWays(t, server, client, peer, {
    ms: 2500,
    disturb: async () => {
      // Each re-mapping is a new source port: the kernel's SO_REUSEPORT hash picks the shard anew.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        relay.rebind();
        await waitFor(server, 'peerResumed', WAIT_MS);
        shards.add(peer.shard);
      }
    },
  });
  t.is(resumes, 4);
  t.is(server.getPeer(peer.peerId), peer);
  t.log(`shards the seat lived on: ${[...shards].join(', ')}`);
});

test('a Buffer the application reuses for sendRawPacket is resent as it was when sent, not as it is now', async (t) => {
  const server = await startServer(t);
  const { relay, client, peer } = await connectThroughRelay(t, server);
  const got = [];
  server.on('rawPacketReceived', (from, data) => {
    if (from === peer && data[0] === 0xaa) got.push(data.readUInt32LE(1));
  });
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xaa;
  let n = 0;
  const send = () => {
    buffer.writeUInt32LE(++n, 1); // one Buffer, rewritten for every message (as a load generator does)
    t.is(client.sendRawPacket(buffer, 0, true), Err.OK);
  };
  const timer = setInterval(send, 10);
  await new Promise((resolve) => setTimeout(resolve, 200));
  relay.rebind();
  await waitFor(client, 'resumed', WAIT_MS);
  await new Promise((resolve) => setTimeout(resolve, 200));
  clearInterval(timer);
  await until(() => got.length >= n, WAIT_MS, 'every message');
  t.deepEqual(got, Array.from({ length: n }, (_, i) => i + 1));
});

test('a server at maxPeers: every player re-mapped at once still resumes (the held seats leave room for their new connections)', async (t) => {
  const server = await startServer(t, {}, 4);
  const relay = await createLinkRelay({ target: { address: '127.0.0.1', port: server.getLocalPort() }, rebindGraceMs: 200 });
  t.teardown(() => relay.close());
  const clients = [];
  for (let i = 0; i < 4; i++) {
    const client = new ENetClient({ silenceMs: 600, connectTimeoutMs: 2000, reconnect: { retries: 40, minDelayMs: 50, maxDelayMs: 300 } });
    t.teardown(() => client.disconnectFromServer());
    const approved = waitFor(client, 'authenticated');
    client.connectToServer('127.0.0.1', relay.port, 2);
    await approved;
    clients.push(client);
  }
  t.is(server.getPeerCount(), 4);
  const started = performance.now();
  const timeline = [];
  const note = (what) => timeline.push(`${(performance.now() - started).toFixed(0)} ms ${what}`);
  clients.forEach((client, i) => ['connectionInterrupted', 'resumed', 'disconnectedFromServer', 'connectionFailed'].forEach((e) => client.on(e, (r) => note(`client ${i} ${e} ${r ?? ''}`))));
  ['peerDropped', 'peerResumed', 'peerDisconnected'].forEach((e) => server.on(e, (p, r) => note(`server ${e} ${p.peerId} ${r ?? ''}`)));
  const resumed = Promise.all(clients.map((client) => waitFor(client, 'resumed', WAIT_MS)));
  relay.rebind();
  try {
    await resumed;
  } finally {
    t.log(timeline.join('\n'), JSON.stringify(server.getMetrics().sessions), JSON.stringify(server.getMetrics().refusedConnects));
  }
  t.is(server.getMetrics().sessions.resumed, 4);
  t.is(server.getMetrics().refusedConnects.full, 0);
  t.is(server.getPeerCount(), 4);
});
