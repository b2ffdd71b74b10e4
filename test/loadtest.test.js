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
import { ENetServerSupervisor } from '../dist/index.js';
import { installDemo } from '../dist/cli/demo.js';

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
    [['--port', '1', '--link', 'loss=200%'], '--link'],
    [['--port', '1', '--link', 'latency=3ms'], '--link'],
    [['--port', '1', '--blackout', '5'], '--blackout'],
    [['--port', '1', '--duration', '2', '--blackout', '3:1'], '--blackout'],
    [['--port', '1', '--duration', '2', '--rebind-at', '2'], '--rebind-at'],
    [['--port', '1', '--rebind-fraction', '0.5'], '--rebind-fraction'],
    [['--port', '1', '--rebind-at', '1', '--rebind-fraction', '2'], '--rebind-fraction'],
    [['--port', '1', '--churn', '-1'], '--churn'],
    [['--port', '1', '--threshold', 'nosuch.field<1'], '--threshold'],
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

// ---- bad networks, on purpose -----------------------------------------------------------------

/** The package's server with the demo (echo) in this process: the test sees its peers come and go. */
async function startDemoServer(t) {
  const server = new ENetServerSupervisor();
  installDemo(server);
  await server.createServer(0, 256, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => server.stopServer());
  return server;
}

test.serial('--link delay both ways and a --blackout: RTT ≥ 2 × delay, everything retried, the link in the summary and the plot', async (t) => {
  const server = await startEnetServer(t);
  const dir = tempDir(t);
  const json = join(dir, 'summary.json');
  const plot = join(dir, 'rtt.svg');
  const run = await loadtest([
    '--port', String(server.port), '--clients', '8', '--processes', '2', '--rate', '20', '--duration', '2', '--warmup', '0.5', '--grace', '4',
    '--link', 'delay=25ms,jitter=5ms', '--blackout', '0.5:0.6', '--json', json, '--plot', plot,
    '--threshold', 'disconnected==0', '--threshold', 'lost==0', '--threshold', 'duplicates==0', '--threshold', 'resume.p99<3000',
    '--threshold', 'link.relay.dropped.up>0', '--threshold', 'interrupted>=0', '--threshold', 'rtt.count>0', '--threshold', 'problems.length==0',
  ]);
  t.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.connected, 8);
  t.true(s.rtt.p50 >= 40, `RTT p50 ${s.rtt.p50} ms through 25±5 ms each way`);
  t.true(s.rtt.max >= 500, `RTT max ${s.rtt.max} ms: messages sent in the 600 ms blackout waited it out`);
  t.is(s.lost, 0);
  for (const key of ['disconnected', 'interrupted', 'resumed', 'duplicates']) t.is(typeof s[key], 'number', key);
  t.deepEqual(Object.keys(s.resume).sort(), ['count', 'p50', 'p99']);
  t.is(s.link.text, 'delay 25±5 ms');
  t.deepEqual([s.link.lossPercent, s.link.delayMs, s.link.jitterMs], [0, 25, 5]);
  t.is(s.link.blackouts.length, 1);
  t.is(s.link.blackouts[0].seconds, 0.6);
  t.is(s.link.relay.clients, 8, 'each client its own upstream mapping');
  t.true(s.link.relay.dropped.up > 0 && s.link.relay.dropped.down >= 0, JSON.stringify(s.link.relay));
  t.deepEqual(s.thresholds.map((x) => x.ok), [true, true, true, true, true, true, true, true]);
  t.deepEqual(s.problems, []);
  t.deepEqual(s.disconnectReasons, {});
  t.true(s.load.length > 0 && s.load.some((p) => p.connected === 8), JSON.stringify(s.load));
  t.regex(run.stdout, /link\s+delay 25±5 ms/);
  t.regex(run.stdout, /blackout 0\.6 s at 0\.5 s/);
  const svg = readFileSync(plot, 'utf8');
  t.true(svg.includes('blackout 0.6 s'), 'the plot marks the blackout');
  t.true(svg.includes('Load per second'), 'and has the load panel');
});

