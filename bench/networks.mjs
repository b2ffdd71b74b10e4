#!/usr/bin/env node
// Benchmark: our server and the raw C ENet echo server behind the same impaired links.
//
//   node bench/networks.mjs [--links 'loss=0%;loss=2%,delay=30ms,jitter=10ms;loss=5%,delay=50ms,jitter=30ms']
//                           [--clients 200] [--rate 20] [--size 64] [--duration 10] [--warmup 2] [--grace 5]
//                           [--processes 1] [--rounds 2] [--quiet-wait-ms 15000] [--out bench/results/networks.json]
//
// For each link (`;`-separated; the first, `loss=0%`, is the clean reference: through the same relay,
// nothing impaired) and each server — the raw C echo (bench/c/bin/echo_server, 4 MiB socket buffers as
// ours asks for) and ours (enet-server, the demo echo) — a fresh server, then
//   enet-loadtest --port P --link L --clients 200 --rate 20 --size 64 --duration 10 --warmup 2 --server-pid PID
// with the same flags for both (the load tester's clients use sessions; the raw C server sends no
// `_session`, so against it they simply run without). Reported per run: delivery (reliable: 100 %
// expected), RTT p50/p99, server CPU over the window and server CPU per echoed message; per link the
// ratios ours/raw C, judged against the targets RTT p99 <= 1.1x and CPU/msg <= 1.3x. With --rounds N
// (default 2) every pair runs N times, interleaved, and the table shows each figure's median (a tail
// under 5 % loss moves a lot from run to run; every round is in the JSON). The table goes to
// stdout, progress to stderr, everything to the JSON file. Before each server it waits (at most
// --quiet-wait-ms) for the rest of the machine to be quiet. Every wait is bounded; every child is
// killed on exit. About 6 x 17 s per round.
import { headerComment, waitForQuiet } from './lib/proc.mjs';
import { run, startServer } from './lib/children.mjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCPrograms } from '../test/c/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const SERVER = join(root, 'dist', 'cli', 'server.js');
const LOADTEST = join(root, 'dist', 'cli', 'loadtest.js');
const ECHO_C = join(here, 'c', 'bin', 'echo_server');
const TARGETS = { p99Ratio: 1.1, cpuPerMessageRatio: 1.3 };

const opts = {
  links: ['loss=0%', 'loss=2%,delay=30ms,jitter=10ms', 'loss=5%,delay=50ms,jitter=30ms'],
  clients: 200, rate: 20, size: 64, duration: 10, warmup: 2, grace: 5, processes: 1, rounds: 2,
  quietWaitMs: 15000, out: join(here, 'results', 'networks.json'),
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--help') {
      process.stdout.write(headerComment(import.meta.url));
      process.exit(0);
    }
    const name = k.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in opts) || i + 1 >= a.length) {
      process.stderr.write(`bench/networks: unknown or incomplete flag ${k} (--help)\n`);
      process.exit(2);
    }
    const v = a[++i];
    if (name === 'out') opts.out = resolve(v);
    else if (name === 'links') opts.links = v.split(';').map((s) => s.trim()).filter(Boolean);
    else {
      opts[name] = Number(v);
      if (!(opts[name] >= 0)) {
        process.stderr.write(`bench/networks: ${k} needs a number\n`);
        process.exit(2);
      }
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);



/** enet-loadtest to its end. */
const runLoadtestChild = (args, timeoutMs) => run(process.execPath, [LOADTEST, ...args], timeoutMs);

const SERVERS = {
  raw: { label: 'raw C echo', start: () => startServer(ECHO_C, ['0', String(opts.clients + 24), '2', String(4 * 1024 * 1024)], /listening (\d+)/) },
  ours: { label: 'ours (enet-server)', start: () => startServer(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(opts.clients + 24)], /enet-server listening on [\d.]+:(\d+)/) },
};


