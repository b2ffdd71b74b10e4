// The hardening issue's attacks, each reproduced against a real server on loopback while a
// legitimate ENetClient on 127.0.0.1 connects, logs in and exchanges packets. Attackers bind other
// 127.x addresses (Linux routes all of 127/8 to lo), so per-address defences can be told from the
// legitimate client. Every attack is bounded in count and time and stops by itself; every
// assertion here fails against a server without the defence (checked against the commit before it).
// Tools: test/attack/ (forged CONNECTs, the legitimate side) and test/c/attacker.c (ENet clients).
// Serial: the tests measure the process's RSS and share attacker addresses.
import test from 'ava';
import { AuthMode, Err, ENetClient } from '../dist/index.js';
import { startServer, connectClient, waitFor, until } from './helpers.js';
import { startForging } from './attack/forge.js';
import { attacker, attackerBuilt, fields } from './attack/c-attacker.js';
import { echoLegit, legitAttempt, exchange } from './attack/legit.js';

const quiet = { warn() {}, error() {} };
const MiB = 1024 * 1024;
const ATTACKER_ADDRESS = '127.0.0.5';
const fromAttacker = (peer) => peer.getRemoteAddress() === ATTACKER_ADDRESS;
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (!attackerBuilt()) {
  test('the C attacker is built', (t) => t.fail('test/c/bin/attacker is missing: run node test/c/build.mjs'));
}

/** A server that echoes the legitimate packets, plus one legitimate client exchanging with it all along. */
async function setup(t, { maxPeers = 32, options = {}, setup: configure } = {}) {
  const server = await startServer(t, { maxPeers, options: { logger: quiet, ...options }, setup: configure });
  server.on('error', () => {});
  echoLegit(server);
  return server;
}

async function legitExchanger(t, server, { login } = {}) {
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const connected = waitFor(client, 'connectedToServer');
  const authenticated = waitFor(server, 'peerAuthenticated', undefined, (p) => p.getRemoteAddress() === '127.0.0.1');
  client.connectToServer('127.0.0.1', server.getLocalPort(), 2);
  await connected;
  if (login) client.sendPacket(login);
  const [peer] = await authenticated;
  const traffic = exchange(client, 0);
  t.teardown(() => traffic.stop());
  return { client, peer, traffic };
}

/** Samples `f()` every `ms` until stopped; keeps the maximum. */
function sampler(f, ms = 20) {
  let max = f();
  const timer = setInterval(() => (max = Math.max(max, f())), ms);
  return {
    get max() {
      return max;
    },
    stop() {
      clearInterval(timer);
      max = Math.max(max, f());
      return max;
    },
  };
}

const rss = () => process.memoryUsage().rss;

// ---------------------------------------------------------------------------------------------
// 1. Handshakes

