#!/usr/bin/env node
// Hardening benchmark: the hardening issue's attacks against our server (bench/hardening-server.mjs,
// a process of its own), on loopback only, measured against the targets.
//
//   node bench/hardening.mjs [--runs 3] [--only forge,reconnect,pin,flood] [--out bench/results/hardening.json]
//                            [--flood-rate 200000] [--flood-ms 7000] [--loadgen-clients 50] [--loadgen-rate 2000]
//
// Sections (each run starts fresh servers; attackers bind 127.0.0.5 or 127.0.0.10-17, the legitimate
// clients 127.0.0.1):
//   forge      256 forged CONNECTs/s (raw UDP, test/attack/forge.js) for 5 s at a 256-slot server; 10
//              legitimate attempts (connect within 2 s, be welcomed, one echo). Target: ≥ 9/10, bytes back
//              to the forging address ≤ bytes it sent (counted until no handshake is left).
//   reconnect  AUTH_CUSTOM, 2 s auth timeout, 48 slots; test/c/bin/attacker hold (64 peers, reconnecting at
//              once) never approved ('none') and with a bad login ('bad'); 10 legitimate logins. Target ≥ 9/10.
//   pin        32 peers (8 addresses × 4) pin fragments of 16 packets of maxPacketSize (256 KiB) each, the
//              last fragment withheld, with the rate limit off and with the defaults. Target: server RSS
//              growth ≤ 32 × 2 × maxPacketSize + 50 MB.
//   flood      one peer sends --flood-rate small unsequenced packets/s (attacker flood) for --flood-ms while
//              bench/c/bin/loadgen runs --loadgen-clients clients at --loadgen-rate msg/s in total (reliable,
//              echoed) for 4 s, starting 500 ms into the flood; an echoing server. Variants, interleaved run
//              by run: no flood (reference), the defaults (the flooder is kicked 5 s after it goes over,
//              after the loadgen's step), the rate limit never kicking (disconnectAfterMs 10 min), the rate
//              limit off. Also the server's CPU during the step (/proc). Target: p99 RTT ≤ 20 ms, delivery
//              100%, server RSS growth ≤ 50 MB.
// Prints one line per run and a summary (median, min, max) per figure; everything goes to --out.
// Every wait is bounded, every child is killed on exit.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENetClient } from '../dist/index.js';
import { startForging } from '../test/attack/forge.js';
import { attacker } from '../test/attack/c-attacker.js';
import { buildCPrograms } from '../test/c/build.mjs';
import { headerComment, machineBusyTicks } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const LOADGEN = join(here, 'c', 'bin', 'loadgen');
const SERVER = join(here, 'hardening-server.mjs');

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(headerComment(import.meta.url));
  process.exit(0);
}
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', 3));
const ONLY = new Set(arg('--only', 'forge,reconnect,pin,flood').split(','));
const OUT = arg('--out', join(here, 'results', 'hardening.json'));
const FLOOD_RATE = Number(arg('--flood-rate', 200_000));
const FLOOD_MS = Number(arg('--flood-ms', 7000));
const LG_CLIENTS = Number(arg('--loadgen-clients', 50));
const LG_RATE = Number(arg('--loadgen-rate', 2000));

const log = (m) => process.stderr.write(m + '\n');
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Starts bench/hardening-server.mjs; resolves once it listens. */
async function startServer({ maxPeers = 256, options = {}, auth = 'none', authTimeout = 10, echo = 'all' } = {}) {
  const child = spawn(process.execPath, [SERVER, '--max-peers', String(maxPeers), '--options', JSON.stringify(options), '--auth', auth, '--auth-timeout', String(authTimeout), '--echo', echo], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const history = [];
  const waiters = new Set();
  let port = null;
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('listening ')) {
        port = Number(line.slice(10));
        clearTimeout(timer);
        resolve();
      } else if (line.startsWith('metrics ')) {
        const m = JSON.parse(line.slice(8));
        history.push(m);
        for (const w of waiters) w(m);
      }
    });
    child.once('exit', () => reject(new Error('server exited')));
  });
  await listening;
  return {
    port,
    pid: child.pid,
    history,
    get latest() {
      return history.at(-1);
    },
    /** Resolves with the first metrics line (from now) that passes `pred`, or null after `ms`. */
    waitMetrics(pred, ms = 10_000) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          resolve(null);
        }, ms);
        const w = (m) => {
          if (!pred(m)) return;
          clearTimeout(timer);
          waiters.delete(w);
          resolve(m);
        };
        waiters.add(w);
      });
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      children.delete(child);
    },
  };
}

