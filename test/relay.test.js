// The impaired-link relay (src/net-relay/relay.ts): real UDP on 127.0.0.1, port 0 everywhere. First
// against a plain UDP echo socket (exact datagram accounting), then with the package's server (the
// demo echo) and real ENetClients in front of it.
import test from 'ava';
import dgram from 'node:dgram';
import { ENetClient, ENetServerSupervisor, createClientNetwork, createLinkRelay, parseLinkSpec, formatLinkSpec } from '../dist/index.js';
import { installDemo } from '../dist/cli/demo.js';
import { until, waitFor } from './helpers.js';

const WAIT = 10_000;

/** A UDP socket that echoes every datagram to its sender and remembers who sent (address:port). */
async function startEcho(t) {
  const socket = dgram.createSocket('udp4');
  const sources = [];
  socket.on('message', (data, rinfo) => {
    sources.push(`${rinfo.address}:${rinfo.port}`);
    socket.send(data, rinfo.port, rinfo.address);
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => socket.close(resolve)));
  return { port: socket.address().port, sources };
}

/** A client UDP socket; `received` collects what comes back as strings, with performance.now(). */
async function startClient(t) {
  const socket = dgram.createSocket('udp4');
  const received = [];
  socket.on('message', (data) => received.push({ text: data.toString(), at: performance.now() }));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => socket.close(resolve)));
  return { socket, received, send: (text, port) => socket.send(text, port, '127.0.0.1') };
}