test.serial('256 forged CONNECTs/s from one address: a legitimate client connects within 2 s in ≥ 9/10 attempts, no reflection, refused and counted', async (t) => {
  t.timeout(30_000);
  const server = await setup(t, { maxPeers: 256 });
  const port = server.getLocalPort();
  const pending = sampler(() => server.getMetrics().pendingConnects ?? Infinity);
  t.teardown(() => pending.stop());
  const forging = await startForging({ port, bind: ATTACKER_ADDRESS, perSecond: 256, durationMs: 4500 });
  t.teardown(() => forging.close());
  await delay(300); // the first second's CONNECTs have landed
  const attempts = [];
  for (let i = 0; i < 10; i++) {
    attempts.push(await legitAttempt(server, port, { connectMs: 2000 }));
    await delay(100);
  }
  await forging.sending;
  // What the server still sends to the forged address: until no handshake is left (handshakeTimeoutMs).
  await until(() => server.getMetrics().pendingConnects === 0, 8000, 'no handshake in progress');
  await delay(100); // the last datagrams in flight on lo
  await forging.close();
  const maxPending = pending.stop();
  const m = server.getMetrics();
  const ok = attempts.filter((a) => a.ok).length;
  const { sent, bytesSent, received, bytesReceived, verifyConnects } = forging.stats;
  t.log(`legit ${ok}/10 (connect ms: ${attempts.map((a) => a.connectMs ?? 'x').join(' ')}); forged ${sent} CONNECTs = ${bytesSent} B, got back ${received} datagrams (${verifyConnects} VERIFY_CONNECT) = ${bytesReceived} B`);
  t.log(`pendingConnects max ${maxPending}; refusedConnects ${JSON.stringify(m.refusedConnects)}; peers ${m.peers}`);
  t.true(ok >= 9, `legitimate connects: ${ok}/10 (${attempts.map((a) => a.stage).join(', ')})`);
  t.true(sent >= 1000, `the attack really ran: ${sent} forged CONNECTs`);
  t.true(bytesReceived <= bytesSent, `bytes sent back to the forging address (${bytesReceived}) ≤ bytes it sent (${bytesSent})`);
  t.true(m.refusedConnects.total > 0, 'refused CONNECTs are counted');
  t.is(m.refusedConnects.total, m.refusedConnects.rate + m.refusedConnects.pending + m.refusedConnects.perAddress + m.refusedConnects.banned + (m.refusedConnects.full ?? 0));
  // The forger holds at most maxPendingPerAddress (4) handshakes; the legitimate client one more.
  t.true(maxPending <= 4 + 1, `pendingConnects stayed ≤ 5 (max ${maxPending})`);
  t.is(server.getPeerCount(), 0, 'no forged handshake ever became a peer');
});

test.serial('a peer that never completes its handshake is reset after handshakeTimeoutMs: its VERIFY_CONNECTs stop', async (t) => {
  t.timeout(15_000);
  const server = await setup(t, { maxPeers: 16, options: { handshakeTimeoutMs: 1000 } });
  const forging = await startForging({ port: server.getLocalPort(), bind: '127.0.0.8', perSecond: 100, durationMs: 30 }); // 3 CONNECTs
  t.teardown(() => forging.close());
  await forging.sending;
  await until(() => server.getMetrics().pendingConnects === 3, 2000, '3 handshakes in progress');
  const t0 = Date.now();
  await until(() => server.getMetrics().pendingConnects === 0, 3000, 'the handshakes dropped');
  const dropAfter = Date.now() - t0;
  const received = forging.stats.received;
  await delay(1500); // ENet would retransmit VERIFY_CONNECT well within this if the peers were alive
  t.log(`handshakes dropped ~${dropAfter} ms after they were seen; ${received} VERIFY_CONNECTs before, ${forging.stats.received - received} after`);
  t.true(dropAfter <= 1500, `dropped within handshakeTimeoutMs (+ a pass): ${dropAfter} ms`);
  t.is(forging.stats.received, received, 'nothing more is sent to the forged address');
  t.true(forging.stats.verifyConnects >= 3);
});

// ---------------------------------------------------------------------------------------------
// 2. Per-address limits

