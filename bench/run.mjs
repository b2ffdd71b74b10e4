#!/usr/bin/env node
// Benchmark: our server vs a raw C ENet echo server, same machine, same load generator, same flags.
//
//   node bench/run.mjs [--only raw|ours|actors|actors-fixed|actors-burn|shards|networks|cluster|sessions|game|colyseus] [--rates 10000,20000,...] [--step-ms 3000]
//                      [--grace-ms 1000] [--clients 200] [--size 64] [--fixed-rate 20000] [--fixed-ms 5000]
//                      [--idle-ms 5000] [--p99-budget-ms 50] [--raw-sockbuf BYTES] [--out bench/results/latest.json]
//                      [--no-codec] [--no-actors] [--actor-counts 1,2] [--burn-us 500] [--burn-actors 2]
//                      [--burn-clients 50] [--burn-rates 250,500,...] [--burn-step-ms 3000] [--burn-p99-budget-ms 50]
//                      [--actor-rounds 1] [--quiet-wait-ms 30000] [--no-shards] [--shard-counts 1,2,3]
//                      [--shard-peers 4000] [--shard-hosts 200] [--shard-warmup-ms 3000] [--shard-rates 20000,40000,...] [--big-peers 10000]
//                      [--big-rate 2] [--big-ms 10000] [--no-big] [--no-networks] [--no-sessions] [--no-game] [--no-colyseus]
//
// For each server (raw C echo = bench/c/bin/echo_server, ours = bench/echo-server.mjs on dist/):
//   start it, wait for "listening <port>", measure its idle CPU with no peers (idle-ms),
//   run the rising-rate loadgen (stops after the first failing step), then a fixed-rate step
//   (clients x 100 msg/s by default) while sampling the server's CPU time from /proc/<pid>/stat,
//   then stop it. Progress goes to stderr, the comparison table to stdout, everything to the JSON file.
// Then, unless --no-actors, two game-actor sections (bench/echo-server.mjs --actors N: the echo runs in
// N game actors, bench/game/echo.mjs, sending with ctx.send from the actor):
//   fixed:  the same fixed-rate step (clients, fixed-rate, fixed-ms) plus idle-ms idle, one fresh server each:
//           raw C echo, ours in main-thread mode (--actors 0), ours with each of --actor-counts game actors;
//           delivery, RTT p50/p99, server CPU and CPU per message, ratios actors/main-thread for p99 and CPU
//           per message. Targets: >= 99% delivered, p99 <= 2x main-thread's, CPU/msg <= 1.5x main-thread's.
//   burn:   every packet's handler burns --burn-us us of CPU first (--burn-us of bench/echo-server.mjs),
//           burn-clients clients, rising burn-rates (total msg/s, burn-step-ms steps), main-thread mode vs
//           --burn-actors game actors: the highest rate each sustains (delivery >= 99%, p99 <= burn-p99-budget-ms),
//           and the ratio actors/main-thread (target >= 1.5 on 2 cores).
//   --actor-rounds N repeats both sections N times (servers interleaved) and prints the median of each figure.
//   --only cluster runs bench/cluster.mjs (a fleet on Redis, see there) and nothing else.
//   --only actors runs only these two sections (actors-fixed / actors-burn: only one of them), without the codec
//   benchmark, into bench/results/actors.json unless --out; --only raw|ours runs only that server's rising/fixed
//   section (and the codec benchmark).
// Then, unless --no-shards, the shards section (README "Many peers: shards"): shard-peers clients spread over
//   shard-hosts client hosts (one UDP socket each: the kernel's SO_REUSEPORT hash spreads sockets, not peers)
//   against the raw C echo (one host, 4,095 slots) and ours with each of --shard-counts net actors:
//   (a) shard-peers x 10 msg/s fixed for fixed-ms: delivery, p50/p99, server CPU; (b) rising shard-rates: the
//   highest rate each sustains (>= 99% delivered, p99 <= p99-budget-ms); ratio ours(2 shards)/raw, target >= 1.5;
//   then, unless --no-big, (c) big-peers peers (ours, default shard count) from ceil(big-peers/4000) loadgen
//   processes at big-rate msg/s each for big-ms: delivery, p99 (the worst process's), connect time for all,
//   server RSS per connected peer (growth from before connecting), every process's CPU. Each of these runs
//   first sends for shard-warmup-ms at its first rate, unmeasured (see shardLoadArgs).
//   --only shards runs only this section, into bench/results/shards.json unless --out.
// Then, unless --no-sessions, the sessions benchmark (bench/sessions.mjs, in its own process with its defaults:
//   sessions on vs --resume-window 0 in steady state, then a resume storm of 1,000 clients; < 3 min, its table
//   on stdout, bench/results/sessions.json). --only sessions runs only it (into --out if given).
// Then, unless --no-colyseus, the Colyseus section (bench/colyseus.mjs, in its own process with its defaults: our
//   demo echo driven by enet-loadtest and a Colyseus 0.16 echo room driven by its own load client, 1,000 clients x
//   10 msg/s each, 2 rounds interleaved; bench/colyseus is installed on first use; < 3 min, its table on stdout,
//   bench/results/colyseus.json). --only colyseus runs only it (--out is passed on).
// Then, unless --no-networks, the networks section (bench/networks.mjs, in its own process: ours and the raw
//   C echo behind the same impaired links, driven by enet-loadtest --link; < 2 min, its table on stdout,
//   bench/results/networks.json). --only networks runs only that (--out is passed on).
// Then, unless --no-game, the game section (bench/game.mjs, in its own process with its defaults: the same
//   game — matches of 16, 30 Hz inputs and ticks, 20 Hz snapshots — on our server in main-thread mode, with 2
//   game actors, on 2 shards, in C on raw ENet and on a Godot 3 headless server; players held and CPU per
//   player, with 0 and 20 µs of simulation per player per tick; ~25 min, its table on stdout,
//   bench/results/game.json). --only game runs only it (--out is passed on).
// Then, unless --no-codec, the codec benchmark (bench/codec.mjs, in its own process: VARIANT vs MSGPACK
// vs JSON encode/decode speed and size, < 60 s, its table on stdout, bench/results/codec.json).
// Before each server it waits (at most quiet-wait-ms) until other processes use < 25% of a core.
// Every wait is bounded and every child is killed on exit.
import { headerComment, machineBusyTicks } from './lib/proc.mjs';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildCPrograms } from '../test/c/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const LOADGEN = join(here, 'c', 'bin', 'loadgen');
const ECHO_C = join(here, 'c', 'bin', 'echo_server');
const ECHO_OURS = join(here, 'echo-server.mjs');
const CODEC_BENCH = join(here, 'codec.mjs');
const NETWORKS_BENCH = join(here, 'networks.mjs');
const GAME_BENCH = join(here, 'game.mjs');
const COLYSEUS_BENCH = join(here, 'colyseus.mjs');
const DIST = join(root, 'dist', 'index.js');

