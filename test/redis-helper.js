// Test helpers for the cluster tests: a real redis-server on a free loopback port (killed by
// t.teardown), and enet-server child processes.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { WAIT_MS } from './helpers.js';

/** A TCP port nobody listens on now (bound to 0, read, closed). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` answers PING with PONG; rejects after `ms`. */
export async function waitForRedis(port, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const answered = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      const done = (ok) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.on('error', () => done(false));
      socket.on('data', (chunk) => {
        data += chunk;
        if (data.includes('PONG')) done(true);
      });
      socket.on('connect', () => socket.write('PING\r\n'));
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A redis-server of our own: no persistence, loopback only. `stop()` kills it (SIGKILL: as if it
 * died), `start()` runs it again on the same port (empty, as a restarted cache would be).
 */
export async function startRedis(t, { port } = {}) {
  port ??= await freePort();
  let child;
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.exited = exited;
      await Promise.race([
        waitForRedis(port),
        exited.then((code) => Promise.reject(new Error(`redis-server exited with ${code} before answering`))),
      ]);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await child.exited;
    },
  };
  t.teardown(() => redis.stop());
  await redis.start();
  return redis;
}

const SERVER_CLI = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));

/**
 * `node dist/cli/server.js --port 0 …args` as a child; resolves once it printed
 * "enet-server listening on <address>:<port>", with its port. Killed (SIGKILL) by t.teardown.
 */
export function spawnServer(t, args, { env = {}, ms = WAIT_MS } = {}) {
  const child = spawn(process.execPath, [SERVER_CLI, '--port', '0', '--bind', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let output = '';
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`enet-server did not start within ${ms} ms: ${output}`)), ms);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /enet-server listening on ([\d.]+):(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[2]), exited, output: () => output });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`enet-server exited (${code ?? signal}) before listening: ${output}`));
    });
  });
}

/** Awaits `probe()` every `every` ms until it returns a truthy value (returned); bounded by `ms`. */
export async function eventually(probe, ms = WAIT_MS, what = 'condition', every = 20) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