test.serial('one address filling the slots with real connections is capped at maxPeersPerAddress; a legitimate client still connects', async (t) => {
  t.timeout(30_000);
  const server = await setup(t, { maxPeers: 64 });
  const port = server.getLocalPort();
  const fromIt = sampler(() => server.getPeers().filter(fromAttacker).length);
  t.teardown(() => fromIt.stop());
  const legit = await legitExchanger(t, server);
  const a = attacker('hold', { port, bind: ATTACKER_ADDRESS, peers: 64, durationMs: 4000, retryMs: 200 });
  t.teardown(() => a.kill());
  // The attacker gets up to the cap (32 by default) and no further.
  await a.waitLine(/^STAT .*max=(3[2-9]|[4-9]\d)/, 6000).catch(() => {});
  const attempts = [];
  for (let i = 0; i < 3; i++) attempts.push(await legitAttempt(server, port));
  const { lines } = await a.exited;
  const done = fields(lines.find((l) => l.startsWith('DONE')) ?? '');
  const maxFromIt = fromIt.stop();
  const traffic = await legit.traffic.finish();
  const m = server.getMetrics();
  t.log(`attacker: ${JSON.stringify(done)}; server saw at most ${maxFromIt} of its peers; refused ${JSON.stringify(m.refusedConnects)}; legit ${attempts.filter((x) => x.ok).length}/3`);
  t.true(done.attempts > 64, 'the attacker kept trying');
  t.true(done.max <= 32, `the attacker held at most 32 connections (${done.max})`);
  t.true(maxFromIt <= 32, `the server had at most 32 peers from ${ATTACKER_ADDRESS} (${maxFromIt})`);
  t.true(done.max >= 16, `the attacker did get connections: the limit, not a failure, stopped it (${done.max})`);
  t.true(m.refusedConnects.total > 0);
  t.true(attempts.every((x) => x.ok), `legitimate attempts: ${attempts.map((x) => x.stage).join(', ')}`);
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
});

/** The reconnect attacker against AUTH_CUSTOM with a 2 s timeout; `login`: what the attacker sends. */
async function reconnectAttack(t, login) {
  const server = await setup(t, {
    maxPeers: 48,
    setup: (s) => {
      s.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
      s.setAuthenticationTimeout(2);
      // Approves the legitimate token, rejects a bad one, leaves anything else pending (never approved).
      s.setCustomAuthenticator((peer, data) => (data?.token === 'good' ? true : data?.token === 'bad' ? false : undefined));
    },
  });
  const port = server.getLocalPort();
  const fromIt = sampler(() => server.getPeers().filter(fromAttacker).length);
  t.teardown(() => fromIt.stop());
  const legit = await legitExchanger(t, server, { login: { token: 'good' } });
  const a = attacker('hold', { port, bind: ATTACKER_ADDRESS, peers: 64, durationMs: 6000, retryMs: 200, login });
  t.teardown(() => a.kill());
  await a.waitLine(/^STAT connected=[1-9]/, 3000).catch(() => {});
  const attempts = [];
  for (let i = 0; i < 10; i++) {
    attempts.push(await legitAttempt(server, port, { login: { token: 'good' }, connectMs: 2000, restMs: 2000 }));
    await delay(150);
  }
  await until(() => server.getMetrics().refusedConnects?.banned > 0, 6000, 'the attacker refused as banned').catch(() => {});
  const m = server.getMetrics();
  const { lines } = await a.kill();
  const last = fields(lines.filter((l) => /^(STAT|DONE)/.test(l)).at(-1) ?? '');
  const traffic = await legit.traffic.finish();
  const ok = attempts.filter((x) => x.ok).length;
  t.log(`legit logins ${ok}/10 (${attempts.map((x) => `${x.stage}:${x.totalMs}`).join(' ')}); attacker ${JSON.stringify(last)}, at most ${fromIt.stop()} on the server`);
  t.log(`bannedAddresses ${m.bannedAddresses}; refusedConnects ${JSON.stringify(m.refusedConnects)}`);
  t.true(ok >= 9, `legitimate logins ${ok}/10`);
  t.true(last.attempts > 32, 'the attacker kept reconnecting');
  t.true(m.bannedAddresses >= 1, 'the attacking address is banned');
  t.true(m.refusedConnects.banned > 0, 'its CONNECTs are refused as banned');
  t.true(fromIt.max <= 32);
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
}

test.serial('AUTH_CUSTOM, 2 s auth timeout, one address reconnecting as fast as it can and never approved: legitimate logins ≥ 9/10, the address banned', async (t) => {
  t.timeout(40_000);
  await reconnectAttack(t, 'none');
});

test.serial('AUTH_CUSTOM, one address reconnecting as fast as it can with a bad login: legitimate logins ≥ 9/10, the address banned', async (t) => {
  t.timeout(40_000);
  await reconnectAttack(t, 'bad');
});