// ---------- options ----------
const opts = {
  only: null,
  clients: 200,
  size: 64,
  rates: [10000, 20000, 30000, 40000, 50000, 60000, 70000, 80000, 90000, 100000, 120000, 140000, 160000],
  stepMs: 3000,
  graceMs: 1000,
  fixedRate: null, // default: clients * 100
  fixedMs: 5000,
  idleMs: 5000,
  p99BudgetMs: 50, // also report the highest rate whose p99 RTT stays within this budget
  // Our server asks for 4 MiB socket buffers (native/src/reactor_hosts.cc): the raw C server gets the same.
  rawSockbuf: 4 * 1024 * 1024,
  out: join(here, 'results', 'latest.json'),
  codec: true, // run bench/codec.mjs after the network benchmark
  actors: true, // run the game-actor sections
  actorCounts: [1, 2], // game-actor counts of the fixed-rate section
  burnUs: 500,
  burnActors: 2,
  burnClients: 50,
  burnRates: Array.from({ length: 16 }, (_, i) => 250 * (i + 1)), // 250 .. 4000 msg/s
  burnStepMs: 3000,
  burnP99BudgetMs: 50,
  actorRounds: 1, // repeat both game-actor sections, report the median of each figure
  quietWaitMs: 30000, // before each server: wait at most this long for the rest of the machine to be quiet
  shards: true, // run the shards section
  networks: true, // run bench/networks.mjs (full run only)
  game: true, // run bench/game.mjs (full run only)
  shardCounts: [1, 2, 3],
  shardPeers: 4000,
  shardHosts: 200,
  shardWarmupMs: 3000,
  shardRates: [20000, 40000, 60000, 80000, 100000, 120000, 140000, 160000, 180000, 200000],
  big: true,
  sessions: true, // run bench/sessions.mjs
  colyseus: true, // run bench/colyseus.mjs (full run only)
  bigPeers: 10000,
  bigRate: 2,
  bigMs: 10000,
};
const ONLY = ['raw', 'ours', 'actors', 'actors-fixed', 'actors-burn', 'shards', 'networks', 'cluster', 'sessions', 'game', 'colyseus'];
let outGiven = false;
{
  const a = process.argv.slice(2);
  const num = (k, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) fail(`invalid ${k}: ${v}`);
    return n;
  };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    const v = a[i + 1];
    const take = () => {
      if (v === undefined) fail(`${k} needs a value`);
      i++;
      return v;
    };
    switch (k) {
      case '--only': opts.only = take(); if (!ONLY.includes(opts.only)) fail(`--only ${ONLY.join('|')}`); break;
      case '--clients': opts.clients = num(k, take()); break;
      case '--size': opts.size = num(k, take()); break;
      case '--rates': opts.rates = take().split(',').map((r) => num('rate', r)); break;
      case '--step-ms': opts.stepMs = num(k, take()); break;
      case '--grace-ms': opts.graceMs = Number(take()); break;
      case '--fixed-rate': opts.fixedRate = num(k, take()); break;
      case '--fixed-ms': opts.fixedMs = num(k, take()); break;
      case '--idle-ms': opts.idleMs = num(k, take()); break;
      case '--p99-budget-ms': opts.p99BudgetMs = num(k, take()); break;
      case '--raw-sockbuf': opts.rawSockbuf = Number(take()); break;
      case '--out': opts.out = resolve(take()); outGiven = true; break;
      case '--no-codec': opts.codec = false; break;
      case '--no-actors': opts.actors = false; break;
      case '--actor-counts': opts.actorCounts = take().split(',').map((n) => num('actor count', n)); break;
      case '--burn-us': opts.burnUs = num(k, take()); break;
      case '--burn-actors': opts.burnActors = num(k, take()); break;
      case '--burn-clients': opts.burnClients = num(k, take()); break;
      case '--burn-rates': opts.burnRates = take().split(',').map((r) => num('rate', r)); break;
      case '--burn-step-ms': opts.burnStepMs = num(k, take()); break;
      case '--burn-p99-budget-ms': opts.burnP99BudgetMs = num(k, take()); break;
      case '--actor-rounds': opts.actorRounds = num(k, take()); break;
      case '--quiet-wait-ms': opts.quietWaitMs = num(k, take()); break;
      case '--no-shards': opts.shards = false; break;
      case '--shard-counts': opts.shardCounts = take().split(',').map((n) => num('shard count', n)); break;
      case '--shard-peers': opts.shardPeers = num(k, take()); break;
      case '--shard-hosts': opts.shardHosts = num(k, take()); break;
      case '--shard-warmup-ms': opts.shardWarmupMs = num(k, take()); break;
      case '--shard-rates': opts.shardRates = take().split(',').map((r) => num('rate', r)); break;
      case '--no-big': opts.big = false; break;
      case '--no-sessions': opts.sessions = false; break;
      case '--no-networks': opts.networks = false; break;
      case '--no-game': opts.game = false; break;
      case '--no-colyseus': opts.colyseus = false; break;
      case '--big-peers': opts.bigPeers = num(k, take()); break;
      case '--big-rate': opts.bigRate = num(k, take()); break;
      case '--big-ms': opts.bigMs = num(k, take()); break;
      case '-h': case '--help':
        process.stdout.write(headerComment(import.meta.url));
        process.exit(0);
      default: fail(`unknown option ${k}`);
    }
  }
  opts.fixedRate ??= opts.clients * 100;
  for (const n of [...opts.actorCounts, opts.burnActors, opts.actorRounds]) if (!Number.isInteger(n)) fail(`invalid actor count: ${n}`);
  if (opts.only?.startsWith('actors')) {
    if (!opts.actors) fail(`--only ${opts.only} and --no-actors exclude each other`);
    opts.codec = false;
    if (!outGiven) opts.out = join(here, 'results', 'actors.json');
  }
  if (opts.only === 'sessions' && !opts.sessions) fail('--only sessions and --no-sessions exclude each other');
  if (opts.only === 'shards') {
    if (!opts.shards) fail('--only shards and --no-shards exclude each other');
    opts.codec = false;
    if (!outGiven) opts.out = join(here, 'results', 'shards.json');
  }
}

function fail(msg) {
  process.stderr.write(`bench/run.mjs: ${msg}\n`);
  process.exit(1);
}
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- child process hygiene ----------
const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killAll(sig = 'SIGKILL') {
  for (const c of children) {
    try { c.kill(sig); } catch { /* already gone */ }
  }
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    killAll('SIGTERM');
    setTimeout(() => process.exit(130), 300).unref();
  });
}
process.on('uncaughtException', (err) => {
  process.stderr.write(`bench/run.mjs: ${err?.stack ?? err}\n`);
  killAll('SIGKILL');
  process.exit(1);
});

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}
function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once('exit', () => { clearTimeout(t); res(true); });
  });
}
async function stopChild(child, name, ms = 5000) {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, ms)) return;
  log(`${name} did not exit within ${ms / 1000} s of SIGTERM: SIGKILL`);
  child.kill('SIGKILL');
  await waitExit(child, 2000);
}

// ---------- /proc sampling ----------
let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* default */ }

function cpuTicks(pid) {
  // fields after "(comm)": state ppid ... utime is field 14, stime 15 (1-based over the whole line)
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}
// System-wide UDP counters: datagrams sent, and datagrams the kernel dropped because a socket's receive buffer was full.
function udpCounters() {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const keys = lines[0].split(/\s+/);
    const vals = lines[1].split(/\s+/);
    const get = (k) => Number(vals[keys.indexOf(k)]);
    return { out: get('OutDatagrams'), drops: get('RcvbufErrors') };
  } catch { return null; }
}
function sampleCpu(pid) {
  try { return { ticks: cpuTicks(pid), t: performance.now() }; } catch { return null; }
}
// CPU used on this machine by processes other than the server and the loadgen (concurrent noise), % of one core.
function otherCpuPercent(a, b) {
  if (!a || !b || a.machine === null || b.machine === null || !a.server || !b.server || !a.loadgen || !b.loadgen) return null;
  const others = (b.machine - a.machine) - (b.server.ticks - a.server.ticks) - (b.loadgen.ticks - a.loadgen.ticks);
  return Math.max(0, (100 * others) / CLK_TCK / ((b.server.t - a.server.t) / 1000));
}
function sampleAll(serverPid, loadgenPid) {
  return { server: sampleCpu(serverPid), loadgen: sampleCpu(loadgenPid), machine: machineBusyTicks() };
}
function cpuBetween(a, b) {
  if (!a || !b) return null;
  const cpuSeconds = (b.ticks - a.ticks) / CLK_TCK;
  const wallSeconds = (b.t - a.t) / 1000;
  return { cpuSeconds, wallSeconds, cpuPercent: (100 * cpuSeconds) / wallSeconds };
}

