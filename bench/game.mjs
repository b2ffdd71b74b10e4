#!/usr/bin/env node
// Benchmark: cost per player in a game shape — the same game five ways, side by side in one run.
//
//   node bench/game.mjs [--sims 0,20] [--modes main,actors,shards,rawC,godot3]
//                       [--counts-0 500,1000,1500,2000,2500,3000,3500,4000]
//                       [--counts-20 500,1000,1200,1400,1600,1800,2000,2400,2800]
//                       [--warmup-ms 3000] [--duration-ms 5000] [--cpu-at 1000] [--no-bisect]
//                       [--quiet-wait-ms 10000] [--out bench/results/game.json]
//
// The game (bench/c/gamebots.c has the rules and payloads): matches of 16 players, inputs at 30 Hz,
// ticks at 30 Hz, snapshots at 20 Hz, all unreliable; `sim` = microseconds of CPU burnt per player per
// tick (the simulation). The modes:
//   main    our server, the game on the main thread (bench/game-server.mjs)
//   actors  our server, 2 game actors, a match's players placed on one actor (--actors 2); they read
//           their inputs at their ticks (GameLogic.deliverAtTick)
//   shards  our server, 2 game actors on 2 shards (--actors 2 --net-actors 2)
//   rawC    the game in C on raw ENet, one thread (bench/c/bin/game_server)
//   godot3  the game in GDScript on a stock Godot 3 headless server (bench/game/godot/, godot3-server);
//           skipped, and said so, when godot3-server is not installed
//   actorsAtArrival  (only when named in --modes) actors handling each input as it arrives: the cost
//           deliverAtTick removes
// For each sim and mode, rising player counts (a fresh server per count, then bench/c/bin/gamebots with
// --warmup-ms, then a --duration-ms window): a count is held when every player connected, >= 99 % of
// the snapshots due arrived on time (<= 100 ms after the previous one) and p99 input -> snapshot
// latency is <= 100 ms. Counts rise until one is not held, then one count halfway between the last
// held and that one is tried (unless --no-bisect). CPU per player is the server process's CPU (all its
// threads) over the window at --cpu-at players, in µs per second per player (run even when the rising
// counts stopped below it). The bots share the machine's 2 cores with the server: their CPU is shown.
// Writes { sims: { "0": { main, actors, shards, rawC, godot3 }, "20": {...} } }, each mode
// { players, cpuPerPlayerUs, p99LatencyMs, ... steps } to --out, a table to stdout, progress to stderr.
// Every wait is bounded; every child is killed on exit.
import { headerComment, waitForQuiet } from './lib/proc.mjs';
import { run, startServer } from './lib/children.mjs';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { buildCPrograms } from '../test/c/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const GAME_SERVER = join(here, 'game-server.mjs');
const GAME_C = join(here, 'c', 'bin', 'game_server');
const BOTS = join(here, 'c', 'bin', 'gamebots');
const GODOT_PROJECT = join(here, 'game', 'godot');
const MODES = ['main', 'actors', 'shards', 'rawC', 'godot3', 'actorsAtArrival'];
const DEFAULT_MODES = MODES.slice(0, 5);
const HELD = { onTimeRatio: 0.99, p99LatencyMs: 100 };

const opts = {
  sims: [0, 20],
  modes: DEFAULT_MODES,
  counts: { 0: [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000], 20: [500, 1000, 1200, 1400, 1600, 1800, 2000, 2400, 2800] },
  warmupMs: 3000,
  durationMs: 5000,
  cpuAt: 1000,
  bisect: true,
  quietWaitMs: 10000,
  out: join(here, 'results', 'game.json'),
};
{
  const a = process.argv.slice(2);
  const fail = (m) => {
    process.stderr.write(`bench/game: ${m} (--help)\n`);
    process.exit(2);
  };
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--help') {
      process.stdout.write(headerComment(import.meta.url));
      process.exit(0);
    }
    if (k === '--no-bisect') { opts.bisect = false; continue; }
    const v = a[++i];
    if (v === undefined) fail(`${k} needs a value`);
    const counts = /^--counts-(\d+)$/.exec(k);
    if (counts) {
      opts.counts[counts[1]] = list(v).map(Number);
      if (!opts.counts[counts[1]].every((n) => Number.isInteger(n) && n > 0)) fail(`${k}: player counts`);
      continue;
    }
    switch (k) {
      case '--sims': opts.sims = list(v).map(Number); if (!opts.sims.every((n) => n >= 0)) fail('--sims: numbers >= 0'); break;
      case '--modes': opts.modes = list(v); if (!opts.modes.every((m) => MODES.includes(m))) fail(`--modes: of ${MODES.join(',')}`); break;
      case '--warmup-ms': opts.warmupMs = Number(v); break;
      case '--duration-ms': opts.durationMs = Number(v); break;
      case '--cpu-at': opts.cpuAt = Number(v); break;
      case '--quiet-wait-ms': opts.quietWaitMs = Number(v); break;
      case '--out': opts.out = resolve(v); break;
      default: fail(`unknown flag ${k}`);
    }
  }
  for (const key of ['warmupMs', 'durationMs', 'cpuAt', 'quietWaitMs']) if (!(opts[key] >= 0)) fail(`--${key}: a number`);
  for (const sim of opts.sims) if (!opts.counts[sim]) fail(`no --counts-${sim} for sim ${sim}`);
}
const log = (m) => process.stderr.write(`[game] ${m}\n`);

