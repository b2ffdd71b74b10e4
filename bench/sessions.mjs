#!/usr/bin/env node
// Benchmark: sessions (README "Sessions") — what they cost in steady state, and a resume storm.
//
//   node bench/sessions.mjs [--clients 200] [--rate 20] [--size 64] [--duration 8] [--warmup 2] [--rounds 2]
//                           [--storm-clients 1000] [--storm-rate 5] [--storm-duration 12] [--storm-rebind-at 3]
//                           [--storm-processes 2] [--storm-max-peers N] [--no-headroom] [--grace 5]
//                           [--quiet-wait-ms 5000] [--only steady|storm] [--out bench/results/sessions.json]
//
// 1. Steady state: enet-server (the demo echo) with sessions on (the default) and with --resume-window 0,
//    the same load from enet-loadtest (--clients x --rate msg/s, --size B reliable, --duration s measured
//    after --warmup s, --server-pid), --rounds rounds interleaved on/off/on/off, one fresh server each.
//    The clients ask for a session either way; a server with --resume-window 0 gives them no token (the
//    real "off" for a session-aware client). Reported per mode (median over the rounds): server CPU %, server
//    CPU per message (cpuPercent/100 x window / echoes received), RTT p50/p99, delivery; and the ratio on/off
//    of CPU per message (target <= 1.05), each round's too.
// 2. Resume storm: --storm-clients clients at --storm-rate msg/s each through enet-loadtest's relay (one
//    per bot process, --storm-processes of them; --rebind-at alone puts every client behind the relay, on a
//    clean link), --storm-rebind-at s into a --storm-duration s window every client's port is re-mapped
//    (--rebind-fraction 1): every connection breaks, every session must resume. The server runs with
//    --max-peers --storm-max-peers (default storm-clients + 24, the sizing of bench/loadtest.mjs: a dropped
//    seat still counts toward max-peers) and again, unless --no-headroom, with 2 x storm-clients + 24.
//    Reported: resumed / interrupted / clients, resume p50/p99 (ms from interruption to resumed; the load
//    tester keeps no max, so "all resumed within" is the p99, and only when every client resumed), lost,
//    duplicates, delivery, disconnected (+ reasons), server CPU, the bots' CPU, and from the server's
//    /metrics the CONNECTs it refused by cause and its session counters.
//    Targets: all resumed within 5 s, 0 lost, 0 doubled.
// Before each run it waits (at most --quiet-wait-ms) until other processes use < 25% of a core, and reports
// what the rest of the machine used during the run (machine busy time minus the server's and the bots'; the
// enet-loadtest parent process counts as "other", a few %). The table goes to stdout, progress to stderr, everything
// to --out. Every wait is bounded; every child is killed on exit.
import { CLK_TCK, headerComment, machineBusyTicks, waitForQuiet } from './lib/proc.mjs';
import { run as runChild, signalChildren, startServer as startChildServer } from './lib/children.mjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const SERVER = join(root, 'dist', 'cli', 'server.js');
const LOADTEST = join(root, 'dist', 'cli', 'loadtest.js');

