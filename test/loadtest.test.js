// enet-loadtest end to end: the real enet-server binary (its demo echoes), real bot processes, real
// UDP on 127.0.0.1. Every run is bounded by its flags (and enet-loadtest's own hard deadline) and by
// the child-process timeout here.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOADTEST = fileURLToPath(new URL('../dist/cli/loadtest.js', import.meta.url));
const SERVER = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
const SCENARIO = fileURLToPath(new URL('./fixtures/loadtest-scenario.mjs', import.meta.url));
/** Game logic that answers nothing: packets flow on to the supervisor, which (with --game-logic) does not echo. */
const SILENT = fileURLToPath(new URL('./fixtures/game/empty.mjs', import.meta.url));
/** Game logic whose authenticate() approves only the password 'secret'. */
const AUTH_LOGIC = fileURLToPath(new URL('./fixtures/game/auth.mjs', import.meta.url));
const RUN_TIMEOUT_MS = 40_000;

/** Runs enet-loadtest; resolves with { code, stdout, stderr, ms }. */
function loadtest(args) {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [LOADTEST, ...args], { timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The real enet-server on 127.0.0.1, port 0; the port is read from its "listening on" line. */
async function startEnetServer(t, args = []) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', '128', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`enet-server did not start: ${out}`)), 10_000);
    const onData = (chunk) => {
      out += chunk;
      const m = /enet-server listening on [\d.]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(Number(m[1]));
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.resume();
    child.once('exit', (code) => reject(new Error(`enet-server exited (${code}): ${out}`)));
  });
  return { port, pid: child.pid };
}

function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'enet-loadtest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A UDP port nobody listens on (bound once by us, then closed). */
async function deadPort() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

const quick = ['--duration', '1.5', '--warmup', '0.5', '--ramp', '1000', '--grace', '3'];