// `godot3-server --version` prints its version and exits with 255: installed = it ran and printed one.
const godotInstalled = /^\d+\.\d+/m.test(spawnSync('godot3-server', ['--version'], { encoding: 'utf8', timeout: 20_000 }).stdout ?? '');

// Godot writes under HOME and wants a UTF-8 locale (as test/godot3.test.js runs it).
const godotHome = mkdtempSync(join(tmpdir(), 'bench-game-godot-'));
process.on('exit', () => rmSync(godotHome, { recursive: true, force: true }));
const GODOT_ENV = {
  ...process.env, HOME: godotHome, XDG_CONFIG_HOME: join(godotHome, '.config'), XDG_DATA_HOME: join(godotHome, '.local/share'),
  XDG_CACHE_HOME: join(godotHome, '.cache'), LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8', DISPLAY: '',
};

/** How each mode's server starts: [command, args] for `sim` µs per player per tick. */
function serverCommand(mode, sim) {
  switch (mode) {
    case 'main': return [process.execPath, [GAME_SERVER, '0', '4000', '--sim-us', String(sim)]];
    case 'actors': return [process.execPath, [GAME_SERVER, '0', '4000', '--actors', '2', '--sim-us', String(sim)]];
    case 'actorsAtArrival': return [process.execPath, [GAME_SERVER, '0', '4000', '--actors', '2', '--at-arrival', '--sim-us', String(sim)]];
    case 'shards': return [process.execPath, [GAME_SERVER, '0', '8000', '--actors', '2', '--net-actors', '2', '--sim-us', String(sim)]];
    case 'rawC': return [GAME_C, ['0', '4095', String(sim)]];
    case 'godot3': return ['godot3-server', ['--path', GODOT_PROJECT, '--no-window', '--', '--port', '0', '--max-peers', '4095', '--sim-us', String(sim)]];
    default: throw new Error(mode);
  }
}

/** One count: a fresh server, the bots' run, the server stopped. */
async function step(mode, sim, players) {
  const [cmd, args] = serverCommand(mode, sim);
  const server = await startServer(cmd, args, /listening (\d+)/, { cwd: root, env: mode === 'godot3' ? GODOT_ENV : undefined });
  const bots = await run(BOTS, [
    '--port', String(server.port), '--players', String(players), '--warmup-ms', String(opts.warmupMs),
    '--duration-ms', String(opts.durationMs), '--server-pid', String(server.pid), '--json',
    ...(mode === 'godot3' ? ['--godot'] : []), // Godot 3's high-level framing
  ], opts.warmupMs + opts.durationMs + 60_000);
  const stopped = await server.stop();
  const line = bots.stdout.split('\n').find((l) => l.startsWith('{"type":"result"'));
  if (!line) throw new Error(`${mode} at ${players} players: the bots printed no result (exit ${bots.code}): ${bots.stderr.slice(-2000)} ${server.stderrTail()}`);
  const r = JSON.parse(line);
  const held = r.connected === players && r.onTimeRatio >= HELD.onTimeRatio && r.latencyMs.p99 >= 0 && r.latencyMs.p99 <= HELD.p99LatencyMs;
  const result = {
    players,
    held,
    connected: r.connected,
    onTimeRatio: r.onTimeRatio,
    receivedRatio: r.receivedRatio,
    latencyMs: r.latencyMs,
    disconnects: r.disconnects,
    badPackets: r.badPackets,
    serverCpuPercent: r.serverCpuPercent,
    cpuPerPlayerUs: r.serverCpuPercent >= 0 ? round((r.serverCpuPercent / 100) * 1e6 / players, 2) : null,
    botsCpuPercent: r.botsCpuPercent,
    stopMs: stopped.ms,
  };
  log(`${mode} sim ${sim} µs, ${players} players: ${held ? 'held' : 'NOT held'} — on time ${pct(r.onTimeRatio)}, ` +
    `p50 ${r.latencyMs.p50.toFixed(1)} p99 ${r.latencyMs.p99.toFixed(1)} ms, server CPU ${r.serverCpuPercent.toFixed(1)}%, ` +
    `bots ${r.botsCpuPercent.toFixed(1)}%, disconnects ${r.disconnects}`);
  return result;
}

const round = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const pct = (x) => `${(100 * x).toFixed(2)}%`;