async function relayTo(t, port, options = {}) {
  const relay = await createLinkRelay({ target: { address: '127.0.0.1', port }, seed: 1, ...options });
  t.teardown(() => relay.close());
  return relay;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('parseLinkSpec: the three keys in any order, and clear errors', (t) => {
  t.deepEqual(parseLinkSpec('loss=2%,delay=30ms,jitter=10ms'), { lossPercent: 2, delayMs: 30, jitterMs: 10 });
  t.deepEqual(parseLinkSpec(' delay=0.2s , loss=0.5 '), { lossPercent: 0.5, delayMs: 200, jitterMs: 0 });
  t.deepEqual(parseLinkSpec('jitter=5'), { lossPercent: 0, delayMs: 0, jitterMs: 5 });
  t.is(formatLinkSpec(parseLinkSpec('loss=2%,delay=30ms,jitter=10ms')), 'loss 2% delay 30±10 ms');
  t.is(formatLinkSpec({}), 'clean');
  for (const [text, message] of [
    ['', /empty/],
    ['loss', /not KEY=VALUE/],
    ['loss=101%', /loss: expected a percentage/],
    ['loss=-1', /loss: expected a percentage/],
    ['delay=fast', /delay: expected a duration/],
    ['delay=90s', /at most 60 s/],
    ['latency=3ms', /unknown key 'latency'/],
    ['loss=1%,loss=2%', /given twice/],
  ]) {
    t.throws(() => parseLinkSpec(text), { message }, text);
  }
});

test('each client source gets its own upstream port; stats count both ways', async (t) => {
  const echo = await startEcho(t);
  const relay = await relayTo(t, echo.port);
  const a = await startClient(t);
  const b = await startClient(t);
  for (let i = 0; i < 5; i++) {
    a.send(`a${i}`, relay.port);
    b.send(`b${i}`, relay.port);
  }
  await until(() => a.received.length === 5 && b.received.length === 5, WAIT, 'the echoes');
  t.is(new Set(echo.sources).size, 2, 'the echo saw two distinct source ports');
  t.false(echo.sources.includes(`127.0.0.1:${a.socket.address().port}`), 'not the client itself');
  t.deepEqual(relay.stats(), { clients: 2, forwarded: { up: 10, down: 10 }, dropped: { up: 0, down: 0 }, rebinds: 0 });
  const ports = relay.clients().map((c) => c.upstreamPort).sort();
  t.deepEqual(ports, [...new Set(echo.sources)].map((s) => Number(s.split(':')[1])).sort());
});

test('delay applies both ways; jitter reorders; a seeded loss is reproducible and near its rate', async (t) => {
  const echo = await startEcho(t);
  const relay = await relayTo(t, echo.port, { link: { delayMs: 40 } });
  const client = await startClient(t);
  const sentAt = performance.now();
  client.send('ping', relay.port);
  await until(() => client.received.length === 1, WAIT, 'the echo');
  const rtt = client.received[0].at - sentAt;
  t.true(rtt >= 79, `RTT ${rtt.toFixed(1)} ms through a 40 ms link`);
  t.true(rtt < 1000, `RTT ${rtt.toFixed(1)} ms`);

  relay.setLink({ delayMs: 20, jitterMs: 15 });
  client.received.length = 0;
  for (let i = 0; i < 100; i++) client.send(String(i), relay.port);
  await until(() => client.received.length === 100, WAIT, '100 echoes');
  const order = client.received.map((r) => Number(r.text));
  t.notDeepEqual(order, [...order].sort((x, y) => x - y), 'jitter reordered the datagrams');

  // Loss: 2 000 datagrams at 10 % each way → about 19 % lost round trips; the same seed, the same drops.
  const lossRun = async (seed) => {
    const r = await relayTo(t, echo.port, { link: { lossPercent: 10 }, seed });
    const c = await startClient(t);
    for (let i = 0; i < 2000; i++) {
      c.send(String(i), r.port);
      if (i % 20 === 19) await sleep(2); // stay well inside the socket buffers
    }
    await sleep(300);
    return { stats: r.stats(), got: c.received.map((x) => x.text).sort().join(',') };
  };
  const first = await lossRun(7);
  const second = await lossRun(7);
  t.is(first.stats.dropped.up + first.stats.forwarded.up, 2000);
  t.true(first.stats.dropped.up > 120 && first.stats.dropped.up < 280, `dropped up ${first.stats.dropped.up}/2000`);
  t.true(first.stats.dropped.down > 100 && first.stats.dropped.down < 260, `dropped down ${first.stats.dropped.down}`);
  t.deepEqual(second.stats, first.stats, 'same seed, same drops');
  t.is(second.got, first.got);
});

test('rebind: new source ports toward the server, the old mapping\'s late replies dropped', async (t) => {
  const echo = await startEcho(t);
  // The echo answers after 100 ms: a reply in flight when the mapping changes must be dropped.
  const late = dgram.createSocket('udp4');
  late.on('message', (data, rinfo) => setTimeout(() => late.send(data, rinfo.port, rinfo.address), 100));
  await new Promise((resolve) => late.bind(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => late.close(resolve)));

  const relay = await relayTo(t, echo.port, { rebindGraceMs: 300 });
  const clients = await Promise.all([0, 1, 2, 3].map(() => startClient(t)));
  clients.forEach((c, i) => c.send(`x${i}`, relay.port));
  await until(() => clients.every((c) => c.received.length === 1), WAIT, 'first echoes');
  const before = new Map(relay.clients().map((c) => [c.source, c.upstreamPort]));
  t.is(relay.rebind(0.5), 2);
  await sleep(20);
  const after = relay.clients();
  const moved = after.filter((c) => c.upstreamPort !== before.get(c.source));
  t.is(moved.length, 2, 'half of the clients have new upstream ports');
  t.is(relay.stats().rebinds, 2);
  clients.forEach((c, i) => c.send(`y${i}`, relay.port));
  await until(() => clients.every((c) => c.received.length === 2), WAIT, 'second echoes');
  t.is(new Set(echo.sources).size, 6, 'the server saw 4 + 2 source ports');
  for (const m of moved) t.true(echo.sources.includes(`127.0.0.1:${m.upstreamPort}`));

  const slow = await relayTo(t, late.address().port, { rebindGraceMs: 300 });
  const c = await startClient(t);
  c.send('late', slow.port);
  await sleep(30);
  slow.rebind(1);
  await sleep(250);
  t.is(c.received.length, 0, 'the reply to the old port was dropped');
  t.is(slow.stats().dropped.down, 1);
});

test('blackout drops everything both ways for its length, then traffic flows again', async (t) => {
  const echo = await startEcho(t);
  const relay = await relayTo(t, echo.port, { link: { delayMs: 10 } });
  const client = await startClient(t);
  client.send('before', relay.port);
  await until(() => client.received.length === 1, WAIT, 'an echo');
  const start = performance.now();
  relay.blackout(300);
  // Sent just before the end of the blackout, but arriving within it? No: sent within, dropped at once.
  const sentDuring = [];
  while (performance.now() - start < 280) {
    client.send('during', relay.port);
    sentDuring.push(performance.now());
    await sleep(20);
  }
  await until(() => !relay.blackedOut, WAIT, 'the end of the blackout');
  const dark = performance.now() - start;
  t.true(dark >= 299 && dark < 600, `dark for ${dark.toFixed(0)} ms`);
  await sleep(50);
  t.is(client.received.length, 1, 'nothing came back during the blackout');
  t.is(relay.stats().dropped.up, sentDuring.length);
  client.send('after', relay.port);
  await until(() => client.received.length === 2, WAIT, 'an echo after the blackout');
  t.is(client.received[1].text, 'after');
});

test('close() cancels delayed datagrams and leaves no socket or timer behind', async (t) => {
  const echo = await startEcho(t);
  const relay = await createLinkRelay({ target: { address: '127.0.0.1', port: echo.port }, link: { delayMs: 2000 } });
  const client = await startClient(t);
  for (let i = 0; i < 20; i++) client.send(String(i), relay.port);
  await until(() => relay.heap.length === 20, WAIT, 'the twenty datagrams in the relay');
  const upstream = [...relay.mappings.values()].map((m) => m.upstream);
  relay.rebind(1);
  upstream.push(...[...relay.mappings.values()].map((m) => m.upstream));
  t.is(relay.heap.length, 20, 'twenty datagrams waiting out their delay');
  t.is(relay.retired.size, 1);
  await relay.close();
  await relay.close(); // idempotent
  t.is(relay.heap.length, 0);
  t.is(relay.timer, undefined);
  t.is(relay.retired.size, 0);
  t.is(relay.mappings.size, 0);
  for (const socket of [relay.front, ...upstream]) t.throws(() => socket.address(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  await sleep(2300);
  t.is(client.received.length, 0, 'the delayed datagrams never left');
  t.is(echo.sources.length, 0);
});

// ---- with the package's server and real ENet clients -------------------------------------------

async function startDemoServer(t) {
  const server = new ENetServerSupervisor();
  installDemo(server);
  await server.createServer(0, 32, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => server.stopServer());
  return server;
}

async function connectThrough(t, port) {
  // A network of its own, closed last: a client cut off by a rebind does not hold the process.
  const network = createClientNetwork();
  t.teardown(() => Promise.race([network.close(), sleep(2000)]));
  const client = new ENetClient({ network });
  const connected = waitFor(client, 'connectedToServer', WAIT);
  t.is(client.connectToServer('127.0.0.1', port, 2), 0);
  // Teardowns run last-first: the client leaves (through the relay, bounded) before the relay closes.
  t.teardown(async () => {
    const gone = waitFor(client, 'disconnectedFromServer', 2000).catch(() => {});
    client.disconnectFromServer();
    await gone;
  });
  await connected;
  return client;
}

/** Sends `count` reliable packets { n } (`perTick` every 5 ms), resolves with the echoes' n in arrival order (bounded). */
async function echoes(client, count, ms = WAIT, perTick = count) {
  const got = [];
  const listener = (packet) => {
    if (packet && typeof packet === 'object' && typeof packet.n === 'number') got.push(packet.n);
  };
  client.on('packetReceived', listener);
  try {
    for (let n = 0; n < count; n++) {
      client.sendPacket({ n });
      if (n % perTick === perTick - 1) await sleep(5);
    }
    await until(() => got.length >= count, ms, `${count} echoes (got ${got.length})`);
    return got;
  } finally {
    client.off('packetReceived', listener);
  }
}

test('ENet through a 40 ms relay: every round trip ≥ 80 ms', async (t) => {
  const server = await startDemoServer(t);
  const relay = await relayTo(t, server.getLocalPort(), { link: { delayMs: 40 } });
  const client = await connectThrough(t, relay.port);
  await echoes(client, 1); // past the welcome
  for (let i = 0; i < 3; i++) {
    const sent = performance.now();
    await echoes(client, 1);
    const rtt = performance.now() - sent;
    t.true(rtt >= 79, `RTT ${rtt.toFixed(1)} ms`);
  }
});

test('ENet through 10 % loss each way: every reliable message arrives, once, in order', async (t) => {
  const server = await startDemoServer(t);
  const relay = await relayTo(t, server.getLocalPort(), { link: { lossPercent: 10, delayMs: 5 }, seed: 42 });
  const client = await connectThrough(t, relay.port);
  const got = await echoes(client, 200, 20_000, 2); // spread out: many datagrams, so many chances to lose one
  t.deepEqual(got, [...Array(200).keys()]);
  const s = relay.stats();
  t.true(s.dropped.up > 0 && s.dropped.down > 0, JSON.stringify(s));
});

test('ENet: a rebind shows the server the client on a new source port', async (t) => {
  const server = await startDemoServer(t);
  // relay (rebinding) → observer (a clean relay: its client list is who the server hears from) → server
  const observer = await relayTo(t, server.getLocalPort());
  const relay = await relayTo(t, observer.port, { rebindGraceMs: 200 });
  const [[peer], client] = await Promise.all([waitFor(server, 'peerAuthenticated', WAIT), connectThrough(t, relay.port)]);
  const firstPort = relay.clients()[0].upstreamPort;
  t.deepEqual(observer.clients().map((c) => c.source), [`127.0.0.1:${firstPort}`]);
  t.is(peer.getRemotePort(), observer.clients()[0].upstreamPort, 'the server\'s peer is the observer\'s mapping');
  t.is(relay.rebind(1), 1);
  await until(() => relay.clients()[0].upstreamPort !== 0, WAIT, 'the new upstream socket bound');
  const { upstreamPort } = relay.clients()[0];
  t.not(upstreamPort, firstPort);
  // Anything the client sends now (this packet, its pings) leaves from the new port.
  client.sendPacket({ n: 1 });
  await until(() => observer.clients().length === 2, WAIT, 'traffic from the new port');
  t.true(observer.clients().some((c) => c.source === `127.0.0.1:${upstreamPort}`), JSON.stringify(observer.clients()));
  t.true(observer.stats().forwarded.up > 0);
});