test.serial('--rebind-at with --rebind-fraction: the relay of each bot process re-maps that share of its clients to new ports', async (t) => {
  const server = await startDemoServer(t);
  const sources = new Set();
  server.on('peerConnecting', (peer) => sources.add(`${peer.getRemoteAddress()}:${peer.getRemotePort()}`));
  const json = join(tempDir(t), 'summary.json');
  const plot = join(tempDir(t), 'rtt.svg');
  const run = await loadtest([
    '--port', String(server.getLocalPort()), '--clients', '6', '--processes', '2', '--rate', '10', '--duration', '1.5', '--warmup', '0.3', '--grace', '0.5',
    '--rebind-at', '0.5', '--rebind-fraction', '0.5', '--json', json, '--plot', plot,
  ]);
  // Today's server does not follow a client to a new port: what happens next is the sessions' business.
  t.true(run.code === 0 || run.code === 1, run.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.connected, 6);
  t.is(sources.size, 6, 'six distinct source ports at connect');
  t.is(s.link.text, 'clean');
  t.is(s.link.relay.rebinds, 4, 'half of each process\'s 3 clients, rounded: 2 + 2');
  t.deepEqual(s.link.rebinds.map((r) => [r.at, r.fraction]), [[0.5, 0.5]]);
  t.regex(run.stdout, /rebind 50% at 0\.5 s/);
  t.true(readFileSync(plot, 'utf8').includes('rebind 50%'), 'the plot marks the rebind');
});

test.serial('--churn N: the server sees at least N × duration new connects; disconnected==0 holds', async (t) => {
  const server = await startDemoServer(t);
  let connects = 0;
  server.on('peerConnecting', () => connects++);
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest([
    '--port', String(server.getLocalPort()), '--clients', '10', '--processes', '2', '--rate', '10', '--duration', '2', '--warmup', '0.5', '--grace', '2',
    '--churn', '5', '--json', json, '--threshold', 'disconnected==0', '--threshold', 'churn.joined>=10',
  ]);
  t.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.connected, 10);
  t.true(connects >= 10 + 5 * 2, `the server saw ${connects} connects`);
  t.true(s.churn.left >= 10 && s.churn.joined >= 10, JSON.stringify(s.churn));
  t.is(s.churn.failed, 0);
  t.is(s.disconnected, 0, 'leaving on purpose is not a disconnection');
  t.is(s.lost, 0, 'a leaving client waits for its echoes');
  t.regex(run.stdout, /churn\s+5\/s: \d+ left, \d+ joined/);
});

test.serial('a threshold on the new fields fails with exit 3 when violated (clients kicked mid-run: disconnected==0)', async (t) => {
  const server = await startDemoServer(t);
  let kicked = 0;
  server.on('peerAuthenticated', (peer) => {
    if (kicked++ < 2) setTimeout(() => peer.disconnectPeer('kicked by the test'), 800).unref();
  });
  const json = join(tempDir(t), 'summary.json');
  const run = await loadtest([
    '--port', String(server.getLocalPort()), '--clients', '5', '--rate', '10', ...quick,
    '--json', json, '--threshold', 'disconnected==0', '--threshold', 'duplicates==0',
  ]);
  t.is(run.code, 3, run.stderr);
  t.regex(run.stderr, /threshold failed: disconnected==0 \(actual 2\)/);
  t.notRegex(run.stderr, /duplicates==0/);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  t.is(s.disconnected, 2);
  t.is(Object.values(s.disconnectReasons).reduce((a, b) => a + b, 0), 2, JSON.stringify(s.disconnectReasons));
  t.regex(run.stdout, /disconnected\s+2 × "/);
  t.is(s.problems.length, 1, 'the problem is still said, the threshold judges the exit');
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