async function one(which, link) {
  const out = { name: which, link, backgroundCpuPercent: await waitForQuiet(opts.quietWaitMs, log) };
  const server = await SERVERS[which].start();
  const json = join(tmpdir(), `enet-networks-bench-${process.pid}.json`);
  rmSync(json, { force: true });
  const args = ['--port', String(server.port), '--link', link, '--clients', String(opts.clients), '--rate', String(opts.rate),
    '--size', String(opts.size), '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--grace', String(opts.grace),
    '--processes', String(opts.processes), '--server-pid', String(server.pid), '--json', json];
  log(`  ${which}: enet-loadtest ${args.join(' ')}`);
  try {
    const r = await runLoadtestChild(args, (opts.warmup + opts.duration + opts.grace + 60) * 1000);
    out.exit = r.code;
    if (!existsSync(json)) throw new Error(`enet-loadtest wrote no summary (exit ${r.code}): ${r.stderr.slice(-500)}`);
    const s = JSON.parse(readFileSync(json, 'utf8'));
    const cpuSeconds = s.server ? (s.server.cpuPercent / 100) * s.windowSeconds : null;
    Object.assign(out, {
      connected: s.connected, disconnected: s.disconnected, sent: s.sent, received: s.received, lost: s.lost, delivery: s.delivery,
      duplicates: s.duplicates, rtt: s.rtt, windowSeconds: s.windowSeconds,
      server: s.server && { cpuPercent: s.server.cpuPercent, rssMb: s.server.rssMb, cpuPerMessageUs: s.received > 0 ? (cpuSeconds * 1e6) / s.received : null },
      clientCpuPercent: s.clientCpuPercent, clientProcesses: s.clientProcesses, relay: s.link?.relay ?? null, problems: s.problems,
    });
    log(`  ${which}: delivery ${fmt(s.delivery * 100, 3)} %, p50 ${fmt(s.rtt.p50, 1)} ms, p99 ${fmt(s.rtt.p99, 1)} ms, ` +
      `server CPU ${fmt(s.server?.cpuPercent, 1)} %, ${fmt(out.server?.cpuPerMessageUs, 1)} µs/msg, load tester CPU ${fmt(s.clientCpuPercent, 0)} %`);
  } catch (error) {
    out.error = String(error.message ?? error);
    log(`  ${which}: ${out.error}`);
  } finally {
    rmSync(json, { force: true });
    await server.stop();
  }
  return out;
}

// The median of each figure over the rounds (errors and problems: all of them; delivery and lost: the worst).
function median(runs) {
  const ok = runs.filter((r) => !r.error);
  const med = (get) => {
    const v = ok.map(get).filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0) return null;
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const errors = runs.filter((r) => r.error).map((r) => r.error);
  if (ok.length === 0) return { ...runs[0], error: errors.join('; ') };
  return {
    name: runs[0].name, link: runs[0].link, rounds: runs.length, ...(errors.length ? { error: errors.join('; ') } : {}),
    delivery: Math.min(...ok.map((r) => r.delivery)), lost: Math.max(...ok.map((r) => r.lost)),
    disconnected: Math.max(...ok.map((r) => r.disconnected ?? 0)),
    rtt: { p50: med((r) => r.rtt?.p50), p99: med((r) => r.rtt?.p99), max: med((r) => r.rtt?.max) },
    server: { cpuPercent: med((r) => r.server?.cpuPercent), cpuPerMessageUs: med((r) => r.server?.cpuPerMessageUs), rssMb: med((r) => r.server?.rssMb) },
    clientCpuPercent: med((r) => r.clientCpuPercent),
    clientProcesses: ok.flatMap((r) => r.clientProcesses ?? []),
    backgroundCpuPercent: Math.max(...runs.map((r) => r.backgroundCpuPercent ?? 0)),
  };
}