// ---------- servers ----------
async function startServer(name, cmd, args, timeoutMs) {
  log(`starting ${name}: ${[cmd, ...args].map((x) => x.replace(root + '/', '')).join(' ')}`);
  const child = track(spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderrTail = '';
  child.stderr.on('data', (d) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no "listening <port>" line within ${timeoutMs} ms`)), timeoutMs);
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const m = /^listening (\d+)/.exec(line);
      if (m) { clearTimeout(timer); res(Number(m[1])); }
    });
    child.once('error', (e) => { clearTimeout(timer); rej(e); });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      // let the stderr pipe drain before reporting
      setTimeout(() => rej(new Error(`exited (${sig ?? 'code ' + code}) before listening${stderrTail ? ':\n' + stderrTail.trim() : ''}`)), 50);
    });
  }).catch(async (e) => {
    await stopChild(child, name);
    throw e;
  });
  log(`${name} listening on port ${port} (pid ${child.pid})`);
  return { child, port, pid: child.pid, name, stderrTail: () => stderrTail };
}

// Run the loadgen with --json; sample the server's CPU between each stepStart and step line.
function runLoadgen(server, extraArgs, expectedSteps, stepMs, clients = opts.clients, connectTimeoutMs = 10000) {
  const args = ['--host', '127.0.0.1', '--port', String(server.port), '--clients', String(clients),
    '--size', String(opts.size), '--grace-ms', String(opts.graceMs), '--json', ...extraArgs];
  const timeoutMs = connectTimeoutMs + 5000 + expectedSteps * (stepMs + opts.graceMs + 1500) + 5000;
  return new Promise((res) => {
    const child = track(spawn(LOADGEN, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
    const result = { args, connect: null, steps: [], summary: null, error: null };
    const udp0 = udpCounters();
    let stderr = '';
    let stepStartSample = null;
    child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-4000); });
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      let m;
      try { m = JSON.parse(line); } catch { log(`loadgen: ${line}`); return; }
      if (m.type === 'connect') {
        m.serverRssMb = rssMb(server.pid);
        result.connect = m;
        log(`  ${server.name}: ${m.connected}/${m.clients} connected, connect p50 ${fmt(m.connect.p50, 2)} ms p99 ${fmt(m.connect.p99, 2)} ms`);
      } else if (m.type === 'stepStart') {
        stepStartSample = sampleAll(server.pid, child.pid);
      } else if (m.type === 'step') {
        const end = sampleAll(server.pid, child.pid);
        const cpu = cpuBetween(stepStartSample?.server, end.server);
        m.otherCpuPercent = otherCpuPercent(stepStartSample, end);
        if (cpu) {
          m.server = {
            cpuSeconds: cpu.cpuSeconds,
            cpuPercent: cpu.cpuPercent,
            cpuPerMessageUs: m.received ? (cpu.cpuSeconds / m.received) * 1e6 : null,
            rssMb: rssMb(server.pid),
          };
        }
        result.steps.push(m);
        log(`  ${server.name}: target ${m.target}/s sent ${fmt(m.sendRate, 0)}/s recv ${m.received} delivery ${fmt(m.delivery, 4)} ` +
          `echoes ${fmt(m.throughput, 0)}/s rtt p50 ${fmt(m.rtt.p50, 3)} p99 ${fmt(m.rtt.p99, 3)} max ${fmt(m.rtt.max, 1)} ms | ` +
          `server cpu ${fmt(m.server?.cpuPercent, 0)}% ${fmt(m.server?.cpuPerMessageUs, 2)} us/msg | loadgen cpu ${fmt(m.loadgenCpuPercent, 0)}% | other ${fmt(m.otherCpuPercent, 0)}%`);
      } else if (m.type === 'summary') {
        result.summary = m;
      }
    });
    const timer = setTimeout(() => {
      result.error = `loadgen did not finish within ${timeoutMs} ms`;
      child.kill('SIGTERM');
      setTimeout(() => { if (!exited(child)) child.kill('SIGKILL'); }, 2000).unref();
    }, timeoutMs);
    child.once('error', (e) => { result.error = String(e); });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      result.exitCode = code;
      const udp1 = udpCounters();
      result.udpRcvbufErrors = udp0 && udp1 ? udp1.drops - udp0.drops : null;
      result.udpDatagramsSent = udp0 && udp1 ? udp1.out - udp0.out : null;
      if (result.udpRcvbufErrors) log(`  ${server.name}: the kernel dropped ${result.udpRcvbufErrors} UDP datagrams (full receive buffers, system-wide) during this run`);
      if (!result.error && code !== 0) {
        result.error = `loadgen exited with ${sig ?? 'code ' + code}${stderr ? ': ' + stderr.trim() : ''}`;
      }
      if (result.error) log(`  ${server.name}: ${result.error}`);
      res(result);
    });
  });
}

function sustained(steps, p99MaxMs = 1000) {
  // Highest step with delivery >= 99 %, p99 <= 1000 ms (or p99MaxMs) and the target send rate reached (>= 90 %),
  // every step before it passing too.
  let best = null;
  for (const s of steps) {
    if (s.delivery >= 0.99 && s.rtt.p99 !== null && s.rtt.p99 <= p99MaxMs && s.sendRate >= 0.9 * s.target) best = s;
    else break;
  }
  return best;
}

// Wait (bounded) until the rest of the machine is quiet, so that the figures are ours and not a neighbour's.
async function waitForQuiet(maxMs = opts.quietWaitMs, thresholdPercent = 25) {
  const t0 = Date.now();
  let busy = null;
  for (;;) {
    const a = machineBusyTicks();
    await sleep(1000);
    const b = machineBusyTicks();
    busy = a === null || b === null ? 0 : (100 * (b - a)) / CLK_TCK;
    if (busy < thresholdPercent) return busy;
    if (Date.now() - t0 >= maxMs) {
      log(`the machine is still busy (${fmt(busy, 0)}% of a core used by other processes); measuring anyway`);
      return busy;
    }
    log(`waiting for a quiet machine: other processes use ${fmt(busy, 0)}% of a core`);
  }
}

async function benchServer(name, cmd, args, startTimeoutMs) {
  const out = { name, command: [cmd, ...args].map((x) => x.replace(root + '/', '')).join(' ') };
  out.backgroundCpuPercentAtStart = await waitForQuiet();
  let server;
  try {
    server = await startServer(name, cmd, args, startTimeoutMs);
  } catch (e) {
    out.error = `${name} server did not start: ${e.message}`;
    log(out.error);
    return out;
  }
  try {
    await sleep(1000);
    log(`${name}: idle with no peers for ${opts.idleMs} ms`);
    const a = sampleCpu(server.pid);
    await sleep(opts.idleMs);
    const idle = cpuBetween(a, sampleCpu(server.pid));
    out.idle = idle && { ...idle, rssMb: rssMb(server.pid) };
    log(`${name}: idle CPU ${fmt(idle?.cpuPercent, 2)}% of one core`);

    log(`${name}: rising rate ${opts.rates.join(',')} msg/s, ${opts.stepMs} ms steps, ${opts.clients} clients x ${opts.size} B reliable`);
    const rising = await runLoadgen(server, ['--rates', opts.rates.join(','), '--step-ms', String(opts.stepMs)],
      opts.rates.length, opts.stepMs);
    out.rising = rising;
    const best = sustained(rising.steps);
    const last = rising.steps.at(-1);
    out.maxSustained = best && {
      rate: best.target, throughput: best.throughput, delivery: best.delivery, rtt: best.rtt,
      serverCpuPercent: best.server?.cpuPercent ?? null, loadgenCpuPercent: best.loadgenCpuPercent,
      reachedTopRate: best === last && best.target === opts.rates.at(-1),
    };
    out.udpRcvbufErrors = { rising: rising.udpRcvbufErrors };
    const inBudget = rising.steps.filter((st) => st.delivery >= 0.99 && st.rtt.p99 !== null && st.rtt.p99 <= opts.p99BudgetMs && st.sendRate >= 0.9 * st.target);
    const bestInBudget = inBudget.at(-1);
    out.maxWithinP99Budget = bestInBudget ? { budgetMs: opts.p99BudgetMs, rate: bestInBudget.target, throughput: bestInBudget.throughput, rtt: bestInBudget.rtt } : { budgetMs: opts.p99BudgetMs, rate: 0 };
    if (rising.connect?.connectFailed) out.connectFailed = rising.connect.connectFailed;
    out.stoppedAt = rising.summary?.stopReason ? { rate: rising.summary.stoppedAt, reason: rising.summary.stopReason, loadgenCpuPercent: last?.loadgenCpuPercent ?? null } : null;
    if (exited(server.child)) throw new Error(`${name} server exited during the rising-rate run:\n${server.stderrTail().trim()}`);

    await sleep(1000);
    log(`${name}: fixed ${opts.fixedRate} msg/s for ${opts.fixedMs} ms`);
    const fixed = await runLoadgen(server, ['--fixed-rate', String(opts.fixedRate), '--duration-ms', String(opts.fixedMs)], 1, opts.fixedMs);
    out.fixed = fixedSummary(fixed);
    out.udpRcvbufErrors.fixed = fixed.udpRcvbufErrors;
    if (fixed.connect?.connectFailed) out.connectFailed = (out.connectFailed ?? 0) + fixed.connect.connectFailed;
    if (fixed.error) out.fixedError = fixed.error;
    if (rising.error) out.risingError = rising.error;
    out.maxOtherCpuPercent = Math.max(0, ...[...rising.steps, ...fixed.steps].map((st) => st.otherCpuPercent ?? 0));
    if (exited(server.child)) throw new Error(`${name} server exited during the fixed-rate run:\n${server.stderrTail().trim()}`);
  } catch (e) {
    out.error = e.message;
    log(`${name}: ${e.message}`);
  } finally {
    await stopChild(server.child, name);
    log(`${name}: stopped`);
  }
  return out;
}

function fixedSummary(fixed) {
  const fs = fixed.steps[0];
  return fs ? {
    rate: opts.fixedRate, sendRate: fs.sendRate, received: fs.received, delivery: fs.delivery, throughput: fs.throughput,
    rtt: fs.rtt, server: fs.server ?? null, loadgenCpuPercent: fs.loadgenCpuPercent, connect: fixed.connect?.connect ?? null,
    // all UDP datagrams on the machine during the run (both directions) per echoed message; ENet's floor is ~4
    // (data, its ack, the echo, its ack) when nothing is batched
    udpDatagramsPerMessage: fixed.udpDatagramsSent && fs.received ? fixed.udpDatagramsSent / fs.received : null,
  } : null;
}

// ---------- game-actor sections ----------
// The median of every number over a list of results of the same shape (booleans: all true; anything else: the first).
function deepMedian(list) {
  const present = list.filter((x) => x !== null && x !== undefined);
  if (present.length === 0) return null;
  const first = present[0];
  if (typeof first === 'number') {
    const nums = present.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    if (nums.length === 0) return null;
    const m = nums.length >> 1;
    return nums.length % 2 ? nums[m] : (nums[m - 1] + nums[m]) / 2;
  }
  if (typeof first === 'boolean') return present.every(Boolean);
  if (typeof first !== 'object' || Array.isArray(first)) return first;
  const out = {};
  for (const k of Object.keys(first)) out[k] = deepMedian(present.map((x) => x[k]));
  return out;
}

const ourServer = (actors, burnUs = 0) =>
  [process.execPath, [ECHO_OURS, '0', '256', '--actors', String(actors), ...(burnUs > 0 ? ['--burn-us', String(burnUs)] : [])]];

// Start a fresh server, let `body(server, out)` measure it, stop it; errors land in out.error, the server's last
// stderr lines (its "stopped, N echoed" summary) in out.serverLog.
async function withServer(name, cmd, args, startTimeoutMs, body) {
  const out = { name, command: [cmd, ...args].map((x) => x.replace(root + '/', '')).join(' ') };
  out.backgroundCpuPercentAtStart = await waitForQuiet();
  let server;
  try {
    server = await startServer(name, cmd, args, startTimeoutMs);
  } catch (e) {
    out.error = `${name} server did not start: ${e.message}`;
    log(out.error);
    return out;
  }
  try {
    await sleep(1000);
    await body(server, out);
  } catch (e) {
    out.error = e.message;
    log(`${name}: ${e.message}`);
  } finally {
    // bench/echo-server.mjs gives stopServer() 10 s (game actors can take 5 s to stop, see its stderr)
    await stopChild(server.child, name, 12000);
    await sleep(50); // the last stderr lines
    out.serverLog = server.stderrTail().trim().split('\n').slice(-5);
    log(`${name}: stopped${out.serverLog.length ? ' (' + out.serverLog.at(-1) + ')' : ''}`);
  }
  return out;
}

// (a) idle CPU, then the fixed-rate plain echo.
function benchActorFixed(name, cmd, args, startTimeoutMs) {
  return withServer(name, cmd, args, startTimeoutMs, async (server, out) => {
    const a = sampleCpu(server.pid);
    await sleep(opts.idleMs);
    const idle = cpuBetween(a, sampleCpu(server.pid));
    out.idle = idle && { ...idle, rssMb: rssMb(server.pid) };
    log(`${name}: idle CPU ${fmt(idle?.cpuPercent, 2)}% of one core; fixed ${opts.fixedRate} msg/s for ${opts.fixedMs} ms`);
    const fixed = await runLoadgen(server, ['--fixed-rate', String(opts.fixedRate), '--duration-ms', String(opts.fixedMs)], 1, opts.fixedMs);
    out.fixed = fixedSummary(fixed);
    out.udpRcvbufErrors = fixed.udpRcvbufErrors;
    out.otherCpuPercent = fixed.steps[0]?.otherCpuPercent ?? null;
    if (fixed.connect?.connectFailed) out.connectFailed = fixed.connect.connectFailed;
    if (fixed.error) out.fixedError = fixed.error;
    if (exited(server.child)) throw new Error(`${name} server exited during the fixed-rate run:\n${server.stderrTail().trim()}`);
  });
}

// (b) rising rate with a CPU burn in every handler.
function benchActorBurn(name, cmd, args, startTimeoutMs) {
  return withServer(name, cmd, args, startTimeoutMs, async (server, out) => {
    log(`${name}: burn ${opts.burnUs} us/msg, rising ${opts.burnRates.join(',')} msg/s, ${opts.burnStepMs} ms steps, ${opts.burnClients} clients`);
    const rising = await runLoadgen(server, ['--rates', opts.burnRates.join(','), '--step-ms', String(opts.burnStepMs)],
      opts.burnRates.length, opts.burnStepMs, opts.burnClients);
    out.rising = rising;
    const pick = (st) => st && {
      rate: st.target, throughput: st.throughput, delivery: st.delivery, rtt: st.rtt,
      serverCpuPercent: st.server?.cpuPercent ?? null, serverCpuPerMessageUs: st.server?.cpuPerMessageUs ?? null,
      loadgenCpuPercent: st.loadgenCpuPercent,
      reachedTopRate: st === rising.steps.at(-1) && st.target === opts.burnRates.at(-1),
    };
    out.maxWithinBudget = pick(sustained(rising.steps, opts.burnP99BudgetMs));
    out.maxSustained = pick(sustained(rising.steps));
    // The first step that missed the budget (the one the rate above is limited by).
    out.firstOverBudget = pick(rising.steps.find((st) => !(st.delivery >= 0.99 && st.rtt.p99 !== null && st.rtt.p99 <= opts.burnP99BudgetMs && st.sendRate >= 0.9 * st.target)));
    out.stoppedAt = rising.summary?.stopReason ? { rate: rising.summary.stoppedAt, reason: rising.summary.stopReason } : null;
    out.udpRcvbufErrors = rising.udpRcvbufErrors;
    out.maxOtherCpuPercent = Math.max(0, ...rising.steps.map((st) => st.otherCpuPercent ?? 0));
    if (rising.connect?.connectFailed) out.connectFailed = rising.connect.connectFailed;
    if (rising.error) out.risingError = rising.error;
    if (exited(server.child)) throw new Error(`${name} server exited during the burn run:\n${server.stderrTail().trim()}`);
  });
}

async function actorFixedSection() {
  const variants = [
    { key: 'raw', label: 'raw C echo', cmd: ECHO_C, args: ['0', '256', '2', String(opts.rawSockbuf)], timeout: 5000 },
    { key: 'main', label: 'main thread', cmd: ourServer(0)[0], args: ourServer(0)[1], timeout: 20000 },
    ...opts.actorCounts.map((n) => ({ key: `actors${n}`, label: `${n} actor${n > 1 ? 's' : ''}`, cmd: ourServer(n)[0], args: ourServer(n)[1], timeout: 20000 })),
  ];
  const section = {
    config: { clients: opts.clients, size: opts.size, rate: opts.fixedRate, durationMs: opts.fixedMs, idleMs: opts.idleMs, actorCounts: opts.actorCounts, rounds: opts.actorRounds },
    rounds: [],
    servers: {},
  };
  for (let r = 0; r < opts.actorRounds; r++) {
    const round = {};
    for (const v of variants) {
      const name = opts.actorRounds > 1 ? `${v.key}#${r + 1}` : v.key;
      log(`game actors, fixed rate: ${v.label}${opts.actorRounds > 1 ? `, round ${r + 1}/${opts.actorRounds}` : ''}`);
      round[v.key] = { label: v.label, ...(await benchActorFixed(name, v.cmd, v.args, v.timeout)) };
    }
    section.rounds.push(round);
  }
  // One round: its figures; several: the median of each figure over the rounds.
  for (const v of variants) {
    const list = section.rounds.map((round) => round[v.key]);
    section.servers[v.key] = list.length === 1 ? list[0] : {
      label: v.label, name: v.key, medianOf: list.length,
      fixed: deepMedian(list.map((x) => x.fixed)), idle: deepMedian(list.map((x) => x.idle)),
    };
  }
  const main = section.servers.main?.fixed;
  section.comparison = {};
  for (const n of opts.actorCounts) {
    const f = section.servers[`actors${n}`]?.fixed;
    const c = {
      delivery: f?.delivery ?? null,
      p99Ratio: ratio(f?.rtt?.p99, main?.rtt?.p99),
      p50Ratio: ratio(f?.rtt?.p50, main?.rtt?.p50),
      cpuPerMessageRatio: ratio(f?.server?.cpuPerMessageUs, main?.server?.cpuPerMessageUs),
    };
    c.targets = {
      delivery: c.delivery === null ? null : c.delivery >= 0.99,
      p99: c.p99Ratio === null ? null : c.p99Ratio <= 2,
      cpuPerMessage: c.cpuPerMessageRatio === null ? null : c.cpuPerMessageRatio <= 1.5,
    };
    section.comparison[`actors${n}`] = c;
  }
  section.comparison.mainVsRaw = {
    p99Ratio: ratio(main?.rtt?.p99, section.servers.raw?.fixed?.rtt?.p99),
    cpuPerMessageRatio: ratio(main?.server?.cpuPerMessageUs, section.servers.raw?.fixed?.server?.cpuPerMessageUs),
  };
  return section;
}