const opts = {
  clients: 200, rate: 20, size: 64, duration: 8, warmup: 2, rounds: 2,
  stormClients: 1000, stormRate: 5, stormDuration: 12, stormRebindAt: 3, stormProcesses: 2, stormMaxPeers: null, headroom: true,
  grace: 5, quietWaitMs: 5000, only: null, out: join(here, 'results', 'sessions.json'),
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
    if (k === '--no-headroom') { opts.headroom = false; continue; }
    const name = camel(k);
    if (!k.startsWith('--') || !(name in opts) || name === 'headroom' || i + 1 >= a.length) {
      process.stderr.write(`bench/sessions: unknown or incomplete flag ${k} (--help)\n`);
      process.exit(2);
    }
    if (name === 'out') { opts.out = resolve(a[++i]); continue; }
    if (name === 'only') {
      opts.only = a[++i];
      if (opts.only !== 'steady' && opts.only !== 'storm') { process.stderr.write('bench/sessions: --only steady|storm\n'); process.exit(2); }
      continue;
    }
    const n = Number(a[++i]);
    const integer = /clients|rounds|processes|peers|size/i.test(name);
    if (!(n > 0) || (integer && !Number.isInteger(n))) {
      process.stderr.write(`bench/sessions: ${k} needs a positive ${integer ? 'integer' : 'number'}\n`);
      process.exit(2);
    }
    opts[name] = n;
  }
  opts.stormMaxPeers ??= opts.stormClients + 24;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    signalChildren('SIGKILL');
    process.exit(130);
  });
}
const log = (line) => process.stderr.write(`[sessions] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startServer(args) {
  const metricsPort = await freePort();
  const all = [SERVER, '--port', '0', '--bind', '127.0.0.1', '--metrics-port', String(metricsPort), ...args];
  const server = await startChildServer(process.execPath, all, /enet-server listening on [\d.]+:(\d+)/, { cwd: root });
  return {
    ...server,
    command: `enet-server ${all.slice(1).join(' ')}`,
    /** The server's /metrics as { name or name{labels}: value }; null when unreachable (bounded: 3 s). */
    metrics: async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) });
        const text = await r.text();
        const m = {};
        for (const line of text.split('\n')) {
          const x = /^(enet_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
          if (x) m[x[1]] = Number(x[2]);
        }
        return m;
      } catch { return null; }
    },
    /** SIGTERM, SIGKILL after 8 s; returns { ms, killed } (how long it took, whether SIGKILL was needed). */
    stop: async () => {
      const stopped = await server.stop();
      if (stopped.killed) log('    enet-server did not stop within 8 s of SIGTERM: SIGKILL');
      return stopped;
    },
  };
}


const pick = (m, prefix) => (m ? Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length) || k, v])) : null);

/**
 * One enet-server, one enet-loadtest against it. `midScrapeS`: also read /metrics that many seconds
 * after the load tester started (sessions held mid-run). Returns the summary and what surrounds it.
 */
async function loadRun({ serverArgs, loadArgs, midScrapeS }) {
  const background = await waitForQuiet(opts.quietWaitMs, log);
  const server = await startServer(serverArgs);
  const json = join(tmpdir(), `enet-bench-sessions-${process.pid}.json`);
  rmSync(json, { force: true });
  const args = [LOADTEST, '--port', String(server.port), '--server-pid', String(server.pid), '--json', json, '--grace', String(opts.grace), ...loadArgs];
  log(`  ${server.command.replace(root + '/', '')}`);
  log(`  enet-loadtest ${args.slice(1).join(' ')}`);
  const busy0 = machineBusyTicks();
  const t0 = performance.now();
  let mid = null;
  const midTimer = midScrapeS ? setTimeout(async () => { mid = await server.metrics(); }, midScrapeS * 1000) : null;
  const r = await runChild(process.execPath, args, 240_000);
  clearTimeout(midTimer);
  const wallS = (performance.now() - t0) / 1000;
  const busy1 = machineBusyTicks();
  const after = await server.metrics();
  const stopped = await server.stop();
  if (!existsSync(json)) throw new Error(`enet-loadtest wrote no summary (exit ${r.code}): ${r.stderr.slice(-2000)}${server.stderrTail()}`);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(json, { force: true });
  // The whole machine over the load tester's life, in % of one core (its own parent process included).
  const machineCpuPercent = busy0 !== null && busy1 !== null ? (100 * (busy1 - busy0)) / CLK_TCK / wallS : null;
  return { exit: r.code, summary: s, table: r.stdout, command: server.command, backgroundCpuPercentBefore: background, machineCpuPercent, metricsMid: mid, metricsAfter: after, serverStop: stopped };
}

const med = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);

// ---------- 1. steady state ----------
async function steady() {
  const loadArgs = ['--clients', String(opts.clients), '--rate', String(opts.rate), '--size', String(opts.size), '--reliable',
    '--duration', String(opts.duration), '--warmup', String(opts.warmup)];
  const maxPeers = String(opts.clients + 24);
  const rounds = [];
  for (let i = 0; i < opts.rounds; i++) {
    const round = {};
    for (const mode of ['on', 'off']) {
      log(`steady state, round ${i + 1}/${opts.rounds}, sessions ${mode}: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B reliable`);
      const serverArgs = ['--max-peers', maxPeers, ...(mode === 'off' ? ['--resume-window', '0'] : [])];
      // Mid-window: connect (~clients/500 s) + warmup + half the window.
      const o = await loadRun({ serverArgs, loadArgs, midScrapeS: 1 + opts.clients / 500 + opts.warmup + opts.duration / 2 });
      const s = o.summary;
      const serverCpu = s.server?.cpuPercent;
      const usPerMsg = typeof serverCpu === 'number' && s.received > 0 ? (serverCpu / 100) * s.windowSeconds * 1e6 / s.received : null;
      round[mode] = {
        exit: o.exit, command: o.command, sent: s.sent, received: s.received, lost: s.lost, delivery: s.delivery, windowSeconds: s.windowSeconds,
        rtt: s.rtt, serverCpuPercent: serverCpu ?? null, serverRssMb: s.server?.rssMb ?? null, serverCpuUsPerMessage: usPerMsg,
        clientCpuPercent: s.clientCpuPercent, disconnected: s.disconnected, disconnectReasons: s.disconnectReasons,
        sessionsHeldMidRun: o.metricsMid?.enet_sessions_held ?? null,
        backgroundCpuPercentBefore: o.backgroundCpuPercentBefore,
        otherCpuPercent: o.machineCpuPercent === null ? null : Math.max(0, o.machineCpuPercent - (serverCpu ?? 0) - s.clientCpuPercent),
      };
      log(`    delivery ${(s.delivery * 100).toFixed(3)} %, p99 ${s.rtt.p99.toFixed(2)} ms, server CPU ${serverCpu?.toFixed(1)} %, ${usPerMsg?.toFixed(2)} us/msg, sessions held mid-run ${round[mode].sessionsHeldMidRun}`);
    }
    round.cpuPerMessageRatio = ratio(round.on.serverCpuUsPerMessage, round.off.serverCpuUsPerMessage);
    rounds.push(round);
  }
  const summary = (mode) => ({
    delivery: med(rounds.map((r) => r[mode].delivery)),
    rttP50: med(rounds.map((r) => r[mode].rtt.p50)),
    rttP99: med(rounds.map((r) => r[mode].rtt.p99)),
    serverCpuPercent: med(rounds.map((r) => r[mode].serverCpuPercent)),
    serverCpuUsPerMessage: med(rounds.map((r) => r[mode].serverCpuUsPerMessage)),
    otherCpuPercent: med(rounds.map((r) => r[mode].otherCpuPercent)),
  });
  const on = summary('on');
  const off = summary('off');
  const cpuPerMessageRatio = ratio(on.serverCpuUsPerMessage, off.serverCpuUsPerMessage);
  return { rounds, on, off, cpuPerMessageRatio, target: { cpuPerMessageRatio: 1.05, met: cpuPerMessageRatio !== null && cpuPerMessageRatio <= 1.05 } };
}

// ---------- 2. resume storm ----------
async function storm(maxPeers) {
  log(`resume storm: ${opts.stormClients} clients x ${opts.stormRate} msg/s, ${opts.stormProcesses} bot processes, all re-mapped at ${opts.stormRebindAt} s, --max-peers ${maxPeers}`);
  const o = await loadRun({
    serverArgs: ['--max-peers', String(maxPeers)],
    loadArgs: ['--clients', String(opts.stormClients), '--rate', String(opts.stormRate), '--size', String(opts.size), '--reliable',
      '--duration', String(opts.stormDuration), '--warmup', String(opts.warmup), '--processes', String(opts.stormProcesses),
      '--rebind-at', String(opts.stormRebindAt), '--rebind-fraction', '1'],
  });
  const s = o.summary;
  const everyoneResumed = s.resumed >= s.clients && s.interrupted === s.resumed && s.disconnected === 0;
  const refused = pick(o.metricsAfter, 'enet_refused_connects_total');
  const refusedByCause = refused ? Object.fromEntries(Object.entries(refused).map(([k, v]) => [(/cause="([^"]+)"/.exec(k) ?? [, k])[1], v])) : null;
  const out = {
    exit: o.exit, command: o.command, maxPeers, processes: s.clientProcesses.length,
    clients: s.clients, connected: s.connected, connectFailed: s.connectFailed,
    interrupted: s.interrupted, resumed: s.resumed, resume: s.resume,
    // The load tester keeps the resume times' p50 and p99 only (no max): "all resumed within" is the p99
    // when everyone resumed, else not met (some never did).
    allResumedWithinMs: everyoneResumed ? s.resume.p99 : null,
    sent: s.sent, received: s.received, lost: s.lost, duplicates: s.duplicates, delivery: s.delivery,
    disconnected: s.disconnected, disconnectReasons: s.disconnectReasons, connectFailReasons: s.connectFailReasons,
    rtt: s.rtt, windowSeconds: s.windowSeconds,
    serverCpuPercent: s.server?.cpuPercent ?? null, serverRssMb: s.server?.rssMb ?? null,
    clientCpuPercent: s.clientCpuPercent, clientProcesses: s.clientProcesses,
    relay: s.link?.relay ?? null, rebinds: s.link?.rebinds ?? null,
    refusedConnects: refusedByCause, sessionsMetrics: pick(o.metricsAfter, 'enet_sessions_'),
    backgroundCpuPercentBefore: o.backgroundCpuPercentBefore, serverStop: o.serverStop,
    otherCpuPercent: o.machineCpuPercent === null ? null : Math.max(0, o.machineCpuPercent - (s.server?.cpuPercent ?? 0) - s.clientCpuPercent),
    timeline: s.timeline?.map(({ t, warmup, count, p99, max }) => ({ t, warmup, count, p99, max })),
  };
  out.targets = {
    allResumedWithin5s: everyoneResumed && s.resume.p99 <= 5000,
    noneLost: s.lost === 0,
    noneDoubled: s.duplicates === 0,
  };
  out.notes = stormNotes(out);
  for (const n of out.notes) log(`    ${n}`);
  log(`    resumed ${s.resumed}/${s.interrupted}/${s.clients}, resume p50 ${s.resume.p50} ms p99 ${s.resume.p99} ms, lost ${s.lost}, duplicates ${s.duplicates}`);
  return out;
}

function stormNotes(r) {
  const notes = [];
  if (r.refusedConnects?.full > 0) {
    notes.push(`the server refused ${r.refusedConnects.full} CONNECTs as full (--max-peers ${r.maxPeers}): a dropped seat still counts toward max-peers, ` +
      'so a resuming connection needs a second free slot; refused resumes retry with backoff (ENetClient reconnect: 100 ms doubling to 2 s)');
  }
  const otherRefused = Object.entries(r.refusedConnects ?? {}).filter(([k, v]) => k !== 'full' && v > 0);
  if (otherRefused.length) notes.push(`CONNECTs refused: ${otherRefused.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.lost > 0 && r.duplicates > 0 && Math.abs(r.lost - r.duplicates) <= 0.2 * Math.max(r.lost, r.duplicates)) {
    notes.push(`lost (${r.lost}) ~ duplicates (${r.duplicates}): the echoes came back, but that many carried another message's sequence number — ` +
      'resent copies with the wrong bytes, not messages lost on the way (equal when every echo carries a send time inside the window)');
  }
  if (r.serverStop?.killed) notes.push('enet-server did not stop within 8 s of SIGTERM after the run (SIGKILL)');
  if (r.resumed < r.interrupted) notes.push(`${r.interrupted - r.resumed} interrupted clients had not resumed when the run ended`);
  if (r.disconnected > 0) notes.push(`disconnected ${r.disconnected}: ${JSON.stringify(r.disconnectReasons)}`);
  const maxBot = Math.max(...r.clientProcesses.map((p) => p.cpuPercent));
  if (maxBot > 85) notes.push(`a bot process used ${maxBot.toFixed(0)}% of a core: the bots may be the bottleneck (more --storm-processes)`);
  if (r.otherCpuPercent > 25) notes.push(`other processes on this machine used ~${r.otherCpuPercent.toFixed(0)}% of a core meanwhile: figures disturbed`);
  return notes;
}