function once(emitter, event, ms, filter = () => true) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      resolve(null);
    }, Math.max(0, ms));
    function listener(...a) {
      if (!filter(...a)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(a);
    }
    emitter.on(event, listener);
  });
}

/** A legitimate attempt: connected within connectMs, welcomed and one echo within connectMs + restMs. */
async function attempt(port, { login, connectMs = 2000, restMs = 2000 } = {}) {
  const client = new ENetClient();
  const t0 = Date.now();
  const r = { ok: false, stage: 'connect', connectMs: null, totalMs: null };
  try {
    const connected = once(client, 'connectedToServer', connectMs);
    const welcome = once(client, 'packetReceived', connectMs + restMs, (p) => p?.kind === 'welcome');
    client.connectToServer('127.0.0.1', port, 2);
    if (!(await connected)) return r;
    r.connectMs = Date.now() - t0;
    r.stage = 'login';
    if (login) client.sendPacket(login, 0, true);
    if (!(await welcome)) return r;
    r.stage = 'echo';
    const n = Math.floor(Math.random() * 1e9);
    const echo = once(client, 'packetReceived', connectMs + restMs - (Date.now() - t0), (p) => p?.kind === 'legit' && p.n === n);
    client.sendPacket({ kind: 'legit', n }, 0, true);
    if (!(await echo)) return r;
    r.stage = 'done';
    r.ok = true;
    return r;
  } finally {
    r.totalMs = Date.now() - t0;
    client.disconnectFromServer();
  }
}

async function forge() {
  const server = await startServer({ maxPeers: 256 });
  try {
    const f = await startForging({ port: server.port, bind: '127.0.0.5', perSecond: 256, durationMs: 5000 });
    await delay(300);
    const attempts = [];
    for (let i = 0; i < 10; i++) {
      attempts.push(await attempt(server.port));
      await delay(150);
    }
    await f.sending;
    await server.waitMetrics((m) => m.pendingConnects === 0, 8000);
    await delay(300);
    await f.close();
    const m = server.latest;
    const maxPending = Math.max(...server.history.map((h) => h.pendingConnects ?? 0));
    return {
      legitOk: attempts.filter((a) => a.ok).length,
      connectMsMax: Math.max(...attempts.map((a) => a.connectMs ?? Infinity)),
      forgedSent: f.stats.sent,
      bytesSent: f.stats.bytesSent,
      bytesBack: f.stats.bytesReceived,
      verifyConnects: f.stats.verifyConnects,
      backPerSent: f.stats.bytesReceived / f.stats.bytesSent,
      maxPending,
      refused: m.refusedConnects,
    };
  } finally {
    await server.stop();
  }
}

async function reconnect(login) {
  const server = await startServer({ maxPeers: 48, auth: 'custom', authTimeout: 2 });
  try {
    const a = attacker('hold', { port: server.port, bind: '127.0.0.5', peers: 64, durationMs: 7000, retryMs: 200, login });
    children.add({ kill: () => a.kill() });
    await a.waitLine(/^STAT connected=[1-9]/, 3000).catch(() => {});
    const attempts = [];
    for (let i = 0; i < 10; i++) {
      attempts.push(await attempt(server.port, { login: { token: 'good' } }));
      await delay(150);
    }
    const banned = await server.waitMetrics((m) => m.refusedConnects?.banned > 0, 6000);
    const { lines } = await a.kill();
    const last = lines.filter((l) => /^(STAT|DONE)/.test(l)).at(-1) ?? '';
    const m = banned ?? server.latest;
    return {
      legitOk: attempts.filter((x) => x.ok).length,
      totalMsMax: Math.max(...attempts.map((x) => x.totalMs)),
      attacker: last,
      attackerMaxOnServer: Math.max(...server.history.map((h) => h.byAddress?.['127.0.0.5'] ?? 0)),
      bannedAddresses: m.bannedAddresses,
      refusedBanned: m.refusedConnects?.banned,
    };
  } finally {
    await server.stop();
  }
}