async function actorBurnSection() {
  const section = {
    config: { burnUs: opts.burnUs, actors: opts.burnActors, clients: opts.burnClients, size: opts.size, rates: opts.burnRates, stepMs: opts.burnStepMs, p99BudgetMs: opts.burnP99BudgetMs, rounds: opts.actorRounds },
    rounds: [],
    servers: {},
  };
  const variants = [['main', 'main thread', 0], ['actors', `${opts.burnActors} actors`, opts.burnActors]];
  for (let r = 0; r < opts.actorRounds; r++) {
    const round = {};
    for (const [key, label, n] of variants) {
      const name = `${key === 'main' ? 'main' : `actors${n}`}${opts.actorRounds > 1 ? `#${r + 1}` : ''}`;
      log(`game actors, burn ${opts.burnUs} us: ${label}${opts.actorRounds > 1 ? `, round ${r + 1}/${opts.actorRounds}` : ''}`);
      round[key] = await benchActorBurn(name, ...ourServer(n, opts.burnUs), 20000);
    }
    section.rounds.push(round);
  }
  for (const [key, label] of variants) {
    const list = section.rounds.map((round) => round[key]);
    // a round that sustained no step counts as rate 0
    const orZero = (x) => x ?? { rate: 0 };
    section.servers[key] = list.length === 1 ? list[0] : {
      label, name: key, medianOf: list.length, rising: true,
      maxWithinBudget: deepMedian(list.map((x) => orZero(x.maxWithinBudget))),
      maxSustained: deepMedian(list.map((x) => orZero(x.maxSustained))),
      firstOverBudget: deepMedian(list.map((x) => x.firstOverBudget)),
      stoppedAt: deepMedian(list.map((x) => x.stoppedAt)),
      ratesWithinBudget: list.map((x) => x.maxWithinBudget?.rate ?? 0),
    };
  }
  const r = ratio(section.servers.actors.maxWithinBudget?.rate, section.servers.main.maxWithinBudget?.rate);
  section.comparison = {
    rateRatio: r,
    rateRatioTarget: 1.5,
    met: r === null ? null : r >= 1.5,
    deliveryOnlyRateRatio: ratio(section.servers.actors.maxSustained?.rate, section.servers.main.maxSustained?.rate),
    // one thread burning burnUs per message cannot exceed 1e6/burnUs msg/s
    ceilingPerThread: 1e6 / opts.burnUs,
  };
  return section;
}