test.serial('50 clients × 2 processes against enet-server: the JSON summary, a passing threshold, the plot', async (t) => {
  const server = await startEnetServer(t);
  const dir = tempDir(t);
  const json = join(dir, 'summary.json');
  const plot = join(dir, 'rtt.svg');
  const run = await loadtest([
    '--port', String(server.port), '--clients', '50', '--processes', '2', '--rate', '20', '--size', '64', ...quick,
    '--server-pid', String(server.pid), '--json', json, '--plot', plot, '--threshold', 'delivery>0.99', '--threshold', 'connected==50',
  ]);
  t.is(run.code, 0, run.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  for (const key of ['clients', 'connected', 'connectFailed', 'sent', 'received', 'lost', 'delivery', 'throughput', 'rtt', 'connect', 'server', 'clientProcesses']) {
    t.true(key in s, `summary has ${key}`);
  }
  t.is(s.clients, 50);
  t.is(s.connected, 50);
  t.is(s.connectFailed, 0);
  t.true(s.sent > 50 * 20 * 1.5 * 0.8, `sent ${s.sent}`);
  t.true(s.delivery > 0.99 && s.delivery <= 1, `delivery ${s.delivery}`);
  t.is(s.lost, s.sent - s.received);
  t.true(s.throughput > 0);
  for (const p of ['p50', 'p90', 'p99', 'max']) t.true(Number.isFinite(s.rtt[p]) && s.rtt[p] > 0, `rtt.${p} = ${s.rtt[p]}`);
  t.true(s.rtt.p50 <= s.rtt.p90 && s.rtt.p90 <= s.rtt.p99 && s.rtt.p99 <= s.rtt.max);
  t.true(s.connect.p50 > 0 && s.connect.p99 >= s.connect.p50);
  t.true(s.server.cpuPercent >= 0 && s.server.rssMb > 10, JSON.stringify(s.server));
  t.is(s.clientProcesses.length, 2);
  for (const p of s.clientProcesses) t.true(p.cpuPercent > 0 && p.rssMb > 10, JSON.stringify(p));
  t.deepEqual(s.thresholds.map((x) => x.ok), [true, true]);
  t.regex(run.stdout, /delivery\s+\d+\.\d+ %/);
  t.regex(run.stdout, /rtt\s+p50 .* p99 /);
  const svg = readFileSync(plot, 'utf8');
  t.true(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'), 'an SVG document');
  t.true(svg.includes('RTT percentiles') && svg.includes('RTT histogram') && svg.includes('Load per second'), 'the three charts');
  t.true(s.load.length > 0 && s.load.some((p) => p.connected === 50 && p.echoes > 0), JSON.stringify(s.load));
  t.deepEqual(s.problems, []);
});

test.serial('a failing --threshold exits 3 and names the threshold', async (t) => {
  const server = await startEnetServer(t);
  const run = await loadtest(['--port', String(server.port), '--clients', '10', '--rate', '20', ...quick, '--threshold', 'p99<0.0001', '--threshold', 'connected==10']);
  t.is(run.code, 3, run.stderr);
  t.regex(run.stderr, /threshold failed: p99<0\.0001/);
  t.notRegex(run.stderr, /threshold failed: connected==10/);
});

test.serial('--scenario runs the exported function for every client', async (t) => {
  const server = await startEnetServer(t);
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest(['--port', String(server.port), '--clients', '6', '--scenario', SCENARIO, ...quick, '--json', json]);
  t.is(run.code, 0, run.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.connected, 6);
  t.true(s.sent > 0 && s.received > 0, `sent ${s.sent}, received ${s.received}`);
  t.true(s.rtt.p50 > 0);
  t.is(s.config.scenario, SCENARIO);
});

test('a dead server ends cleanly within its bound: every client failed to connect, exit 1', async (t) => {
  const port = await deadPort();
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest(['--port', String(port), '--clients', '20', '--processes', '2', '--connect-timeout', '1', ...quick, '--json', json]);
  t.is(run.code, 1, run.stderr);
  t.true(run.ms < 15_000, `took ${run.ms} ms`);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.connected, 0);
  t.is(s.connectFailed, 20);
  t.is(s.sent, 0);
  t.is(s.delivery, 0);
  t.regex(run.stderr, /no client could connect/);
});

test('bad flags exit 2 with one line naming the flag; --help exits 0', async (t) => {
  for (const [args, flag] of [
    [['--clients', '10'], '--port'],
    [['--port', '70000'], '--port'],
    [['--port', '1', '--clients', 'many'], '--clients'],
    [['--port', '1', '--rate', '-1'], '--rate'],
    [['--port', '1', '--format', 'xml'], '--format'],
    [['--port', '1', '--compression', 'lz4'], '--compression'],
    [['--port', '1', '--auth', '[1]'], '--auth'],
    [['--port', '1', '--threshold', 'p99 about 5'], '--threshold'],
    [['--port', '1', '--reliable', '--unreliable'], '--unreliable'],
    [['--port', '1', '--scenario', '/nonexistent/bot.mjs'], '--scenario'],
    [['--port', '1', '--nope'], '--nope'],
  ]) {
    const run = await loadtest(args);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    const lines = run.stderr.trim().split('\n');
    t.is(lines.length, 1, run.stderr);
    t.true(lines[0].includes(flag), `${args.join(' ')} → ${lines[0]}`);
  }
  const help = await loadtest(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /--threshold EXPR/);
});

test('against a server that does not echo: exit 1, "nothing came back" said loudly, – instead of 0.00 ms', async (t) => {
  const server = await startEnetServer(t, ['--game-logic', SILENT, '--actors', '1']);
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest(['--port', String(server.port), '--clients', '5', '--rate', '20', ...quick, '--grace', '0.5', '--json', json]);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /nothing came back: \d+ messages sent, 0 echoed\. enet-loadtest needs a server that sends every message back/);
  t.regex(run.stdout, /rtt\s+– \(no echo measured\)/);
  t.regex(run.stdout, /PROBLEM\s+nothing came back/);
  t.notRegex(run.stdout, /0\.00 ms/);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.received, 0);
  t.is(s.rtt.count, 0);
  t.is(s.problems.length, 1);
  // Thresholds, when given, judge the run instead.
  const judged = await loadtest(['--port', String(server.port), '--clients', '5', '--rate', '20', ...quick, '--grace', '0.5', '--threshold', 'connected==5']);
  t.is(judged.code, 0, judged.stderr);
});

test('against a server that rejects every login: exit 1 with the disconnect reasons counted by reason', async (t) => {
  const server = await startEnetServer(t, ['--auth', 'custom', '--game-logic', AUTH_LOGIC, '--actors', '1']);
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest(['--port', String(server.port), '--clients', '6', '--rate', '5', ...quick, '--grace', '0.5', '--auth', '{"password":"wrong"}', '--json', json]);
  t.is(run.code, 1, run.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.disconnected, 6, JSON.stringify(s.disconnectReasons));
  const reasons = Object.entries(s.disconnectReasons);
  t.is(reasons.length, 1);
  const [[reason, count]] = reasons;
  t.is(count, 6);
  t.true(run.stderr.includes(`6 clients were disconnected during the run: 6 × "${reason}"`), run.stderr);
  t.regex(run.stdout, new RegExp(`disconnected\\s+6 × "${reason}"`));
});