// ---------------------------------------------------------------------------------------------
// 3. Memory bounds

test.serial('32 peers pinning fragments (the last one withheld): RSS growth ≤ 32 × 2 × maxPacketSize + 50 MB', async (t) => {
  t.timeout(40_000);
  const maxPacketSize = 256 * 1024;
  // The per-peer rate limit off: only the memory bound (maximumWaitingData) defends here.
  const server = await setup(t, { maxPeers: 64, options: { maxPacketSize, rateLimit: false } });
  const port = server.getLocalPort();
  const legit = await legitExchanger(t, server);
  globalThis.gc?.();
  const rss0 = rss();
  const peak = sampler(rss, 50);
  t.teardown(() => peak.stop());
  // 8 addresses × 4 peers; each peer sends 16 packets of maxPacketSize but their last fragments:
  // 4 MiB per peer, 128 MiB in all, twice over (a lost fragment is sent again).
  const binds = Array.from({ length: 8 }, (_, i) => `127.0.0.${10 + i}`).join(',');
  const a = attacker('pin', { port, bind: binds, peers: 4, packetSize: maxPacketSize, packets: 16, rateMbps: 150, passes: 2, holdMs: 1500 });
  t.teardown(() => a.kill());
  const connected = Number((await a.waitLine(/^CONNECTED (\d+)/, 15_000))[1]);
  const sent = fields((await a.waitLine(/^SENT /, 30_000)).input);
  await a.waitLine(/^DONE/, 15_000);
  const growth = peak.stop() - rss0;
  const bound = 32 * 2 * maxPacketSize + 50e6;
  const traffic = await legit.traffic.finish();
  t.log(`${connected} pinning peers sent ${sent.fragments} fragments (${(sent.bytes / 1e6).toFixed(0)} MB) in ${sent.ms} ms; RSS +${(growth / 1e6).toFixed(1)} MB (bound ${(bound / 1e6).toFixed(1)} MB); legit ${traffic.received}/${traffic.sent}`);
  t.is(connected, 32);
  t.true(sent.bytes >= 100e6, 'the attack really ran');
  t.true(growth <= bound, `RSS grew ${(growth / 1e6).toFixed(1)} MB, bound ${(bound / 1e6).toFixed(1)} MB`);
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
  t.true(server.isServerActive());
});

test.serial('a packet over maxPacketSize disconnects its peer with "Packet too large" (counted once); another peer is unaffected', async (t) => {
  t.timeout(20_000);
  const maxPacketSize = 64 * 1024;
  const server = await setup(t, { maxPeers: 16, options: { maxPacketSize } });
  const port = server.getLocalPort();
  const legit = await legitExchanger(t, server);
  // Exactly maxPacketSize is still fine.
  const exact = waitFor(server, 'rawPacketReceived', 5000, (peer) => peer.getRemoteAddress() === '127.0.0.1');
  legit.client.sendRawPacket(new Uint8Array(maxPacketSize), 1, true);
  const [, data] = await exact;
  t.is(data.length, maxPacketSize);
  const kicked = waitFor(server, 'peerDisconnected', 8000, fromAttacker);
  const a = attacker('oversize', { port, bind: ATTACKER_ADDRESS, size: maxPacketSize + 1, holdMs: 6000 });
  t.teardown(() => a.kill());
  const [, reason] = await kicked;
  const gone = await a.waitLine(/^(DISCONNECTED|ALIVE)/, 8000);
  const traffic = await legit.traffic.finish();
  const m = server.getMetrics();
  t.log(`attacker: ${a.lines.join(' | ')}; kicked ${JSON.stringify(m.kicked)}`);
  t.is(reason, 'Packet too large');
  t.is(gone[1], 'DISCONNECTED');
  t.is(m.kicked.packetTooLarge, 1);
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
  t.is(traffic.disconnected, null);
});

