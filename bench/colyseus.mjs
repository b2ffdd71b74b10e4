#!/usr/bin/env node
// Benchmark: our demo echo next to a Colyseus 0.16 echo, the same load on each, side by side in one run.
//
//   node bench/colyseus.mjs [--clients 1000] [--rate 10] [--size 64] [--duration 10] [--warmup 2] [--grace 5]
//                           [--rounds 2] [--quiet-wait-ms 10000] [--compare-root DIR] [--out bench/results/colyseus.json]
//
// ours:     enet-server (dist/cli/server.js, its demo echo, --max-peers clients + 24, as bench/loadtest.mjs
//           starts it) driven by enet-loadtest (dist/cli/loadtest.js --clients --rate --size, reliable,
//           --server-pid): one bot process of ENetClients.
// colyseus: bench/colyseus/echo-server.mjs (a room that sends each client's 64-byte message back to it,
//           WebSocket transport) driven by bench/colyseus/load-client.mjs (colyseus.js clients in one
//           process, paced as enet-loadtest's bots are). bench/colyseus is a package of its own, installed
//           here on first use (npm ci --prefix bench/colyseus), never a dependency of enet-actor-server.
// --compare-root DIR: also drives our server with DIR's enet-loadtest (DIR/dist/cli/loadtest.js, e.g. a
//           checkout of main), to measure a client change against its base in the same run.
// Each round runs every side once on a fresh server (the order alternates between rounds); each side
// loads --warmup s, then measures --duration s. Reported per side (median over the rounds): delivery, RTT
// p50/p99, server CPU and server CPU per echo (µs: CPU time over the window / echoes received), the load
// client's CPU; ratios ours/colyseus. Before each run it waits (at most --quiet-wait-ms) until other
// processes use < 25% of a core, and reports what the rest of the machine used during the run (machine
// busy time minus the server's and the load client's; enet-loadtest's parent process counts as "other").
// The table goes to stdout, progress to stderr, everything to --out. Every wait is bounded; every child is
// killed on exit.
import { CLK_TCK, headerComment, machineBusyTicks, waitForQuiet } from './lib/proc.mjs';
import { run as runChild, signalChildren, startServer as startChildServer } from './lib/children.mjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const SERVER = join(root, 'dist', 'cli', 'server.js');
const COLYSEUS = join(here, 'colyseus');
const COLYSEUS_SERVER = join(COLYSEUS, 'echo-server.mjs');
const COLYSEUS_CLIENT = join(COLYSEUS, 'load-client.mjs');

const opts = {
  clients: 1000, rate: 10, size: 64, duration: 10, warmup: 2, grace: 5, rounds: 2, quietWaitMs: 10_000,
  compareRoot: null, out: join(here, 'results', 'colyseus.json'),
};
{
  const a = process.argv.slice(2);
  const camel = (flag) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--help' || k === '-h') {
      process.stdout.write(headerComment(import.meta.url));
      process.exit(0);
    }
    const name = camel(k);
    if (!k.startsWith('--') || !(name in opts) || i + 1 >= a.length) {
      process.stderr.write(`bench/colyseus: unknown or incomplete flag ${k}\n`);
      process.exit(2);
    }
    const v = a[++i];
    if (name === 'out' || name === 'compareRoot') {
      opts[name] = resolve(v);
      continue;
    }
    opts[name] = Number(v);
    if (!(opts[name] > 0)) {
      process.stderr.write(`bench/colyseus: ${k} needs a positive number\n`);
      process.exit(2);
    }
  }
}