// ---------- shards section ----------
// One shard: 4,095 slots, as the raw C server. Several: maxPeers 5,000, so that each shard has room for
// the loadgen's uneven spread — each of its client hosts is one UDP socket carrying shard-peers /
// shard-hosts peers, and the kernel hashes sockets (4-tuples) to shards, not peers; real clients have a
// socket each, which the default slots (shardSlots) are sized for.
const shardServer = (netActors) => [process.execPath, [ECHO_OURS, '0', netActors === 1 ? '4095' : '5000', '--net-actors', String(netActors)]];
// Every run of this section first sends for shard-warmup-ms unmeasured: thousands of peers that just
// connected still have ENet's initial RTT estimate (500 ms), so a datagram lost then is resent only
// after a long timeout, and that first second would be the p99 of every server alike.
const SHARD_CONNECT_MS = 30000;
const shardLoadArgs = (hosts) => ['--hosts', String(hosts), '--connect-timeout-ms', String(SHARD_CONNECT_MS), '--warmup-ms', String(opts.shardWarmupMs)];

function benchShardServer(name, cmd, args) {
  return withServer(name, cmd, args, 30000, async (server, out) => {
    const rate = opts.shardPeers * 10;
    log(`${name}: ${opts.shardPeers} peers x 10 msg/s = ${rate} msg/s for ${opts.fixedMs} ms`);
    const fixed = await runLoadgen(server, ['--fixed-rate', String(rate), '--duration-ms', String(opts.fixedMs), ...shardLoadArgs(opts.shardHosts)],
      1, opts.fixedMs, opts.shardPeers, SHARD_CONNECT_MS + opts.shardWarmupMs);
    out.fixed = { ...fixedSummary(fixed), rate };
    if (fixed.error) out.fixedError = fixed.error;
    if (exited(server.child)) throw new Error(`${name} exited during the fixed run:\n${server.stderrTail().trim()}`);
    log(`${name}: rising ${opts.shardRates.join(',')} msg/s at ${opts.shardPeers} peers`);
    const rising = await runLoadgen(server, ['--rates', opts.shardRates.join(','), '--step-ms', String(opts.stepMs), ...shardLoadArgs(opts.shardHosts)],
      opts.shardRates.length, opts.stepMs, opts.shardPeers, SHARD_CONNECT_MS + opts.shardWarmupMs);
    out.rising = rising.steps.map((st) => ({ target: st.target, sendRate: st.sendRate, delivery: st.delivery, rtt: st.rtt, serverCpuPercent: st.server?.cpuPercent ?? null, loadgenCpuPercent: st.loadgenCpuPercent }));
    const pick = (best) => best ? { rate: best.target, delivery: best.delivery, rtt: best.rtt, serverCpuPercent: best.server?.cpuPercent ?? null, loadgenCpuPercent: best.loadgenCpuPercent } : { rate: 0 };
    out.maxWithinBudget = pick(sustained(rising.steps, opts.p99BudgetMs));
    out.maxSustained = pick(sustained(rising.steps));
    out.loadgenLimited = rising.summary?.stopReason ?? null;
    if (rising.error) out.risingError = rising.error;
    if (exited(server.child)) throw new Error(`${name} exited during the rising run:\n${server.stderrTail().trim()}`);
  });
}

// (c) many peers from several loadgen processes at once (one process drives at most 4,000 per host).
function benchBigServer(name, cmd, args) {
  return withServer(name, cmd, args, 30000, async (server, out) => {
    const processes = Math.ceil(opts.bigPeers / 4000);
    const per = Math.floor(opts.bigPeers / processes);
    const rssBefore = rssMb(server.pid);
    log(`${name}: ${opts.bigPeers} peers from ${processes} loadgen processes, ${opts.bigRate} msg/s each, ${opts.bigMs} ms`);
    const runs = await Promise.all(Array.from({ length: processes }, () =>
      runLoadgen(server, ['--fixed-rate', String(per * opts.bigRate), '--duration-ms', String(opts.bigMs), ...shardLoadArgs(Math.ceil(per / 16))],
        1, opts.bigMs, per, 60000 + opts.shardWarmupMs)));
    const steps = runs.map((r) => r.steps[0]).filter(Boolean);
    const sent = steps.reduce((a, st) => a + st.sendRate * (st.durationMs / 1000), 0);
    const received = steps.reduce((a, st) => a + st.received, 0);
    const connected = runs.reduce((a, r) => a + (r.connect?.connected ?? 0), 0);
    const rssConnected = Math.max(...runs.map((r) => r.connect?.serverRssMb ?? 0));
    out.big = {
      peers: per * processes, connected, processes,
      delivery: sent > 0 ? received / sent : null,
      // percentiles cannot be merged from summaries: the worst process's
      rtt: { p50: Math.max(...steps.map((st) => st.rtt.p50 ?? 0)), p99: Math.max(...steps.map((st) => st.rtt.p99 ?? 0)) },
      connectAllMs: Math.max(...runs.map((r) => r.connect?.allMs ?? 0)),
      rssBeforeMb: rssBefore, rssConnectedMb: rssConnected,
      rssPerPeerKb: connected > 0 && rssBefore !== null ? ((rssConnected - rssBefore) * 1024) / connected : null,
      serverCpuPercent: Math.max(...steps.map((st) => st.server?.cpuPercent ?? 0)),
      loadgenCpuPercent: steps.map((st) => st.loadgenCpuPercent),
      errors: runs.map((r) => r.error).filter(Boolean),
    };
    if (exited(server.child)) throw new Error(`${name} exited during the big run:\n${server.stderrTail().trim()}`);
  });
}

async function shardSection() {
  const section = { config: { peers: opts.shardPeers, hosts: opts.shardHosts, perPeerRate: 10, rates: opts.shardRates, fixedMs: opts.fixedMs, counts: opts.shardCounts, p99BudgetMs: opts.p99BudgetMs }, servers: {} };
  log('shards: raw C echo, one host of 4,095 slots');
  section.servers.raw = { label: 'raw C (1 host)', ...(await benchShardServer('raw', ECHO_C, ['0', '4095', '2', String(opts.rawSockbuf)])) };
  for (const n of opts.shardCounts) {
    log(`shards: ours with ${n} net actor${n > 1 ? 's' : ''}`);
    section.servers[`shards${n}`] = { label: `ours, ${n} shard${n > 1 ? 's' : ''}`, ...(await benchShardServer(`shards${n}`, ...shardServer(n))) };
  }
  if (opts.big) {
    log(`shards: ${opts.bigPeers} peers`);
    // netActors left to createServer: its default for maxPeers 1.2 x the peers (room for the loadgen's
    // many peers per socket, see shardServer)
    section.servers.big = await benchBigServer('big', process.execPath, [ECHO_OURS, '0', String(Math.ceil(opts.bigPeers * 1.2))]);
  }
  const raw = section.servers.raw;
  section.comparison = {};
  for (const n of opts.shardCounts) {
    const o = section.servers[`shards${n}`];
    section.comparison[`shards${n}`] = {
      rateRatio: ratio(o.maxSustained?.rate, raw.maxSustained?.rate),
      rateWithinBudgetRatio: ratio(o.maxWithinBudget?.rate, raw.maxWithinBudget?.rate),
      fixedDelivery: o.fixed?.delivery ?? null,
      fixedP99Ms: o.fixed?.rtt?.p99 ?? null,
      cpuPerMessageRatio: ratio(o.fixed?.server?.cpuPerMessageUs, raw.fixed?.server?.cpuPerMessageUs),
    };
  }
  const two = section.comparison.shards2;
  section.comparison.targets = {
    rate2vsRaw: two?.rateRatio == null ? null : two.rateRatio >= 1.5,
    fixed2: two ? (two.fixedDelivery ?? 0) >= 0.999 && (two.fixedP99Ms ?? Infinity) <= 50 : null,
    big: section.servers.big?.big ? section.servers.big.big.delivery >= 0.999 && section.servers.big.big.connectAllMs <= 30000 && (section.servers.big.big.rssPerPeerKb ?? Infinity) <= 4 : null,
  };
  return section;
}

