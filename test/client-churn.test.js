// Client churn costs nothing later (issue 20): thousands of short sessions — connect, five packets
// both ways, leave — on one client network, some on ENetClient objects used again and again, some on
// a new one each time, against a real enet-server (a child process, so only the clients are
// measured). After a warm-up batch, two equal batches: the second must not grow the heap (after GC)
// any more than noise, and the network's native host count is back where it started. A closed
// session used to leave its host's stats buffer held by native (~170 B each: 5.6 → 44 MB of heap
// over 211,754 sessions). And a client of a server that has no sessions (the raw C echo server: no
// `_session` ever comes) keeps at most one outbox of what it sends, not every reliable packet.
import test from 'ava';
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ENetClient, Err, createClientNetwork } from '../dist/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const SERVER = new URL('../dist/cli/server.js', import.meta.url).pathname;
const RAW_ECHO = new URL('../bench/c/bin/echo_server', import.meta.url).pathname;
const LOOPS = 40;
const BATCH = 8000; // sessions per measured batch
const BATCH_MS = 10_000; // …or fewer, if the machine is slow: the growth is judged per session

async function startServer(t, raw = false) {
  const child = raw
    ? spawn(RAW_ECHO, ['0', '16'], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(LOOPS * 2)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`enet-server did not start: ${out}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`enet-server exited (${code}): ${out}`)));
    // The demo logs every join and leave: read on, but keep none of it (it would grow the heap measured here).
    child.stdout.setEncoding('utf8').on('data', function onData(chunk) {
      out += chunk;
      const m = /listening (?:on [\d.]+:)?(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData).resume();
      out = '';
      resolve(Number(m[1]));
    });
  });
}

/** One session: connect, send five packets, wait for their five echoes, leave; resolves once it is gone. */
function session(client, port) {
  return new Promise((resolve, reject) => {
    let echoes = 0;
    const timer = setTimeout(() => done(new Error('a session took more than 10 s')), 10_000);
    const onConnected = () => {
      for (let i = 0; i < 5; i++) client.sendPacket({ i, pad: 'x'.repeat(32) });
    };
    const onPacket = () => {
      if (++echoes === 5) client.disconnectFromServer();
    };
    const onGone = () => done();
    const onFailed = (reason) => done(new Error(`connectionFailed: ${reason}`));
    const done = (error) => {
      clearTimeout(timer);
      client.off('connectedToServer', onConnected).off('packetReceived', onPacket);
      client.off('disconnectedFromServer', onGone).off('connectionFailed', onFailed);
      if (error) reject(error);
      else resolve();
    };
    client.on('connectedToServer', onConnected).on('packetReceived', onPacket);
    client.on('disconnectedFromServer', onGone).on('connectionFailed', onFailed);
    const err = client.connectToServer('127.0.0.1', port);
    if (err !== Err.OK) done(new Error(`connectToServer returned ${err}`));
  });
}

/** `count` sessions over LOOPS loops (half reuse one client, half make a new one per session), at most `ms`. */
async function batch(network, port, count, ms) {
  let started = 0;
  let finished = 0;
  const deadline = Date.now() + ms;
  const loop = async (reuse) => {
    let client = new ENetClient({ network });
    while (started < count && Date.now() < deadline) {
      started++;
      await session(client, port);
      finished++;
      if (!reuse) client = new ENetClient({ network });
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i % 2 === 0)));
  return finished;
}

function measure() {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

test('thousands of closed client sessions leave nothing behind: heap and native hosts back to their start', async (t) => {
  t.timeout(60_000);
  const port = await startServer(t);
  const network = createClientNetwork();
  t.teardown(() => network.close());
  const hostsAtStart = network.getMetrics().hosts;

  // Warm-up: the network's thread and rings, the codec, the JIT.
  await batch(network, port, 1000, BATCH_MS);
  const m0 = measure();
  const first = await batch(network, port, BATCH, BATCH_MS);
  const m1 = measure();
  const second = await batch(network, port, BATCH, BATCH_MS);
  const m2 = measure();

  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  const growth1 = m1.heapUsed - m0.heapUsed;
  const growth2 = m2.heapUsed - m1.heapUsed;
  t.log(`sessions ${first} + ${second}; heap growth ${kb(growth1)} then ${kb(growth2)}; ` +
    `array buffers ${kb(m1.arrayBuffers - m0.arrayBuffers)} then ${kb(m2.arrayBuffers - m1.arrayBuffers)}`);
  t.true(first >= 1000 && second >= 1000, `too few sessions to judge: ${first}, ${second}`);

  // No host left behind in native, and none attached in JS.
  t.is(network.getMetrics().hosts, hostsAtStart);
  t.is(network.getMetrics().clients, 0);
  // The second batch grows neither the heap nor the buffers (the leak was ~90 B of heap and 80 B of
  // buffers per session: 0.7 MB of each per 8,000 sessions); a little noise is allowed.
  t.true(growth2 / second < 24, `heap grew ${kb(growth2)} over ${second} sessions (${(growth2 / second).toFixed(0)} B each)`);
  t.true((m2.arrayBuffers - m1.arrayBuffers) / second < 16, `array buffers grew ${kb(m2.arrayBuffers - m1.arrayBuffers)} over ${second} sessions`);
  t.true(m2.heapUsed - m0.heapUsed < 2 * 1024 * 1024, `heap grew ${kb(m2.heapUsed - m0.heapUsed)} over both batches`);
});

test('a client of a server without sessions (plain ENet) keeps no more than one outbox of what it sent', async (t) => {
  const port = await startServer(t, true);
  const network = createClientNetwork();
  t.teardown(() => network.close());
  const client = new ENetClient({ network, outboxBytes: 16 * 1024 });
  t.teardown(() => client.disconnectFromServer());
  await new Promise((resolve, reject) => {
    client.once('connectedToServer', resolve).once('connectionFailed', reject);
    client.connectToServer('127.0.0.1', port);
  });
  let echoes = 0;
  client.on('packetReceived', () => echoes++);
  const packets = 2000; // 2000 x ~80 B: ten times the outbox
  for (let i = 0; i < packets; i++) {
    t.is(client.sendPacket({ i, pad: 'x'.repeat(64) }), Err.OK);
    if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const deadline = Date.now() + 15_000;
  while (echoes < packets && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.is(echoes, packets);
  // No `_session` came: after an outbox's worth the client stopped keeping packets for a resume.
  t.is(client.session?.bytes ?? 0, 0);
});
