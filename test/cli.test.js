// enet-server (src/cli/server.ts) as a real child process: flags and environment variables, one-line
// errors with exit status 2, the "listening on" line, the demo, game logic, /metrics over HTTP, and a
// graceful stop on SIGTERM.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENetClient } from '../dist/index.js';
import { waitFor } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
const ECHO = fileURLToPath(new URL('./fixtures/game/echo.mjs', import.meta.url));

function run(args, env = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

/** Starts enet-server; resolves once it printed its "listening on" line (and its metrics line, if any). */
async function start(t, args, env = {}) {
  const child = spawn(process.execPath, [CLI, '--bind', '127.0.0.1', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => child.kill('SIGKILL'));
  const lines = [];
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`enet-server did not start: ${lines.join('\n')}\n${stderr}`)), 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const m = /^enet-server listening on ([\d.]+):(\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ address: m[1], port: Number(m[2]) });
      }
    });
    child.once('exit', () => reject(new Error(`enet-server exited early: ${stderr}`)));
  });
  const { address, port } = await listening;
  const metricsLine = lines.find((l) => l.includes('/metrics'));
  const metricsUrl = metricsLine ? /(http:\/\/\S+\/metrics)/.exec(metricsLine)[1] : undefined;
  return { child, address, port, metricsUrl, exited, lines, stderr: () => stderr };
}

async function connect(t, port) {
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const welcome = waitFor(client, 'packetReceived', undefined, (p) => p?.type === 'welcome');
  client.connectToServer('127.0.0.1', port);
  await welcome;
  return client;
}

test('--help lists every flag with its environment variable and exits 0', (t) => {
  const result = run(['--help']);
  t.is(result.status, 0);
  for (const flag of ['--port', '--max-peers', '--channels', '--auth', '--compression', '--game-logic', '--actors', '--net-actors', '--poll-rate', '--format', '--metrics-port']) {
    t.true(result.stdout.includes(flag), flag);
  }
  t.regex(result.stdout, /ENET_PORT/);
});

test('a bad value exits 2 with one line naming the flag (flags and environment variables alike)', (t) => {
  for (const [args, env, flag] of [
    [['--max-peers', 'abc'], {}, '--max-peers'],
    [['--max-peers', '70000'], {}, '--max-peers'],
    [[], { ENET_PORT: '70000' }, '--port'],
    [['--compression', 'lz4'], {}, '--compression'],
    [['--auth', 'maybe'], {}, '--auth'],
    [['--format', 'xml'], {}, '--format'],
    [['--poll-rate', 'fast'], {}, '--poll-rate'],
    [['--auth-timeout', '9999999999'], {}, '--auth-timeout'],
    [['--net-actors', '17'], {}, '--net-actors'],
    [['--net-actors', '1', '--max-peers', '5000'], {}, '--net-actors'],
    [['--actors', '2'], {}, '--actors'],
    [['--bind', '1.2.3'], {}, '--bind'],
    [['--channels', '0'], {}, '--channels'],
    [['--frobnicate'], {}, '--frobnicate'],
  ]) {
    const result = run(args, env);
    const what = `${args.join(' ')} ${JSON.stringify(env)}`;
    t.is(result.status, 2, what);
    const lines = result.stderr.trim().split('\n');
    t.is(lines.length, 1, `${what}: ${result.stderr}`);
    t.true(lines[0].includes(flag), `${what}: ${lines[0]}`);
  }
});

test('it prints the real port with --port 0, runs the demo (echo, events, ping), and SIGTERM stops it gracefully', async (t) => {
  const server = await start(t, []);
  t.is(server.address, '127.0.0.1');
  t.true(server.port > 0);
  const client = await connect(t, server.port);
  const echo = waitFor(client, 'packetReceived');
  client.sendPacket({ hello: 'world' });
  t.deepEqual((await echo)[0], { hello: 'world' });
  const event = waitFor(client, 'unknownEventReceived', undefined, (name) => name === 'anything');
  client.triggerEvent('anything', { n: 3 });
  t.deepEqual((await event)[1], { n: 3 });
  const pong = waitFor(client, 'unknownEventReceived', undefined, (name) => name === 'pong');
  client.triggerEvent('ping', { n: 4 });
  t.is((await pong)[1].n, 4);

  const told = waitFor(client, 'disconnectedFromServer');
  server.child.kill('SIGTERM');
  t.is((await told)[0], 'Server stopped');
  t.deepEqual(await server.exited, { code: 0, signal: null });
});