function shardTable(section) {
  const keys = ['raw', ...opts.shardCounts.map((n) => `shards${n}`)];
  const rows = [
    [`${section.config.peers} peers x 10 msg/s: delivered`, (k) => fmt(section.servers[k]?.fixed?.delivery, 4)],
    ['  RTT p50 / p99 (ms)', (k) => `${fmt(section.servers[k]?.fixed?.rtt?.p50, 1)} / ${fmt(section.servers[k]?.fixed?.rtt?.p99, 1)}`],
    ['  server CPU (% of a core)', (k) => fmt(section.servers[k]?.fixed?.server?.cpuPercent, 0)],
    ['  loadgen CPU (% of a core)', (k) => fmt(section.servers[k]?.fixed?.loadgenCpuPercent, 0)],
    ['  server CPU per message (us)', (k) => fmt(section.servers[k]?.fixed?.server?.cpuPerMessageUs, 1)],
    ['highest rate, >= 99% delivered, p99 <= 1 s', (k) => String(section.servers[k]?.maxSustained?.rate ?? '-')],
    ['  rate / raw C', (k) => (k === 'raw' ? '1.00' : fmt(section.comparison[k]?.rateRatio, 2))],
    [`highest rate, p99 <= ${opts.p99BudgetMs} ms`, (k) => String(section.servers[k]?.maxWithinBudget?.rate ?? '-')],
    ['  loadgen CPU there (% of a core)', (k) => fmt(section.servers[k]?.maxSustained?.loadgenCpuPercent, 0)],
  ];
  const width = 18;
  let text = `shards (SO_REUSEPORT), ${section.config.peers} peers over ${section.config.hosts} client sockets\n`;
  text += ''.padEnd(44) + keys.map((k) => (section.servers[k]?.label ?? k).padStart(width)).join('') + '\n';
  for (const [label, cell] of rows) text += label.padEnd(44) + keys.map((k) => cell(k).padStart(width)).join('') + '\n';
  const big = section.servers.big?.big;
  if (big) {
    text += `${big.peers} peers (${big.processes} loadgen processes, ${opts.bigRate} msg/s each): ${big.connected} connected in ${fmt(big.connectAllMs / 1000, 1)} s, ` +
      `delivered ${fmt(big.delivery, 4)}, RTT p50 ${fmt(big.rtt.p50, 1)} / p99 ${fmt(big.rtt.p99, 1)} ms, ` +
      `server RSS ${fmt(big.rssBeforeMb, 0)} -> ${fmt(big.rssConnectedMb, 0)} MB (${fmt(big.rssPerPeerKb, 2)} KB per peer), ` +
      `server CPU ${fmt(big.serverCpuPercent, 0)}%, loadgens ${big.loadgenCpuPercent.map((c) => fmt(c, 0) + '%').join(' ')}\n`;
  } else if (section.servers.big?.error) text += `big: ${section.servers.big.error}\n`;
  const t = section.comparison.targets;
  text += `targets: 2 shards >= 1.5x raw rate ${t.rate2vsRaw}; 2 shards at 10 msg/s >= 99.9% and p99 <= 50 ms ${t.fixed2}; ${opts.bigPeers} peers ${t.big}\n`;
  return text;
}

// ---------- report ----------
function fmt(v, d = 2) {
  return v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d);
}
function ratio(a, b) {
  return a !== null && a !== undefined && b ? a / b : null;
}

function table(raw, ours, comparison) {
  const cols = [['', 44], ['raw C echo', 16], ['ours', 16], ['ours/raw', 10]];
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(cols[i][1]) : String(c).padStart(cols[i][1]))).join('');
  const rows = [];
  rows.push(line(cols.map((c) => c[0])));
  rows.push('-'.repeat(cols.reduce((n, c) => n + c[1], 0)));
  const ms = (r) => r?.maxSustained;
  const sustainedLabel = (r) => (ms(r) ? `${ms(r).reachedTopRate ? '>=' : ''}${ms(r).rate}` : (r?.rising ? '0' : '-'));
  rows.push(line(['highest sustained rate (msg/s)', sustainedLabel(raw), sustainedLabel(ours), fmt(comparison.throughputRatio, 3)]));
  rows.push(line(['  echo throughput there (msg/s)', fmt(ms(raw)?.throughput, 0), fmt(ms(ours)?.throughput, 0), '']));
  rows.push(line(['  p99 RTT there (ms)', fmt(ms(raw)?.rtt.p99, 3), fmt(ms(ours)?.rtt.p99, 3), '']));
  rows.push(line(['  server CPU there (% of one core)', fmt(ms(raw)?.serverCpuPercent, 0), fmt(ms(ours)?.serverCpuPercent, 0), '']));
  rows.push(line(['  loadgen CPU there (% of one core)', fmt(ms(raw)?.loadgenCpuPercent, 0), fmt(ms(ours)?.loadgenCpuPercent, 0), '']));
  rows.push(line(['  next step failed at (msg/s)', raw?.stoppedAt ? raw.stoppedAt.rate : '-', ours?.stoppedAt ? ours.stoppedAt.rate : '-', '']));
  rows.push(line([`highest rate with p99 <= ${opts.p99BudgetMs} ms (msg/s)`, fmt(raw?.maxWithinP99Budget?.rate, 0), fmt(ours?.maxWithinP99Budget?.rate, 0), fmt(ratio(ours?.maxWithinP99Budget?.rate, raw?.maxWithinP99Budget?.rate), 3)]));
  const f = (r) => r?.fixed;
  const drops = (r) => (r?.udpRcvbufErrors ? `${r.udpRcvbufErrors.rising ?? '-'} / ${r.udpRcvbufErrors.fixed ?? '-'}` : '-');
  rows.push(line([`fixed ${opts.fixedRate} msg/s, ${opts.fixedMs / 1000} s: delivery`, fmt(f(raw)?.delivery, 4), fmt(f(ours)?.delivery, 4), '']));
  rows.push(line(['  RTT p50 (ms)', fmt(f(raw)?.rtt.p50, 3), fmt(f(ours)?.rtt.p50, 3), fmt(ratio(f(ours)?.rtt.p50, f(raw)?.rtt.p50), 2)]));
  rows.push(line(['  RTT p99 (ms)', fmt(f(raw)?.rtt.p99, 3), fmt(f(ours)?.rtt.p99, 3), fmt(comparison.fixedP99Ratio, 2)]));
  rows.push(line(['  server CPU (% of one core)', fmt(f(raw)?.server?.cpuPercent, 1), fmt(f(ours)?.server?.cpuPercent, 1), fmt(ratio(f(ours)?.server?.cpuPercent, f(raw)?.server?.cpuPercent), 2)]));
  rows.push(line(['  server CPU per message (us)', fmt(f(raw)?.server?.cpuPerMessageUs, 2), fmt(f(ours)?.server?.cpuPerMessageUs, 2), fmt(comparison.cpuPerMessageRatio, 2)]));
  rows.push(line(['  server RSS (MB)', fmt(f(raw)?.server?.rssMb, 1), fmt(f(ours)?.server?.rssMb, 1), '']));
  rows.push(line(['  loadgen CPU (% of one core)', fmt(f(raw)?.loadgenCpuPercent, 1), fmt(f(ours)?.loadgenCpuPercent, 1), '']));
  rows.push(line(['  UDP datagrams per message', fmt(f(raw)?.udpDatagramsPerMessage, 2), fmt(f(ours)?.udpDatagramsPerMessage, 2), '']));
  rows.push(line(['UDP drops, rising / fixed run', drops(raw), drops(ours), '']));
  rows.push(line(['idle, no peers: server CPU (% of one core)', fmt(raw?.idle?.cpuPercent, 2), fmt(ours?.idle?.cpuPercent, 2), '']));
  const notes = [];
  for (const r of [raw, ours]) {
    if (!r) continue;
    if (r.error) {
      const lines = r.error.split('\n').map((l) => l.trim()).filter(Boolean);
      const detail = lines.slice(1).find((l) => !l.startsWith('at ')) ?? '';
      notes.push(`${r.name}: ${lines[0]}${detail ? ' ' + detail : ''}`.slice(0, 400));
    }
    if (r.maxOtherCpuPercent > 20) {
      notes.push(`${r.name}: other processes on this machine used up to ${fmt(r.maxOtherCpuPercent, 0)}% of a core during some steps ` +
        `(see otherCpuPercent per step in the JSON): those figures are disturbed, rerun on a quiet machine`);
    }
    if (r.connectFailed) notes.push(`${r.name}: ${r.connectFailed} client connections failed`);
    if (r.udpRcvbufErrors?.rising || r.udpRcvbufErrors?.fixed) {
      notes.push(`${r.name}: UDP datagrams dropped by the kernel (full socket buffers): ${r.udpRcvbufErrors.rising ?? 0} in the rising run, ` +
        `${r.udpRcvbufErrors.fixed ?? 0} in the fixed run; each forces an ENet retransmit and shows up as RTT spikes`);
    }
    if (r.stoppedAt) notes.push(`${r.name}: stepping stopped at ${r.stoppedAt.rate} msg/s: ${r.stoppedAt.reason} (loadgen CPU ${fmt(r.stoppedAt.loadgenCpuPercent, 0)}%)`);
    if (r.maxSustained?.reachedTopRate) notes.push(`${r.name}: sustained the highest rate tried; its limit is higher`);
    if (r.maxSustained && r.maxSustained.loadgenCpuPercent >= 85) {
      notes.push(`${r.name}: the loadgen used ${fmt(r.maxSustained.loadgenCpuPercent, 0)}% of a core at the top rate: on 2 cores the machine, not only the server, is the limit there`);
    }
  }
  return rows.join('\n') + (notes.length ? '\n\n' + notes.map((n) => `* ${n}`).join('\n') : '') + '\n';
}