async function measureMode(mode, sim) {
  const steps = [];
  let lastHeld = 0;
  let firstFailed = null;
  for (const players of opts.counts[sim]) {
    const s = await step(mode, sim, players);
    steps.push(s);
    if (!s.held) { firstFailed = players; break; }
    lastHeld = players;
  }
  if (opts.bisect && firstFailed !== null) {
    const mid = Math.round((lastHeld + firstFailed) / 2 / 50) * 50;
    if (mid > lastHeld && mid < firstFailed) {
      const s = await step(mode, sim, mid);
      steps.push(s);
      if (s.held) lastHeld = mid;
    }
  }
  let atCpu = steps.find((s) => s.players === opts.cpuAt);
  if (!atCpu && opts.cpuAt > 0) {
    atCpu = await step(mode, sim, opts.cpuAt);
    steps.push(atCpu);
  }
  const best = steps.find((s) => s.players === lastHeld);
  return {
    players: lastHeld,
    cpuPerPlayerUs: atCpu?.cpuPerPlayerUs ?? null,
    p99LatencyMs: best ? round(best.latencyMs.p99, 1) : null,
    heldAtCpu: atCpu?.held ?? null,
    serverCpuPercentAtCpu: atCpu?.serverCpuPercent ?? null,
    steps: steps.sort((a, b) => a.players - b.players),
  };
}

buildCPrograms({ quiet: true });
if (!existsSync(join(root, 'dist', 'index.js'))) {
  log('dist/ is missing: run `npm run build` first (npm run bench does)');
  process.exit(1);
}
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  settings: { warmupMs: opts.warmupMs, durationMs: opts.durationMs, cpuAt: opts.cpuAt, held: HELD, counts: opts.counts },
  sims: {},
  skipped: {},
};
for (const sim of opts.sims) {
  report.sims[sim] = {};
  for (const mode of opts.modes) {
    if (mode === 'godot3' && !godotInstalled) {
      report.skipped.godot3 = 'godot3-server is not installed (Debian package godot3-server)';
      continue;
    }
    const busy = await waitForQuiet(opts.quietWaitMs, log);
    log(`${mode}, sim ${sim} µs per player per tick (other processes: ${busy.toFixed(0)}% of a core)`);
    report.sims[sim][mode] = { ...(await measureMode(mode, sim)), otherProcessesPercent: round(busy, 0) };
  }
  const s = report.sims[sim];
  const ratio = (a, b) => (a > 0 && b > 0 ? round(a / b, 2) : null);
  s.comparison = {
    playersVsRawC: Object.fromEntries(opts.modes.filter((m) => s[m]).map((m) => [m, ratio(s[m].players, s.rawC?.players)])),
    playersVsGodot3: Object.fromEntries(opts.modes.filter((m) => s[m]).map((m) => [m, ratio(s[m].players, s.godot3?.players)])),
    playersVsMain: Object.fromEntries(opts.modes.filter((m) => s[m]).map((m) => [m, ratio(s[m].players, s.main?.players)])),
    cpuPerPlayerVsRawC: Object.fromEntries(opts.modes.filter((m) => s[m]).map((m) => [m, ratio(s[m].cpuPerPlayerUs, s.rawC?.cpuPerPlayerUs)])),
  };
}
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n');

const out = [];
out.push(`The game: matches of 16, inputs 30 Hz, ticks 30 Hz, snapshots 20 Hz; held = all connected, >= 99% snapshots on time, p99 input->snapshot <= 100 ms`);
for (const sim of opts.sims) {
  const s = report.sims[sim];
  out.push('', `sim ${sim} µs per player per tick`);
  out.push(`${'mode'.padEnd(8)} ${'players held'.padStart(12)} ${'p99 ms'.padStart(7)} ${`CPU/player @${opts.cpuAt}`.padStart(18)} ${'vs raw C'.padStart(9)} ${'players/raw C'.padStart(14)} ${'players/Godot 3'.padStart(16)}`);
  for (const mode of opts.modes) {
    const m = s[mode];
    if (!m) continue;
    out.push(`${mode.padEnd(8)} ${String(m.players).padStart(12)} ${String(m.p99LatencyMs ?? '-').padStart(7)} ` +
      `${(m.cpuPerPlayerUs === null ? '-' : `${m.cpuPerPlayerUs} µs/s${m.heldAtCpu ? '' : '*'}`).padStart(18)} ` +
      `${String(s.comparison.cpuPerPlayerVsRawC[mode] ?? '-').padStart(9)} ${String(s.comparison.playersVsRawC[mode] ?? '-').padStart(14)} ` +
      `${String(s.comparison.playersVsGodot3[mode] ?? '-').padStart(16)}`);
  }
}
if (report.skipped.godot3) out.push('', `godot3 skipped: ${report.skipped.godot3}`);
out.push('', `(* not held at that count) — JSON: ${opts.out}`);
process.stdout.write(out.join('\n') + '\n');