const log = (line) => process.stderr.write(`[colyseus] ${line}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signalChildren('SIGKILL');
    process.exit(130);
  });
}

/** bench/colyseus/node_modules, installed from its lockfile when missing (bounded: 5 min). */
async function ensureColyseus() {
  if (existsSync(join(COLYSEUS, 'node_modules', '@colyseus', 'core'))) return;
  log('installing bench/colyseus (npm ci --prefix bench/colyseus), once');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await runChild(npm, ['ci', '--prefix', COLYSEUS, '--no-audit', '--no-fund'], 300_000);
  if (r.code !== 0) throw new Error(`npm ci --prefix bench/colyseus failed (${r.code}): ${r.stderr.slice(-2000)}`);
}

/** One server and one load client against it; what both used and what the rest of the machine did. */
async function measured(startServer, runLoad) {
  const background = await waitForQuiet(opts.quietWaitMs, log);
  const server = await startServer();
  const busy0 = machineBusyTicks();
  const t0 = performance.now();
  let result;
  try {
    result = await runLoad(server);
  } finally {
    await server.stop();
  }
  const wallS = (performance.now() - t0) / 1000;
  const busy1 = machineBusyTicks();
  // The whole machine over the load client's life, in % of one core.
  const machineCpuPercent = busy0 !== null && busy1 !== null ? (100 * (busy1 - busy0)) / CLK_TCK / wallS : null;
  return { ...result, backgroundCpuPercentBefore: background, machineCpuPercent };
}

/** Our demo echo driven by `loadtestRoot`'s enet-loadtest. */
function ours(loadtestRoot) {
  return measured(
    () => startChildServer(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(opts.clients + 24)],
      /enet-server listening on [\d.]+:(\d+)/),
    async (server) => {
      const json = join(tmpdir(), `enet-bench-colyseus-${process.pid}.json`);
      rmSync(json, { force: true });
      const args = [join(loadtestRoot, 'dist', 'cli', 'loadtest.js'), '--port', String(server.port), '--server-pid', String(server.pid), '--json', json,
        '--clients', String(opts.clients), '--rate', String(opts.rate), '--size', String(opts.size), '--reliable',
        '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--grace', String(opts.grace)];
      const r = await runChild(process.execPath, args, 180_000);
      if (!existsSync(json)) throw new Error(`enet-loadtest wrote no summary (exit ${r.code}): ${r.stderr.slice(-2000)}${server.stderrTail()}`);
      const s = JSON.parse(readFileSync(json, 'utf8'));
      rmSync(json, { force: true });
      const windowMs = s.windowSeconds * 1000;
      return {
        exit: r.code, sent: s.sent, received: s.received, delivery: s.delivery, windowMs,
        rtt: { p50: s.rtt.p50, p90: s.rtt.p90, p99: s.rtt.p99, max: s.rtt.max },
        serverCpuPercent: s.server?.cpuPercent ?? null,
        clientCpuPercent: s.clientCpuPercent,
        disconnected: s.disconnected,
      };
    },
  );
}

function colyseus() {
  return measured(
    () => startChildServer(process.execPath, [COLYSEUS_SERVER], /listening (\d+)/, { cwd: COLYSEUS }),
    async (server) => {
      const args = [COLYSEUS_CLIENT, '--port', String(server.port), '--server-pid', String(server.pid),
        '--clients', String(opts.clients), '--rate', String(opts.rate), '--size', String(opts.size),
        '--duration', String(opts.duration), '--warmup', String(opts.warmup), '--grace', String(opts.grace)];
      const r = await runChild(process.execPath, args, 180_000, { cwd: COLYSEUS });
      const s = r.stdout.split('\n').map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((o) => o?.type === 'summary');
      if (!s) throw new Error(`the Colyseus load client gave no summary (exit ${r.code}): ${r.stderr.slice(-2000)}${server.stderrTail()}`);
      return {
        exit: r.code, sent: s.sent, received: s.received, delivery: s.delivery, windowMs: s.windowMs, rtt: s.rtt,
        serverCpuPercent: s.serverCpuPercent, clientCpuPercent: s.clientCpuPercent, disconnected: s.left,
      };
    },
  );
}

/** Server and client CPU per echo (µs), and the CPU nobody of this run used. */
function withDerived(r) {
  const perEcho = (percent) => (typeof percent === 'number' && r.received > 0 ? (percent / 100) * r.windowMs * 1000 / r.received : null);
  return {
    ...r,
    serverCpuUsPerEcho: perEcho(r.serverCpuPercent),
    clientCpuUsPerEcho: perEcho(r.clientCpuPercent),
    otherCpuPercent: r.machineCpuPercent === null ? null : Math.max(0, r.machineCpuPercent - (r.serverCpuPercent ?? 0) - (r.clientCpuPercent ?? 0)),
  };
}

const med = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const f = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-');

async function main() {
  if (!existsSync(SERVER)) throw new Error('build first: npm run build');
  if (opts.compareRoot && !existsSync(join(opts.compareRoot, 'dist', 'cli', 'loadtest.js'))) {
    throw new Error(`--compare-root: ${opts.compareRoot}/dist/cli/loadtest.js not found (build it there)`);
  }
  await ensureColyseus();
  const sides = { ours: () => ours(root), colyseus };
  if (opts.compareRoot) sides.compare = () => ours(opts.compareRoot);
  const names = Object.keys(sides);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < opts.rounds; i++) {
    // Alternate the order, so that neither side always runs first (a warming or a cooling machine).
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      log(`round ${i + 1}/${opts.rounds}, ${name}: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B, ${opts.duration} s after ${opts.warmup} s warmup`);
      const r = withDerived(await (sides[name])());
      runs[name].push(r);
      log(`    delivery ${f(r.delivery * 100, 3)} %, p50 ${f(r.rtt.p50, 3)} ms, p99 ${f(r.rtt.p99, 2)} ms, server ${f(r.serverCpuPercent)} % (${f(r.serverCpuUsPerEcho, 2)} us/echo), ` +
        `client ${f(r.clientCpuPercent)} %, others ${f(r.otherCpuPercent)} %`);
    }
  }
  const summary = {};
  for (const name of names) {
    const rs = runs[name];
    const m = (pick) => med(rs.map(pick));
    summary[name] = {
      delivery: m((r) => r.delivery), p50: m((r) => r.rtt.p50), p99: m((r) => r.rtt.p99),
      serverCpuPercent: m((r) => r.serverCpuPercent), serverCpuUsPerEcho: m((r) => r.serverCpuUsPerEcho),
      clientCpuPercent: m((r) => r.clientCpuPercent), clientCpuUsPerEcho: m((r) => r.clientCpuUsPerEcho),
      otherCpuPercent: m((r) => r.otherCpuPercent),
    };
  }
  const ratios = (a, b) => Object.fromEntries(['serverCpuUsPerEcho', 'p50', 'p99', 'delivery', 'clientCpuUsPerEcho'].map((k) => [k, ratio(summary[a][k], summary[b][k])]));
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
    options: opts,
    colyseusVersions: versions(),
    runs,
    summary,
    ratios: { oursOverColyseus: ratios('ours', 'colyseus'), ...(opts.compareRoot ? { oursOverCompare: ratios('ours', 'compare') } : {}) },
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);

  const label = { ours: 'ours (enet-server + enet-loadtest)', colyseus: 'Colyseus (echo room + colyseus.js)', compare: `ours, ${opts.compareRoot}'s enet-loadtest` };
  const rows = [['', 'delivery', 'p50 ms', 'p99 ms', 'server CPU %', 'server us/echo', 'client CPU %', 'client us/echo', 'others CPU %']];
  for (const name of names) {
    const s = summary[name];
    rows.push([label[name], `${f(s.delivery * 100, 3)} %`, f(s.p50, 3), f(s.p99, 2), f(s.serverCpuPercent), f(s.serverCpuUsPerEcho, 2), f(s.clientCpuPercent), f(s.clientCpuUsPerEcho, 2), f(s.otherCpuPercent)]);
  }
  for (const [key, what] of [['oursOverColyseus', 'ratio ours / Colyseus'], ['oursOverCompare', 'ratio ours / compare']]) {
    const r = results.ratios[key];
    if (r) rows.push([what, f(r.delivery, 4), f(r.p50, 2), f(r.p99, 2), '', f(r.serverCpuUsPerEcho, 2), '', f(r.clientCpuUsPerEcho, 2), '']);
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  const line = (r) => `| ${r.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  process.stdout.write(`\nColyseus vs ours: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B, ${opts.duration} s after ${opts.warmup} s warmup, median of ${opts.rounds} round(s)\n`);
  process.stdout.write([line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') + '\n');
  log(`written ${opts.out.replace(root + '/', '')}`);
  const failed = Object.values(runs).flat().some((r) => r.exit !== 0 || !(r.received > 0));
  return failed ? 1 : 0;
}

/** The installed Colyseus packages' versions (from their package.json). */
function versions() {
  const v = {};
  for (const p of ['@colyseus/core', '@colyseus/ws-transport', 'colyseus.js']) {
    try {
      v[p] = JSON.parse(readFileSync(join(COLYSEUS, 'node_modules', p, 'package.json'), 'utf8')).version;
    } catch {
      v[p] = null;
    }
  }
  return v;
}

main().then((code) => process.exit(code), (error) => {
  log(error.stack ?? String(error));
  process.exit(1);
});