function grid(cols, rows) {
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(cols[i][1]) : String(c ?? '').padStart(cols[i][1]))).join('');
  return [line(cols.map((c) => c[0])), '-'.repeat(cols.reduce((n, c) => n + c[1], 0)), ...rows.map(line)].join('\n');
}
const verdict = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');

function sectionNotes(servers) {
  const notes = [];
  for (const r of servers) {
    if (!r) continue;
    if (r.error) {
      const lines = r.error.split('\n').map((l) => l.trim()).filter(Boolean);
      notes.push(`${r.name}: ${lines[0]}${lines[1] ? ' ' + lines[1] : ''}`.slice(0, 400));
    }
    if (r.fixedError) notes.push(`${r.name}: ${r.fixedError}`.slice(0, 400));
    if (r.risingError) notes.push(`${r.name}: ${r.risingError}`.slice(0, 400));
    const other = r.otherCpuPercent ?? r.maxOtherCpuPercent;
    if (other > 20) notes.push(`${r.name}: other processes on this machine used up to ${fmt(other, 0)}% of a core meanwhile: its figures are disturbed`);
    if (r.connectFailed) notes.push(`${r.name}: ${r.connectFailed} client connections failed`);
    if (r.udpRcvbufErrors) notes.push(`${r.name}: the kernel dropped ${r.udpRcvbufErrors} UDP datagrams (full socket buffers)`);
    const said = /refused so far|restarted|error|took|did not finish/;
    if (r.serverLog?.some((l) => said.test(l))) notes.push(`${r.name}: server said: ${r.serverLog.filter((l) => said.test(l)).join(' | ')}`.slice(0, 400));
  }
  return notes.length ? '\n' + notes.map((n) => `* ${n}`).join('\n') + '\n' : '';
}

function actorFixedTable(section) {
  const keys = ['raw', 'main', ...opts.actorCounts.map((n) => `actors${n}`)];
  const sv = keys.map((k) => section.servers[k]);
  const cmp = opts.actorCounts.map((n) => section.comparison[`actors${n}`]);
  const rounds = section.rounds.length > 1 ? `, median of ${section.rounds.length}` : '';
  const cols = [[`game actors: fixed ${opts.fixedRate} msg/s (${opts.clients} clients), ${opts.fixedMs / 1000} s${rounds}`, 58],
    ...sv.map((r) => [r?.label ?? '-', 13]), ...opts.actorCounts.map((n) => [`${n}act/main`, 11]), ['target', 9]];
  const f = (r) => r?.fixed;
  const per = (get, d) => sv.map((r) => fmt(get(r), d));
  const rows = [
    ['delivery', ...per((r) => f(r)?.delivery, 4), ...cmp.map(() => ''), '>= 0.99'],
    ['RTT p50 (ms)', ...per((r) => f(r)?.rtt?.p50, 3), ...cmp.map((c) => fmt(c?.p50Ratio, 2)), ''],
    ['RTT p99 (ms)', ...per((r) => f(r)?.rtt?.p99, 3), ...cmp.map((c) => fmt(c?.p99Ratio, 2)), '<= 2'],
    ['RTT max (ms)', ...per((r) => f(r)?.rtt?.max, 1), ...cmp.map(() => ''), ''],
    ['server CPU (% of one core)', ...per((r) => f(r)?.server?.cpuPercent, 1), ...cmp.map(() => ''), ''],
    ['server CPU per message (us)', ...per((r) => f(r)?.server?.cpuPerMessageUs, 2), ...cmp.map((c) => fmt(c?.cpuPerMessageRatio, 2)), '<= 1.5'],
    ['server RSS (MB)', ...per((r) => f(r)?.server?.rssMb, 1), ...cmp.map(() => ''), ''],
    ['loadgen CPU (% of one core)', ...per((r) => f(r)?.loadgenCpuPercent, 1), ...cmp.map(() => ''), ''],
    ['UDP datagrams per message', ...per((r) => f(r)?.udpDatagramsPerMessage, 2), ...cmp.map(() => ''), ''],
    ['idle, no peers: server CPU (% of one core)', ...per((r) => r?.idle?.cpuPercent, 2), ...cmp.map(() => ''), ''],
  ];
  const targets = opts.actorCounts.map((n, i) => {
    const t = cmp[i]?.targets ?? {};
    return `${n} actor${n > 1 ? 's' : ''}: delivery >= 99% ${verdict(t.delivery)}, p99 <= 2x main ${verdict(t.p99)}, CPU/msg <= 1.5x main ${verdict(t.cpuPerMessage)}`;
  });
  return grid(cols, rows) + '\n' + targets.map((t) => `  targets, ${t}`).join('\n') + '\n' +
    `  main thread / raw C echo: p99 ${fmt(section.comparison.mainVsRaw.p99Ratio, 2)}, CPU/msg ${fmt(section.comparison.mainVsRaw.cpuPerMessageRatio, 2)}\n` +
    perRound(section) + sectionNotes(section.rounds.flatMap((round) => keys.map((k) => round[k])));
}

// With several rounds: each round's ratios actors/main-thread (the table shows medians).
function perRound(section) {
  if (section.rounds.length < 2) return '';
  return opts.actorCounts.map((n) => {
    const rs = section.rounds.map((round) => {
      const m = round.main?.fixed;
      const f = round[`actors${n}`]?.fixed;
      return `${fmt(ratio(f?.rtt?.p99, m?.rtt?.p99), 2)}/${fmt(ratio(f?.server?.cpuPerMessageUs, m?.server?.cpuPerMessageUs), 2)}`;
    });
    return `  per round, ${n} actor${n > 1 ? 's' : ''}/main p99/CPU-per-msg: ${rs.join(', ')}\n`;
  }).join('');
}

function actorBurnTable(section) {
  const m = section.servers.main;
  const a = section.servers.actors;
  const c = section.comparison;
  const rounds = section.rounds.length > 1 ? `, median of ${section.rounds.length}` : '';
  const cols = [[`game actors: burn ${opts.burnUs} us/msg, ${opts.burnClients} clients, ${opts.burnRates[0]}..${opts.burnRates.at(-1)} msg/s${rounds}`, 60],
    ['main thread', 18], [`${opts.burnActors} actors`, 18], ['actors/main', 12], ['target', 9]];
  const label = (x) => (x ? `${x.reachedTopRate ? '>=' : ''}${x.rate}` : (m?.rising || a?.rising ? '0' : '-'));
  const rows = [
    [`highest sustained rate, p99 <= ${opts.burnP99BudgetMs} ms (msg/s)`, label(m?.maxWithinBudget), label(a?.maxWithinBudget), fmt(c.rateRatio, 2), '>= 1.5'],
    ['  echo throughput there (msg/s)', fmt(m?.maxWithinBudget?.throughput, 0), fmt(a?.maxWithinBudget?.throughput, 0), '', ''],
    ['  RTT p50 / p99 there (ms)', `${fmt(m?.maxWithinBudget?.rtt.p50, 2)}/${fmt(m?.maxWithinBudget?.rtt.p99, 1)}`, `${fmt(a?.maxWithinBudget?.rtt.p50, 2)}/${fmt(a?.maxWithinBudget?.rtt.p99, 1)}`, '', ''],
    ['  server CPU there (% of one core)', fmt(m?.maxWithinBudget?.serverCpuPercent, 0), fmt(a?.maxWithinBudget?.serverCpuPercent, 0), '', ''],
    ['  server CPU per message there (us)', fmt(m?.maxWithinBudget?.serverCpuPerMessageUs, 0), fmt(a?.maxWithinBudget?.serverCpuPerMessageUs, 0), '', ''],
    ['  next step (msg/s): echo throughput, p99 (ms)', m?.firstOverBudget ? `${m.firstOverBudget.rate}: ${fmt(m.firstOverBudget.throughput, 0)}, ${fmt(m.firstOverBudget.rtt.p99, 0)}` : '-',
      a?.firstOverBudget ? `${a.firstOverBudget.rate}: ${fmt(a.firstOverBudget.throughput, 0)}, ${fmt(a.firstOverBudget.rtt.p99, 0)}` : '-', '', ''],
    ['highest rate with >= 99% delivered, p99 <= 1 s (msg/s)', label(m?.maxSustained), label(a?.maxSustained), fmt(c.deliveryOnlyRateRatio, 2), ''],
    ['  loadgen stopped at (msg/s)', m?.stoppedAt?.rate ?? '-', a?.stoppedAt?.rate ?? '-', '', ''],
  ];
  return grid(cols, rows) + '\n' +
    `  target, ${opts.burnActors} actors sustain >= 1.5x the main thread's rate: ${verdict(c.met)} ` +
    `(one thread burning ${opts.burnUs} us/msg tops out at ${fmt(c.ceilingPerThread, 0)} msg/s)\n` +
    (section.rounds.length > 1 ? `  per round, sustained within budget, main / actors (msg/s): ${section.rounds.map((round) => `${round.main?.maxWithinBudget?.rate ?? 0} / ${round.actors?.maxWithinBudget?.rate ?? 0}`).join(', ')}\n` : '') +
    sectionNotes(section.rounds.flatMap((round) => [round.main, round.actors]));
}