async function pin(rateLimit) {
  const maxPacketSize = 256 * 1024;
  const options = { maxPacketSize, ...(rateLimit ? {} : { rateLimit: false }) };
  const server = await startServer({ maxPeers: 64, options, echo: 'legit' });
  try {
    const before = await server.waitMetrics(() => true, 2000);
    const binds = Array.from({ length: 8 }, (_, i) => `127.0.0.${10 + i}`).join(',');
    const a = attacker('pin', { port: server.port, bind: binds, peers: 4, packetSize: maxPacketSize, packets: 16, rateMbps: 150, passes: 2, holdMs: 2000 });
    children.add({ kill: () => a.kill() });
    const connected = Number((await a.waitLine(/^CONNECTED (\d+)/, 15_000))[1]);
    const sentLine = (await a.waitLine(/^SENT .*/, 60_000))[0];
    await a.waitLine(/^DONE/, 20_000);
    await server.waitMetrics(() => true, 1000);
    const peak = Math.max(...server.history.filter((h) => h.at >= before.at).map((h) => h.rss));
    await a.kill();
    const bound = 32 * 2 * maxPacketSize + 50e6;
    return { rateLimit: rateLimit ? 'default' : 'off', connected, sent: sentLine, rssBeforeMB: before.rss / 1e6, growthMB: (peak - before.rss) / 1e6, boundMB: bound / 1e6, rateLimited: server.latest.rateLimited };
  } finally {
    await server.stop();
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Runs the loadgen (fixed rate) with --json; resolves with its step line. */
function loadgen(port, { clients, rate, durationMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(LOADGEN, ['--host', '127.0.0.1', '--port', String(port), '--clients', String(clients), '--fixed-rate', String(rate), '--duration-ms', String(durationMs), '--grace-ms', '2000', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const out = {};
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const m = JSON.parse(line);
        out[m.type] = m;
      } catch {}
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (!out.step) reject(new Error(`loadgen exited ${code} without a step`));
      else resolve(out);
    });
  });
}

/** Waits (at most `ms`) until the machine has been quiet (< 25% of one core busy) for a second. */
async function waitQuiet(ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const a = machineBusyTicks();
    await delay(1000);
    const b = machineBusyTicks();
    if (a === null || b === null || b - a < TICKS_PER_SECOND * 0.25) return true;
  }
  log('the machine is busy: measuring anyway');
  return false;
}