// ---------- table ----------
const f = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-');
const yes = (b) => (b ? 'met' : 'MISSED');

function grid(rows) {
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => String(r[k]).length)));
  const line = (r) => `| ${r.map((c, k) => String(c).padEnd(widths[k])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') + '\n';
}

function tables(res) {
  let out = '';
  const st = res.steady;
  if (st) {
  out += `sessions, steady state: ${opts.clients} clients x ${opts.rate} msg/s, ${opts.size} B reliable, ${opts.duration} s (+${opts.warmup} s warmup), ` +
    `median of ${opts.rounds} interleaved round${opts.rounds > 1 ? 's' : ''}\n`;
  out += grid([
    ['', 'sessions on', '--resume-window 0', 'on/off', 'target'],
    ['server CPU (% of one core)', f(st.on.serverCpuPercent), f(st.off.serverCpuPercent), f(ratio(st.on.serverCpuPercent, st.off.serverCpuPercent), 2), ''],
    ['server CPU per message (us)', f(st.on.serverCpuUsPerMessage, 2), f(st.off.serverCpuUsPerMessage, 2), f(st.cpuPerMessageRatio, 3), `<= 1.05 ${yes(st.target.met)}`],
    ['RTT p50 (ms)', f(st.on.rttP50, 2), f(st.off.rttP50, 2), f(ratio(st.on.rttP50, st.off.rttP50), 2), ''],
    ['RTT p99 (ms)', f(st.on.rttP99, 2), f(st.off.rttP99, 2), f(ratio(st.on.rttP99, st.off.rttP99), 2), ''],
    ['delivery', `${f(st.on.delivery * 100, 3)} %`, `${f(st.off.delivery * 100, 3)} %`, '', ''],
    ['sessions held mid-run', st.rounds.map((r) => r.on.sessionsHeldMidRun ?? '-').join('/'), st.rounds.map((r) => r.off.sessionsHeldMidRun ?? '-').join('/'), '', ''],
    ['other processes (% of one core)', f(st.on.otherCpuPercent, 0), f(st.off.otherCpuPercent, 0), '', ''],
  ]);
  out += `  per round, CPU per message on/off: ${st.rounds.map((r) => f(r.cpuPerMessageRatio, 3)).join(', ')}\n`;
  const busiest = Math.max(...st.rounds.flatMap((r) => [r.on.otherCpuPercent ?? 0, r.off.otherCpuPercent ?? 0]));
  if (busiest > 25) out += `  * other processes on this machine used up to ${f(busiest, 0)}% of a core during these runs: the CPU figures are disturbed, rerun on a quiet machine (or more --rounds)\n`;
  }
  if (!res.storms) return out;
  out += `\nsessions, resume storm: ${opts.stormClients} clients x ${opts.stormRate} msg/s through the relay (clean link, ${opts.stormProcesses} bot processes), ` +
    `every port re-mapped at ${opts.stormRebindAt} s of ${opts.stormDuration} s\n`;
  const head = ['', ...res.storms.map((s) => `--max-peers ${s.maxPeers}`), 'target'];
  const row = (label, get, target = '') => [label, ...res.storms.map(get), target];
  out += grid([
    head,
    row('resumed / interrupted / clients', (s) => `${s.resumed} / ${s.interrupted} / ${s.clients}`, 'all'),
    row('resume p50 (ms)', (s) => f(s.resume.p50, 0)),
    row('resume p99 (ms)', (s) => f(s.resume.p99, 0)),
    row('all resumed within (ms, = p99)', (s) => (s.allResumedWithinMs === null ? 'not all' : f(s.allResumedWithinMs, 0)), '<= 5000'),
    row('lost', (s) => String(s.lost), '0'),
    row('duplicates', (s) => String(s.duplicates), '0'),
    row('delivery', (s) => `${f(s.delivery * 100, 3)} %`),
    row('disconnected', (s) => String(s.disconnected), '0'),
    row('RTT p50 / p99 (ms)', (s) => `${f(s.rtt.p50, 1)} / ${f(s.rtt.p99, 0)}`),
    row('server CPU (% of one core)', (s) => f(s.serverCpuPercent)),
    row('bots CPU (% of one core, each)', (s) => s.clientProcesses.map((p) => f(p.cpuPercent, 0)).join(' + ')),
    row('CONNECTs refused (server)', (s) => (s.refusedConnects ? Object.entries(s.refusedConnects).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || '0' : '-')),
    row('other processes (% of one core)', (s) => f(s.otherCpuPercent, 0)),
    row('targets: within 5 s / 0 lost / 0 doubled', (s) => `${yes(s.targets.allResumedWithin5s)} / ${yes(s.targets.noneLost)} / ${yes(s.targets.noneDoubled)}`),
  ]);
  res.storms.forEach((s) => s.notes.forEach((n) => { out += `  * --max-peers ${s.maxPeers}: ${n}\n`; }));
  return out;
}

async function main() {
  if (!existsSync(SERVER) || !existsSync(LOADTEST)) throw new Error('build first: npm run build');
  const started = Date.now();
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
    options: opts,
  };
  if (opts.only !== 'storm') results.steady = await steady();
  if (opts.only !== 'steady') {
    results.storms = [await storm(opts.stormMaxPeers)];
    if (opts.headroom) results.storms.push(await storm(2 * opts.stormClients + 24));
  }
  results.elapsedSeconds = (Date.now() - started) / 1000;
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(tables(results));
  log(`written ${opts.out.replace(root + '/', '')} (${results.elapsedSeconds.toFixed(0)} s)`);
}

main().then(() => process.exit(0), (error) => {
  log(`${error.stack ?? error}`);
  process.exit(1);
});
