#!/usr/bin/env node
// Benchmark: enet-loadtest next to the C load generator (bench/c/bin/loadgen) on the same load,
// each against a fresh enet-server (the demo echo) on this machine.
//
//   node bench/loadtest.mjs [--clients 1000] [--rate 20] [--size 64] [--duration 10] [--warmup 2]
//                           [--runs 1] [--grace 5] [--no-default-run] [--out bench/results/loadtest.json]
//
// Per run: enet-loadtest --clients N --rate R --size S (reliable, --processes default) with
// --server-pid; then the C loadgen --clients N --fixed-rate N*R for the same duration (one client
// host, its grace = ours). Reported side by side: delivery, RTT p50/p99, server CPU, client-side CPU
// and client-side CPU per echoed message (the target: ours <= 3x the C loadgen's).
// Then, unless --no-default-run, `enet-loadtest --clients 500` with default flags against the demo
// (target: >= 99.9% delivered). Progress on stderr, the table on stdout, everything in the JSON file.
// Every wait is bounded; every child is killed on exit.
import { headerComment } from './lib/proc.mjs';
import { run, startServer as startChildServer } from './lib/children.mjs';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { buildCPrograms } from '../test/c/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const SERVER = join(root, 'dist', 'cli', 'server.js');
const LOADTEST = join(root, 'dist', 'cli', 'loadtest.js');
const LOADGEN = join(here, 'c', 'bin', 'loadgen');

const opts = { clients: 1000, rate: 20, size: 64, duration: 10, warmup: 2, runs: 1, grace: 5, defaultRun: true, out: join(here, 'results', 'loadtest.json') };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--help') {
      process.stdout.write(headerComment(import.meta.url));
      process.exit(0);
    }
    if (k === '--no-default-run') { opts.defaultRun = false; continue; }
    const name = k.replace(/^--/, '');
    if (!(name in opts) || i + 1 >= a.length) {
      process.stderr.write(`bench/loadtest: unknown or incomplete flag ${k}\n`);
      process.exit(2);
    }
    opts[name] = name === 'out' ? resolve(a[++i]) : Number(a[++i]);
    if (name !== 'out' && !(opts[name] >= 0)) {
      process.stderr.write(`bench/loadtest: ${k} needs a number\n`);
      process.exit(2);
    }
  }
}

const log = (line) => process.stderr.write(`${line}\n`);

async function startServer(maxPeers) {
  return startChildServer(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(maxPeers)], /enet-server listening on [\d.]+:(\d+)/);
}


async function ours(extra = []) {
  const server = await startServer(opts.clients + 24);
  const json = join(tmpdir(), `enet-loadtest-bench-${process.pid}.json`);
  const args = [LOADTEST, '--port', String(server.port), '--server-pid', String(server.pid), '--json', json, ...extra];
  log(`  enet-loadtest ${args.slice(1).join(' ')}`);
  const r = await run(process.execPath, args, 180_000);
  await server.stop();
  if (!existsSync(json)) throw new Error(`enet-loadtest wrote no summary (exit ${r.code}): ${r.stderr}`);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  return { exit: r.code, summary: s, table: r.stdout };
}

async function loadgen() {
  const server = await startServer(opts.clients + 24);
  const args = ['--host', '127.0.0.1', '--port', String(server.port), '--clients', String(opts.clients), '--size', String(opts.size),
    '--fixed-rate', String(opts.clients * opts.rate), '--duration-ms', String(opts.duration * 1000), '--grace-ms', String(opts.grace * 1000), '--json'];
  log(`  loadgen ${args.join(' ')}`);
  const r = await run(LOADGEN, args, 180_000);
  await server.stop();
  const step = r.stdout.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((o) => o?.type === 'step');
  if (!step) throw new Error(`loadgen gave no step (exit ${r.code}): ${r.stderr}${r.stdout}`);
  return step;
}

const f = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-');

async function main() {
  if (!existsSync(SERVER) || !existsSync(LOADTEST)) throw new Error('build first: npm run build');
  if (!existsSync(LOADGEN)) buildCPrograms();
  const results = { machine: { cpus: (await import('node:os')).cpus().length }, options: opts, runs: [], defaultRun: null };
  for (let i = 0; i < opts.runs; i++) {
    log(`run ${i + 1}/${opts.runs}: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B reliable`);
    const o = await ours(['--clients', String(opts.clients), '--rate', String(opts.rate), '--size', String(opts.size),
      '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--grace', String(opts.grace)]);
    const c = await loadgen();
    const s = o.summary;
    const cUs = c.received > 0 ? (c.loadgenCpuPercent / 100) * c.durationMs * 1000 / c.received : NaN;
    results.runs.push({
      ours: { exit: o.exit, delivery: s.delivery, sent: s.sent, received: s.received, rtt: s.rtt, serverCpuPercent: s.server?.cpuPercent,
        clientCpuPercent: s.clientCpuPercent, clientCpuUsPerMessage: s.clientCpuUsPerMessage, processes: s.clientProcesses.length, disconnected: s.disconnected },
      loadgen: { delivery: c.delivery, sent: c.sent, received: c.received, rtt: c.rtt, clientCpuPercent: c.loadgenCpuPercent, clientCpuUsPerMessage: cUs },
      cpuPerMessageRatio: s.clientCpuUsPerMessage / cUs,
    });
    log(o.table);
  }
  if (opts.defaultRun) {
    log('enet-loadtest --clients 500 with default flags');
    const d = await ours(['--clients', '500']);
    results.defaultRun = { exit: d.exit, delivery: d.summary.delivery, sent: d.summary.sent, received: d.summary.received, rtt: d.summary.rtt, clientCpuPercent: d.summary.clientCpuPercent };
    log(d.table);
  }
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);

  const rows = [['', 'delivery', 'RTT p50 ms', 'RTT p99 ms', 'server CPU %', 'client CPU %', 'client CPU us/msg']];
  results.runs.forEach((r, i) => {
    rows.push([`enet-loadtest #${i + 1}`, `${f(r.ours.delivery * 100, 3)} %`, f(r.ours.rtt.p50, 2), f(r.ours.rtt.p99, 2), f(r.ours.serverCpuPercent), f(r.ours.clientCpuPercent), f(r.ours.clientCpuUsPerMessage)]);
    rows.push([`C loadgen #${i + 1}`, `${f(r.loadgen.delivery * 100, 3)} %`, f(r.loadgen.rtt.p50, 2), f(r.loadgen.rtt.p99, 2), '', f(r.loadgen.clientCpuPercent), f(r.loadgen.clientCpuUsPerMessage)]);
    rows.push([`  ratio (target <= 3)`, '', '', '', '', '', f(r.cpuPerMessageRatio, 2)]);
  });
  if (results.defaultRun) rows.push(['--clients 500 (defaults)', `${f(results.defaultRun.delivery * 100, 3)} %`, f(results.defaultRun.rtt.p50, 2), f(results.defaultRun.rtt.p99, 2), '', f(results.defaultRun.clientCpuPercent), '']);
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  const line = (r) => `| ${r.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  process.stdout.write(`${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B reliable, ${opts.duration} s (+${opts.warmup} s warmup), against enet-server\n`);
  process.stdout.write([line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') + '\n');
  log(`written ${opts.out}`);
}

main().then(() => process.exit(0), (error) => {
  log(`bench/loadtest: ${error.stack ?? error}`);
  process.exit(1);
});