test('environment variables configure it; --auth prelogin approves a login dictionary', async (t) => {
  const server = await start(t, ['--auth', 'prelogin'], { ENET_MAX_PEERS: '3', ENET_COMPRESSION: 'zstd' });
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  client.setCompressionMode(4);
  const welcome = waitFor(client, 'packetReceived', undefined, (p) => p?.type === 'welcome');
  client.on('connectedToServer', () => client.sendPacket({ name: 'ann' }));
  client.connectToServer('127.0.0.1', server.port);
  await welcome;
  t.true(server.lines.some((l) => /up to 3 peers/.test(l)));
});

test('--game-logic runs the module in game actors', async (t) => {
  const server = await start(t, ['--game-logic', ECHO, '--actors', '2']);
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  client.on('connectedToServer', () => client.sendPacket({ n: 1 }));
  const echo = waitFor(client, 'packetReceived');
  client.connectToServer('127.0.0.1', server.port);
  const [packet] = await echo;
  t.deepEqual(packet.echo, { n: 1 });
  t.is(typeof packet.actor, 'number');
});

test('/metrics serves Prometheus text whose counters move with the traffic', async (t) => {
  const server = await start(t, ['--metrics-port', '0']);
  t.truthy(server.metricsUrl);
  const scrape = async () => {
    const response = await fetch(server.metricsUrl);
    t.is(response.status, 200);
    t.regex(response.headers.get('content-type'), /text\/plain/);
    return response.text();
  };
  const value = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  const before = await scrape();
  t.is(value(before, 'enet_peers'), 0);
  t.regex(before, /^process_cpu_user_seconds_total /m);
  t.regex(before, /^# TYPE enet_packets_received_total counter$/m);
  const client = await connect(t, server.port);
  for (let i = 0; i < 10; i++) client.sendPacket({ i });
  let after = '';
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    after = await scrape();
    if (value(after, 'enet_packets_received_total') >= 10) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.is(value(after, 'enet_peers'), 1);
  t.is(value(after, 'enet_authenticated_peers'), 1);
  t.true(value(after, 'enet_packets_received_total') >= 10);
  t.true(value(after, 'enet_sent_bytes_total') > value(before, 'enet_sent_bytes_total'));
  t.regex(after, /^enet_actor_handled_total\{kind="net",id="0"\} \d+/m);
  t.is((await fetch(server.metricsUrl.replace('/metrics', '/other'))).status, 404);
});

test('--net-actors 2 runs two shards on one port: demo clients on both, one /metrics row per shard', async (t) => {
  const server = await start(t, ['--net-actors', '2', '--max-peers', '200', '--metrics-port', '0']);
  const text = async () => (await fetch(server.metricsUrl)).text();
  const peersOn = (body, id) => Number(new RegExp(`^enet_actor_peers\\{kind="net",id="${id}"\\} (\\S+)$`, 'm').exec(body)?.[1]);
  let body = await text();
  t.is(peersOn(body, 0), 0);
  t.is(peersOn(body, 1), 0);
  // Each client has its own socket: the kernel's hash puts some on each shard (bounded: 40 clients).
  for (let i = 0; i < 40 && !(peersOn(body, 0) > 0 && peersOn(body, 1) > 0); i++) {
    await connect(t, server.port);
    body = await text();
  }
  t.true(peersOn(body, 0) > 0 && peersOn(body, 1) > 0, body.split('\n').filter((l) => l.startsWith('enet_actor_peers')).join('; '));
});