// ---------------------------------------------------------------------------------------------
// 4. Rate limits

test.serial('a flood from one peer: excess dropped and counted, the flooder kicked with "Rate limit exceeded" after disconnectAfterMs, the legitimate messages all delivered', async (t) => {
  t.timeout(30_000);
  const rateLimit = { packetsPerSecond: 2000, bytesPerSecond: 4 * MiB, burst: 2, disconnectAfterMs: 2000 };
  const server = await setup(t, { maxPeers: 16, options: { rateLimit } });
  const port = server.getLocalPort();
  let fromFlooder = 0;
  // An echoing handler: every packet of the flooder's that gets through is sent back (reliably).
  server.on('packetReceived', (peer, packet, channel) => {
    if (fromAttacker(peer)) {
      fromFlooder++;
      server.sendPacket(peer.peerId, packet, channel, true);
    }
  });
  const legit = await legitExchanger(t, server);
  const kicked = waitFor(server, 'peerDisconnected', 12_000, fromAttacker);
  const a = attacker('flood', { port, bind: ATTACKER_ADDRESS, rate: 20_000, durationMs: 8000, size: 16 });
  t.teardown(() => a.kill());
  await a.waitLine(/^FLOODING/, 5000);
  const t0 = Date.now();
  const [, reason] = await kicked;
  const after = Date.now() - t0;
  const end = fields((await a.waitLine(/^(DISCONNECTED|DONE)/, 10_000)).input);
  const traffic = await legit.traffic.finish();
  const m = server.getMetrics();
  t.log(`flooder sent ${end.sent} packets, ${fromFlooder} reached the handler; kicked after ${after} ms with "${reason}"; rateLimited ${m.rateLimited}; kicked ${JSON.stringify(m.kicked)}; legit ${traffic.received}/${traffic.sent}`);
  t.is(reason, 'Rate limit exceeded');
  t.true(after >= rateLimit.disconnectAfterMs - 200, `not before disconnectAfterMs (${after} ms)`);
  t.true(after <= rateLimit.disconnectAfterMs + 2500, `soon after disconnectAfterMs (${after} ms)`);
  t.true(m.rateLimited > 0, 'dropped packets are counted');
  t.is(m.kicked.rateLimit, 1);
  // What reached JS: at most the bucket (burst × rate) plus the rate over the time it ran.
  const allowed = rateLimit.packetsPerSecond * (rateLimit.burst + (after + 500) / 1000);
  t.true(fromFlooder <= allowed, `${fromFlooder} of the flooder's packets reached the handler (≤ ${allowed})`);
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
  t.is(traffic.disconnected, null);
});

test.serial('a 200,000 packets/s flooder is really disconnected soon after its kick, while it is still flooding', async (t) => {
  t.timeout(30_000);
  const rateLimit = { packetsPerSecond: 2000, bytesPerSecond: 4 * MiB, burst: 2, disconnectAfterMs: 2000 };
  const server = await setup(t, { maxPeers: 16, options: { rateLimit } });
  const port = server.getLocalPort();
  const legit = await legitExchanger(t, server);
  const kicked = waitFor(server, 'peerDisconnected', 15_000, fromAttacker);
  // Far more datagrams per second than the per-peer datagram bucket lets through: its acks, too.
  const a = attacker('flood', { port, bind: ATTACKER_ADDRESS, rate: 200_000, durationMs: 8000, size: 16 });
  t.teardown(() => a.kill());
  await a.waitLine(/^FLOODING/, 5000);
  const t0 = Date.now();
  const [, reason] = await kicked;
  const after = Date.now() - t0;
  const end = await a.waitLine(/^(DISCONNECTED|DONE)/, 12_000);
  const traffic = await legit.traffic.finish();
  const m = server.getMetrics();
  t.log(`flooder: ${end.input}; server's peerDisconnected after ${after} ms ("${reason}"); rateLimited ${m.rateLimited}; kicked ${JSON.stringify(m.kicked)}; legit ${traffic.received}/${traffic.sent}`);
  t.is(reason, 'Rate limit exceeded');
  t.is(m.kicked.rateLimit, 1);
  t.true(after <= rateLimit.disconnectAfterMs + 2000, `disconnected ${after} ms into the flood (kick due at ~${rateLimit.disconnectAfterMs} ms)`);
  t.is(end[1], 'DISCONNECTED', 'the flooder is told while it still floods (its 8 s are not over)');
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
});

