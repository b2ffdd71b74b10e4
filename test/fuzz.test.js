// A seeded datagram fuzzer (test/attack/fuzz.js, in a child process) against a server whose clients
// keep exchanging numbered messages: no crash, every message of theirs arrives in order, RSS bounded.
// The corpus is a real session captured through a UDP relay. Hostile datagrams come from 127.0.0.6
// (blind) and 127.0.0.7 (a peer whose handshake the fuzzer completes by hand), to 127.0.0.1 only.
// FUZZ_SEED=<n> replays one seed; FUZZ_COUNT=<n> changes the number of datagrams.
import test from 'ava';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CompressionMode, ENetClient } from '../dist/index.js';
import { startServer, connectClient, startUdpRelay, waitFor, until } from './helpers.js';

const FUZZ_CHILD = fileURLToPath(new URL('./attack/fuzz-child.mjs', import.meta.url));
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const quiet = { warn() {}, error() {} };

/** Captures the datagrams of a real session (connect, packets of every kind, a fragmented one, disconnect). */
async function captureCorpus(t, server, compression) {
  const corpus = [];
  const relay = await startUdpRelay(t, server.getLocalPort(), {
    toServer: (msg) => corpus.push(Buffer.from(msg)),
    toClient: (msg) => corpus.push(Buffer.from(msg)),
  });
  const client = new ENetClient();
  client.setCompressionMode(compression);
  const connected = waitFor(client, 'connectedToServer');
  client.connectToServer('127.0.0.1', relay.port, 2);
  await connected;
  const echoes = new Promise((resolve) => {
    let n = 0;
    client.on('packetReceived', () => {
      if (++n === 6) resolve();
    });
  });
  client.sendPacket({ kind: 'legit', c: -1, n: 0 }, 0, true);
  client.sendPacket('a string', 1, true);
  client.sendPacket({ kind: 'legit', c: -1, n: 1, pad: 'x'.repeat(5000) }, 0, true); // fragmented
  client.sendPacket({ kind: 'legit', c: -1, n: 2 }, 1, false); // unsequenced
  client.sendRawPacket(Buffer.from([0, 1, 2, 3]), 0, true);
  client.triggerEvent('ping', { at: 1 }, 0, true);
  await Promise.race([echoes, new Promise((resolve) => setTimeout(resolve, 2000))]);
  const left = waitFor(client, 'disconnectedFromServer', 3000).catch(() => {});
  client.disconnectFromServer();
  await left;
  return corpus;
}

async function fuzzAgainst(t, { compression, count, bound }) {
  const server = await startServer(t, {
    maxPeers: 64,
    channels: 4, // the fuzzer's own peer asks for 4: a clean stream on 0-1, the rest on 2-3
    options: { logger: quiet },
    setup: (s) => s.setCompressionMode(compression),
  });
  // Echo the legitimate clients' numbered messages (and everything else structured, to exercise sends).
  server.on('packetReceived', (peer, packet, channel) => {
    if (packet && typeof packet === 'object' && packet.kind === 'legit') server.sendPacket(peer.peerId, packet, channel, true);
  });
  server.on('error', () => {});
  const corpus = await captureCorpus(t, server, compression);
  t.true(corpus.length >= 10, `captured ${corpus.length} datagrams`);

  // Three legitimate clients on 127.0.0.1 send a numbered message every 10 ms for the whole run.
  const clients = [];
  for (let c = 0; c < 3; c++) {
    const client = new ENetClient();
    client.setCompressionMode(compression);
    const { peer } = await connectClient(t, server, { client });
    const state = { client, peer, sent: 0, got: [], disconnected: null };
    client.on('packetReceived', (packet) => {
      if (packet?.kind === 'legit' && packet.c === c) state.got.push(packet.n);
    });
    client.on('disconnectedFromServer', (reason) => (state.disconnected = reason));
    clients.push(state);
  }
  const sender = setInterval(() => {
    for (const [c, s] of clients.entries()) {
      if (s.client.sendPacket({ kind: 'legit', c, n: s.sent }, 0, true) === 0) s.sent++;
    }
  }, 10);
  t.teardown(() => clearInterval(sender));

  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 100);
  t.teardown(() => clearInterval(sampler));

  const child = fork(FUZZ_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => child.kill('SIGKILL'));
  const done = new Promise((resolve, reject) => {
    child.on('message', (m) => m.done && resolve(m.done));
    child.on('exit', (code) => reject(new Error(`fuzzer exited (${code}) before reporting`)));
  });
  child.send({
    options: { port: server.getLocalPort(), seed: SEED, count, deadlineMs: 18_000, compression: compression === CompressionMode.COMPRESS_ZLIB ? 'zlib' : 'none' },
    corpus: corpus.map((b) => b.toString('hex')),
  });
  const exchangedBefore = clients.map((s) => s.got.length);
  const stats = await done;
  const exchangedDuring = clients.map((s, i) => s.got.length - exchangedBefore[i]);

  // Stop the clients' traffic; everything they sent must come back, in order.
  clearInterval(sender);
  clearInterval(sampler);
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  await until(() => clients.every((s) => s.got.length >= s.sent || s.disconnected !== null), 10_000, 'every echo back');
  const growthMB = (rssMax - rss0) / 1e6;
  const m = server.getMetrics();
  t.log(
    `seed ${SEED}: ${stats.sent} datagrams (${stats.blind} blind, ${stats.inSession} in ${stats.handshakes} sessions, ${stats.sessionsLost} lost, ${stats.handshakeFailures} handshakes failed; ${stats.acks} acks), ` +
      `${(stats.bytes / 1e6).toFixed(1)} MB in ${stats.elapsedMs} ms; server answered ${stats.received}; ` +
      `clients exchanged ${exchangedDuring.join('/')} during the run; RSS +${growthMB.toFixed(1)} MB; ` +
      `malformed ${m.malformedPackets}, refused ${JSON.stringify(m.refusedConnects)}, rateLimited ${m.rateLimited}, kicked ${JSON.stringify(m.kicked)}`,
  );
  t.true(server.isServerActive(), 'the server is still running');
  t.true(stats.sent >= count, `sent ${stats.sent} of ${count} datagrams within the deadline`);
  for (const [c, s] of clients.entries()) {
    t.is(s.disconnected, null, `client ${c} stayed connected`);
    t.true(exchangedDuring[c] > 0, `client ${c} exchanged during the fuzzing`);
    t.deepEqual(s.got, Array.from({ length: s.sent }, (_, i) => i), `client ${c}: every numbered message came back, in order`);
  }
  t.true(growthMB <= bound, `RSS grew ${growthMB.toFixed(1)} MB (bound ${bound} MB)`);
  // And a new client still gets in.
  const fresh = new ENetClient();
  fresh.setCompressionMode(compression);
  await connectClient(t, server, { client: fresh });
  t.pass();
}

const COUNT = Number(process.env.FUZZ_COUNT ?? 200_000);

test.serial(`fuzzer: ${COUNT} datagrams, COMPRESS_NONE`, async (t) => {
  t.timeout(40_000);
  await fuzzAgainst(t, { compression: CompressionMode.COMPRESS_NONE, count: COUNT, bound: 64 });
});

test.serial(`fuzzer: ${Math.round(COUNT / 2)} datagrams, COMPRESS_ZLIB (the decompressor sees the compressed ones first)`, async (t) => {
  t.timeout(40_000);
  await fuzzAgainst(t, { compression: CompressionMode.COMPRESS_ZLIB, count: Math.round(COUNT / 2), bound: 64 });
});