function table(results) {
  const cols = [['link', 33], ['server', 20], ['delivery', 11], ['RTT p50 ms', 12], ['RTT p99 ms', 12], ['server CPU %', 14], ['CPU/msg µs', 12], ['lost', 7]];
  const line = (cells) => cells.map((c, i) => (i < 2 ? String(c ?? '').padEnd(cols[i][1]) : String(c ?? '').padStart(cols[i][1]))).join('');
  const rows = [line(cols.map((c) => c[0])), '-'.repeat(cols.reduce((n, c) => n + c[1], 0))];
  for (const l of results.links) {
    const name = l.link === 'loss=0%' ? 'clean (relay, nothing lost)' : l.link;
    for (const [k, r] of [['raw', l.raw], ['ours', l.ours]]) {
      rows.push(line([k === 'raw' ? name : '', SERVERS[k].label, r?.error ? 'error' : `${fmt(r?.delivery * 100, 3)} %`,
        fmt(r?.rtt?.p50, 1), fmt(r?.rtt?.p99, 1), fmt(r?.server?.cpuPercent, 1), fmt(r?.server?.cpuPerMessageUs, 1), r?.lost ?? '-']));
    }
    const c = l.comparison;
    rows.push(line(['', '  ours / raw C', '', fmt(c.p50Ratio, 2), `${fmt(c.p99Ratio, 2)} ${c.p99Met === null ? '' : c.p99Met ? '✓' : '✗'}`, fmt(c.cpuRatio, 2),
      `${fmt(c.cpuPerMessageRatio, 2)} ${c.cpuMet === null ? '' : c.cpuMet ? '✓' : '✗'}`, '']));
  }
  const notes = [];
  for (const l of results.links) {
    for (const r of [l.raw, l.ours]) {
      if (!r) continue;
      if (r.error) notes.push(`${r.name} / ${r.link}: ${r.error}`);
      if (r.delivery !== undefined && r.delivery < 1) notes.push(`${r.name} / ${r.link}: ${r.lost} reliable messages not echoed`);
      if (r.disconnected) notes.push(`${r.name} / ${r.link}: ${r.disconnected} clients disconnected during the run`);
      const busiest = Math.max(0, ...(r.clientProcesses ?? []).map((p) => p.cpuPercent));
      if (busiest > 85) notes.push(`${r.name} / ${r.link}: a load-tester process used ${fmt(busiest, 0)} % of a core: it may limit the run (--processes 2)`);
      if (r.backgroundCpuPercent > 25) notes.push(`${r.name} / ${r.link}: other processes used ${fmt(r.backgroundCpuPercent, 0)} % of a core before it`);
    }
  }
  return `networks: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B reliable, ${opts.duration} s measured (+${opts.warmup} s warmup), ` +
    `enet-loadtest in ${opts.processes} process${opts.processes > 1 ? 'es' : ''}, every client through the relay\n` +
    rows.join('\n') + '\n' +
    `targets: RTT p99 <= ${TARGETS.p99Ratio}x raw C (✓/✗), server CPU per message <= ${TARGETS.cpuPerMessageRatio}x raw C (✓/✗)\n` +
    (notes.length ? notes.map((n) => `* ${n}`).join('\n') + '\n' : '');
}

async function main() {
  if (!existsSync(SERVER) || !existsSync(LOADTEST)) throw new Error('build first: npm run build');
  buildCPrograms();
  if (!existsSync(ECHO_C)) throw new Error(`${ECHO_C} missing after the build`);
  const started = Date.now();
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
    options: { ...opts, out: undefined },
    targets: TARGETS,
    links: [],
  };
  for (const link of opts.links) {
    const rounds = [];
    for (let k = 0; k < opts.rounds; k++) {
      log(`link ${link}, round ${k + 1}/${opts.rounds}`);
      rounds.push({ raw: await one('raw', link), ours: await one('ours', link) });
    }
    const raw = median(rounds.map((r) => r.raw));
    const ours = median(rounds.map((r) => r.ours));
    const p99Ratio = ratio(ours.rtt?.p99, raw.rtt?.p99);
    const cpuPerMessageRatio = ratio(ours.server?.cpuPerMessageUs, raw.server?.cpuPerMessageUs);
    results.links.push({
      link, raw, ours, rounds,
      comparison: {
        p50Ratio: ratio(ours.rtt?.p50, raw.rtt?.p50), p99Ratio, cpuRatio: ratio(ours.server?.cpuPercent, raw.server?.cpuPercent), cpuPerMessageRatio,
        p99Met: p99Ratio === null ? null : p99Ratio <= TARGETS.p99Ratio,
        cpuMet: cpuPerMessageRatio === null ? null : cpuPerMessageRatio <= TARGETS.cpuPerMessageRatio,
      },
    });
  }
  results.elapsedSeconds = (Date.now() - started) / 1000;
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}`);
  log(`results written to ${opts.out.replace(root + '/', '')} (${fmt(results.elapsedSeconds, 0)} s)`);
  const failed = results.links.some((l) => l.raw.error || l.ours.error);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  log(`bench/networks: ${error.stack ?? error}`);
  process.exit(1);
});