test.serial('a peer that stops acknowledging: sendPacket returns ERR_BUSY once maxQueuedBytesPerPeer is queued, queuedBytes bounded, group sends skip it, other peers unaffected', async (t) => {
  t.timeout(20_000);
  const maxPacketSize = 64 * 1024;
  const maxQueuedBytesPerPeer = 128 * 1024;
  const server = await setup(t, { maxPeers: 16, options: { maxPacketSize, maxQueuedBytesPerPeer } });
  const port = server.getLocalPort();
  const legit = await legitExchanger(t, server);
  const ready = waitFor(server, 'packetReceived', 5000, (peer, packet) => fromAttacker(peer) && packet === 'stall-ready');
  const a = attacker('stall', { port, bind: ATTACKER_ADDRESS, holdMs: 6000 });
  t.teardown(() => a.kill());
  const [stalled] = await ready;
  await a.waitLine(/^STALLING/, 3000);
  const chunk = new Uint8Array(8 * 1024);
  // Sends spread over event-loop turns (as a game's ticks would be), at most 2 MiB.
  let accepted = 0;
  let busy = null;
  for (let i = 0; i < 256 && busy === null; i++) {
    const err = server.sendPacket(stalled.peerId, chunk, 0, true);
    if (err === Err.ERR_BUSY) busy = i;
    else if (err === Err.OK) accepted += chunk.length;
    else t.fail(`sendPacket returned ${err}`);
    if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve));
  }
  const queuedAtBusy = server.getMetrics().queuedBytes;
  // A synchronous burst right after: still refused.
  let burstAccepted = 0;
  for (let i = 0; i < 64; i++) if (server.sendPacket(stalled.peerId, chunk, 0, true) === Err.OK) burstAccepted += chunk.length;
  // Group sends: OK for the others, the stalled peer skipped (its queue does not grow).
  const groupEchoes = [];
  legit.client.on('packetReceived', (p) => p?.kind === 'group' && groupEchoes.push(p.i));
  for (let i = 0; i < 20; i++) t.is(server.sendPacketToAll({ kind: 'group', i, pad: 'x'.repeat(4000) }, 0, true), Err.OK);
  await until(() => groupEchoes.length === 20, 5000, 'the group sends reach the legitimate client');
  const m = server.getMetrics();
  const traffic = await legit.traffic.finish();
  t.log(`ERR_BUSY after ${busy} sends (${accepted} B accepted); queuedBytes ${queuedAtBusy} at that point, ${m.queuedBytes} after 20 group sends; burst accepted ${burstAccepted} B; busySkipped ${m.busySkipped}`);
  t.not(busy, null, 'sendPacket returned ERR_BUSY');
  t.true(accepted <= maxQueuedBytesPerPeer + chunk.length, `accepted ${accepted} B before ERR_BUSY (limit ${maxQueuedBytesPerPeer})`);
  t.true(burstAccepted <= chunk.length, `a burst after ERR_BUSY is refused too (${burstAccepted} B accepted)`);
  t.true(m.queuedBytes <= maxQueuedBytesPerPeer + 2 * chunk.length + 64 * 1024, `queuedBytes ${m.queuedBytes} stays bounded`);
  t.is(server.sendPacket(legit.peer.peerId, { kind: 'legit', c: 99, n: 0 }, 0, true), Err.OK, 'sends to another peer are OK');
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
});