async function flood(variant) {
  await waitQuiet();
  const options = {
    none: {},
    defaults: {},
    noKick: { rateLimit: { packetsPerSecond: 2000, bytesPerSecond: 4 * 1024 * 1024, burst: 2, disconnectAfterMs: 600_000 } },
    off: { rateLimit: false },
  }[variant];
  const server = await startServer({ maxPeers: 256, options });
  try {
    // Connect the loadgen's clients first (its RTT step starts once all are connected).
    const before = await server.waitMetrics(() => true, 2000);
    let a = null;
    if (variant !== 'none') {
      a = attacker('flood', { port: server.port, bind: '127.0.0.5', rate: FLOOD_RATE, durationMs: FLOOD_MS, size: 16 });
      children.add({ kill: () => a.kill() });
      await a.waitLine(/^FLOODING/, 5000);
      await delay(500);
    }
    // The loadgen's clients connect, then run for 4 s, within the flood (and before a default kick,
    // 5 s after the flooder goes over its limit).
    const cpu0 = cpuTicks(server.pid);
    const machine0 = machineBusyTicks();
    const t0 = Date.now();
    const lg = await loadgen(server.port, { clients: LG_CLIENTS, rate: LG_RATE, durationMs: 4000 });
    const seconds = (Date.now() - t0) / 1000;
    const serverCpuPercent = ((cpuTicks(server.pid) - cpu0) / TICKS_PER_SECOND / seconds) * 100;
    // Everything busy on the machine meanwhile (server, loadgen, flooder and anything else), % of one core.
    const machineCpuPercent = machine0 === null ? null : ((machineBusyTicks() - machine0) / TICKS_PER_SECOND / seconds) * 100;
    let end = null;
    if (a) end = (await a.waitLine(/^(DISCONNECTED|DONE)/, FLOOD_MS + 10_000))[0];
    await server.waitMetrics(() => true, 1000);
    const peak = Math.max(...server.history.filter((h) => h.at >= before.at).map((h) => h.rss));
    const m = server.latest;
    return {
      variant,
      p50: lg.step.rtt.p50,
      p99: lg.step.rtt.p99,
      max: lg.step.rtt.max,
      delivery: lg.step.delivery,
      sent: lg.step.sent,
      received: lg.step.received,
      flooder: end,
      serverCpuPercent,
      machineCpuPercent,
      rssGrowthMB: (peak - before.rss) / 1e6,
      rateLimited: m.rateLimited,
      kicked: m.kicked,
      cpuPercent: m.cpuPercent,
    };
  } finally {
    await server.stop();
  }
}

function summary(rows, keys) {
  const out = {};
  for (const k of keys) {
    const v = rows.map((r) => r[k]).filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
    if (!v.length) continue;
    out[k] = { median: v[Math.floor((v.length - 1) / 2)], min: v[0], max: v.at(-1) };
  }
  return out;
}

buildCPrograms({ quiet: true });
const results = { date: new Date().toISOString(), runs: RUNS, sections: {} };
const sections = [];
if (ONLY.has('forge')) sections.push(['forge', forge, ['legitOk', 'connectMsMax', 'bytesSent', 'bytesBack', 'backPerSent', 'maxPending']]);
if (ONLY.has('reconnect')) {
  sections.push(['reconnect-none', () => reconnect('none'), ['legitOk', 'totalMsMax', 'attackerMaxOnServer']]);
  sections.push(['reconnect-bad', () => reconnect('bad'), ['legitOk', 'totalMsMax', 'attackerMaxOnServer']]);
}
if (ONLY.has('pin')) {
  sections.push(['pin-ratelimit-off', () => pin(false), ['growthMB']]);
  sections.push(['pin-defaults', () => pin(true), ['growthMB']]);
}
async function runOnce(name, run, rows, i) {
  try {
    const r = await run();
    rows.push(r);
    log(`${name} #${i + 1}: ${JSON.stringify(r)}`);
  } catch (err) {
    log(`${name} #${i + 1}: FAILED ${err.message}`);
    rows.push({ error: err.message });
  }
}
for (const [name, run, keys] of sections) {
  const rows = [];
  for (let i = 0; i < RUNS; i++) await runOnce(name, run, rows, i);
  results.sections[name] = { rows, summary: summary(rows, keys) };
  process.stdout.write(`${name}: ${JSON.stringify(results.sections[name].summary)}\n`);
}
if (ONLY.has('flood')) {
  // Interleaved (none, defaults, noKick, off, none, ...): the machine's noise spreads over all of them.
  const variants = ['none', 'defaults', 'noKick', 'off'];
  const rows = Object.fromEntries(variants.map((v) => [v, []]));
  for (let i = 0; i < RUNS; i++) for (const v of variants) await runOnce(`flood-${v}`, () => flood(v), rows[v], i);
  for (const v of variants) {
    const name = `flood-${v}`;
    results.sections[name] = { rows: rows[v], summary: summary(rows[v], ['p50', 'p99', 'max', 'delivery', 'rssGrowthMB', 'serverCpuPercent']) };
    process.stdout.write(`${name}: ${JSON.stringify(results.sections[name].summary)}\n`);
  }
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(results, null, 2));
log(`results: ${OUT}`);
process.exit(0);