// ---------- main ----------
const started = Date.now();
// The fleet benchmark is its own program (it needs redis-server, not the C programs).
if (opts.only === 'cluster') {
  const args = [join(here, 'cluster.mjs'), ...(outGiven ? ['--out', opts.out] : [])];
  process.exit(spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1);
}
// So is the sessions benchmark (enet-server and enet-loadtest, no C programs).
if (opts.only === 'sessions') {
  const args = [join(here, 'sessions.mjs'), ...(outGiven ? ['--out', opts.out] : [])];
  process.exit(spawnSync(process.execPath, args, { stdio: 'inherit', timeout: 600_000, killSignal: 'SIGKILL' }).status ?? 1);
}
// So is the Colyseus benchmark (enet-server and enet-loadtest next to a Colyseus echo).
if (opts.only === 'colyseus') {
  if (!opts.colyseus) fail('--only colyseus and --no-colyseus exclude each other');
  const args = [COLYSEUS_BENCH, ...(outGiven ? ['--out', opts.out] : [])];
  process.exit(spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', timeout: 600_000, killSignal: 'SIGKILL' }).status ?? 1);
}
// So is the networks benchmark (enet-loadtest through its relay).
if (opts.only === 'networks') {
  if (!opts.networks) fail('--only networks and --no-networks exclude each other');
  const args = [NETWORKS_BENCH, ...(outGiven ? ['--out', opts.out] : [])];
  process.exit(spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1);
}
// So is the game (its own C programs, servers and bots).
if (opts.only === 'game') {
  if (!opts.game) fail('--only game and --no-game exclude each other');
  const args = [GAME_BENCH, ...(outGiven ? ['--out', opts.out] : [])];
  process.exit(spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1);
}
try {
  buildCPrograms();
} catch (e) {
  fail(e.message);
}
for (const p of [LOADGEN, ECHO_C]) if (!existsSync(p)) fail(`${p} missing after the build`);
log(`config: ${JSON.stringify({ ...opts, out: undefined, codec: undefined })}`);

const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
  config: { ...opts, out: undefined, codec: undefined },
  raw: null,
  ours: null,
  actors: null,
};

const runCore = opts.only === null || opts.only === 'raw' || opts.only === 'ours';
const runActorFixed = opts.actors && (opts.only === null || opts.only === 'actors' || opts.only === 'actors-fixed');
const runActorBurn = opts.actors && (opts.only === null || opts.only === 'actors' || opts.only === 'actors-burn');
const runShards = opts.shards && (opts.only === null || opts.only === 'shards');
if (runCore && opts.only !== 'ours') {
  results.raw = await benchServer('raw', ECHO_C, ['0', '256', '2', String(opts.rawSockbuf)], 5000);
}
if (runCore && opts.only !== 'raw') {
  if (!existsSync(DIST)) {
    const msg = `dist/index.js not found: build the package first (npm run build); our server was not measured`;
    log(msg);
    results.ours = { name: 'ours', error: msg };
  } else {
    results.ours = await benchServer('ours', process.execPath, [ECHO_OURS, '0', '256'], 20000);
  }
}

if ((runActorFixed || runActorBurn) && !existsSync(DIST)) {
  results.actors = { error: 'dist/index.js not found: build the package first (npm run build); the game actors were not measured' };
  log(results.actors.error);
} else if (runActorFixed || runActorBurn) {
  results.actors = {};
  if (runActorFixed) results.actors.fixed = await actorFixedSection();
  if (runActorBurn) results.actors.burn = await actorBurnSection();
}

if (runShards && existsSync(DIST)) results.shards = await shardSection();

const comparison = {
  p99BudgetRateRatio: ratio(results.ours?.maxWithinP99Budget?.rate, results.raw?.maxWithinP99Budget?.rate),
  throughputRatio: ratio(results.ours?.maxSustained?.rate, results.raw?.maxSustained?.rate),
  echoThroughputRatio: ratio(results.ours?.maxSustained?.throughput, results.raw?.maxSustained?.throughput),
  fixedP99Ratio: ratio(results.ours?.fixed?.rtt?.p99, results.raw?.fixed?.rtt?.p99),
  cpuPerMessageRatio: ratio(results.ours?.fixed?.server?.cpuPerMessageUs, results.raw?.fixed?.server?.cpuPerMessageUs),
  oursIdleCpuPercent: results.ours?.idle?.cpuPercent ?? null,
};
results.comparison = comparison;
results.elapsedSeconds = (Date.now() - started) / 1000;

mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
if (runCore) process.stdout.write('\n' + table(results.raw, results.ours, comparison));
if (results.actors?.error) process.stdout.write(`\ngame actors: ${results.actors.error}\n`);
if (results.actors?.fixed) process.stdout.write('\n' + actorFixedTable(results.actors.fixed));
if (results.actors?.burn) process.stdout.write('\n' + actorBurnTable(results.actors.burn));
if (results.shards) process.stdout.write('\n' + shardTable(results.shards));
log(`results written to ${opts.out.replace(root + '/', '')} (${fmt(results.elapsedSeconds, 0)} s)`);
let ok = [results.raw, results.ours].every((r) => r === null || !r.error) && !results.actors?.error &&
  [results.actors?.fixed, results.actors?.burn, results.shards].every((sec) => !sec || Object.values(sec.servers).every((r) => !r.error));

// ---------- networks benchmark ----------
if (opts.networks && opts.only === null) {
  log('networks benchmark: node bench/networks.mjs');
  const networks = spawnSync(process.execPath, [NETWORKS_BENCH], { cwd: root, stdio: 'inherit', timeout: 600000, killSignal: 'SIGKILL' });
  if (networks.error || networks.status !== 0) {
    log(`networks benchmark failed: ${networks.error?.message ?? (networks.signal ? `killed by ${networks.signal}` : `exit code ${networks.status}`)}`);
    ok = false;
  }
}

// ---------- game benchmark ----------
if (opts.game && opts.only === null) {
  log('game benchmark: node bench/game.mjs');
  const game = spawnSync(process.execPath, [GAME_BENCH], { cwd: root, stdio: 'inherit', timeout: 3_600_000, killSignal: 'SIGKILL' });
  if (game.error || game.status !== 0) {
    log(`game benchmark failed: ${game.error?.message ?? (game.signal ? `killed by ${game.signal}` : `exit code ${game.status}`)}`);
    ok = false;
  }
}

// ---------- Colyseus benchmark ----------
if (opts.colyseus && opts.only === null) {
  if (!existsSync(DIST)) {
    log('Colyseus benchmark skipped: dist/index.js not found (npm run build)');
    ok = false;
  } else {
    log('Colyseus benchmark: node bench/colyseus.mjs');
    const colyseus = spawnSync(process.execPath, [COLYSEUS_BENCH], { cwd: root, stdio: 'inherit', timeout: 600_000, killSignal: 'SIGKILL' });
    if (colyseus.error || colyseus.status !== 0) {
      log(`Colyseus benchmark failed: ${colyseus.error?.message ?? (colyseus.signal ? `killed by ${colyseus.signal}` : `exit code ${colyseus.status}`)}`);
      ok = false;
    }
  }
}

// ---------- sessions benchmark ----------
if (opts.sessions && opts.only === null) {
  if (!existsSync(DIST)) {
    log('sessions benchmark skipped: dist/index.js not found (npm run build)');
    ok = false;
  } else {
    log('sessions benchmark: node bench/sessions.mjs');
    const sessions = spawnSync(process.execPath, [join(here, 'sessions.mjs')], { cwd: root, stdio: 'inherit', timeout: 600_000, killSignal: 'SIGKILL' });
    if (sessions.error || sessions.status !== 0) {
      log(`sessions benchmark failed: ${sessions.error?.message ?? (sessions.signal ? `killed by ${sessions.signal}` : `exit code ${sessions.status}`)}`);
      ok = false;
    }
  }
}

// ---------- codec benchmark ----------
if (opts.codec) {
  log('codec benchmark: node bench/codec.mjs');
  const codec = spawnSync(process.execPath, [CODEC_BENCH], { cwd: root, stdio: 'inherit', timeout: 180000, killSignal: 'SIGKILL' });
  if (codec.error || codec.status !== 0) {
    log(`codec benchmark failed: ${codec.error?.message ?? (codec.signal ? `killed by ${codec.signal}` : `exit code ${codec.status}`)}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