test.serial('datagrams over ENet\'s 4096-byte receive buffer (truncated, so ENet fails the pass before any check): the legitimate client keeps exchanging, errors are logged at most about once a second', async (t) => {
  t.timeout(20_000);
  const errors = [];
  const server = await setup(t, { maxPeers: 16, options: { logger: { warn() {}, error: (m) => errors.push(m) } } });
  const port = server.getLocalPort();
  const legit = await legitExchanger(t, server);
  const { countingSocket } = await import('./attack/forge.js');
  const s = await countingSocket('127.0.0.6');
  t.teardown(() => s.close());
  const big = Buffer.alloc(5000, 0x41);
  // 20,000 datagrams/s for 3 s, in 10 ms ticks.
  const t0 = Date.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < 200; i++) s.send(big, port, '127.0.0.1');
      if (Date.now() - t0 >= 3000) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const seconds = (Date.now() - t0) / 1000;
  const traffic = await legit.traffic.finish();
  t.log(`${s.stats.sent} datagrams of ${big.length} B in ${seconds.toFixed(1)} s; ${errors.length} errors logged (${errors[0]?.slice(0, 80)}); legit ${traffic.received}/${traffic.sent}`);
  t.true(s.stats.sent >= 30_000);
  t.true(server.isServerActive());
  t.is(traffic.lost, 0);
  t.true(traffic.inOrder);
  t.true(errors.length <= Math.ceil(seconds) + 1, `${errors.length} errors logged in ${seconds.toFixed(1)} s`);
});

// ---------------------------------------------------------------------------------------------
// 7. Metrics

test.serial('getMetrics() has the defence counters, zero on a fresh server', async (t) => {
  const server = await setup(t);
  const m = server.getMetrics();
  t.is(m.pendingConnects, 0);
  t.deepEqual(Object.keys(m.refusedConnects).sort(), ['banned', 'full', 'pending', 'perAddress', 'rate', 'total'].sort());
  for (const v of Object.values(m.refusedConnects)) t.is(v, 0);
  t.is(m.rateLimited, 0);
  t.deepEqual(m.kicked, { packetTooLarge: 0, rateLimit: 0 });
  t.is(m.queuedBytes, 0);
  t.is(m.bannedAddresses, 0);
});

test.serial('/metrics exports the defence counters (enet-server --metrics-port)', async (t) => {
  t.timeout(30_000);
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const CLI = new URL('../dist/cli/server.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [CLI, '--bind', '127.0.0.1', '--port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const { port, url } = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('enet-server did not start')), 15_000);
    let port;
    let url;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on [\d.]+:(\d+)$/.exec(line);
      if (m) port = Number(m[1]);
      const u = /(http:\/\/\S+\/metrics)/.exec(line);
      if (u) url = u[1];
      if (port && url) {
        clearTimeout(timer);
        resolve({ port, url });
      }
    });
    child.once('exit', () => reject(new Error('enet-server exited early')));
  });
  const forging = await startForging({ port, bind: ATTACKER_ADDRESS, perSecond: 256, durationMs: 500 });
  t.teardown(() => forging.close());
  await forging.sending;
  const value = (text, name) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  let text = '';
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    text = await (await fetch(url)).text();
    if (value(text, 'enet_refused_connects_total{cause="rate"}') > 0) break;
    await delay(50);
  }
  t.regex(text, /^enet_pending_connects \d+/m);
  t.true(value(text, 'enet_refused_connects_total{cause="rate"}') > 0, 'refused CONNECTs by cause');
  for (const cause of ['pending', 'perAddress', 'banned']) t.regex(text, new RegExp(`^enet_refused_connects_total\\{cause="${cause}"\\} \\d+`, 'm'));
  t.regex(text, /^enet_rate_limited_packets_total \d+/m);
  t.regex(text, /^enet_kicked_total\{cause="[^"]+"\} \d+/m);
  t.regex(text, /^enet_queued_bytes \d+/m);
});
