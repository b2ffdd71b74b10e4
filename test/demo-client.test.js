// examples/demo-client.js as a real child process: exits 0 only when its echo and its pong came back;
// a bad ENET_PORT, a server that wants a login, or nobody listening → exit 1 with the reason, within
// its bound (ENET_DEMO_TIMEOUT_MS).
import test from 'ava';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { AuthMode, ENetServerSupervisor } from '../dist/index.js';
import { installDemo } from '../dist/cli/demo.js';

const DEMO = fileURLToPath(new URL('../examples/demo-client.js', import.meta.url));

/** A UDP port nobody listens on (bound once, then closed). */
async function freePort() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

function demoClient(env) {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [DEMO], { env: { ...process.env, ENET_HOST: '127.0.0.1', ...env }, timeout: 20_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function demoServer(t, authMode = AuthMode.AUTH_NONE) {
  const server = new ENetServerSupervisor();
  installDemo(server);
  server.setAuthenticationMode(authMode);
  await server.createServer(0, 8, 2, { bindAddress: '127.0.0.1' });
  t.teardown(() => server.stopServer());
  return server.getLocalPort();
}

test('against the demo server it gets its echo and pong and exits 0', async (t) => {
  const port = await demoServer(t);
  const run = await demoClient({ ENET_PORT: String(port) });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /pong after/);
  t.regex(run.stdout, /disconnected: demo done/);
});

test('with ENET_LOGIN it logs in to a server in AUTH_CUSTOM; without, it exits 1 within its bound, saying so', async (t) => {
  const port = await demoServer(t, AuthMode.AUTH_CUSTOM);
  const ok = await demoClient({ ENET_PORT: String(port), ENET_LOGIN: '{"name":"ann"}' });
  t.is(ok.code, 0, ok.stderr);
  const run = await demoClient({ ENET_PORT: String(port), ENET_DEMO_TIMEOUT_MS: '1500' });
  t.is(run.code, 1);
  t.regex(run.stderr, /^demo-client: no answer within 1500 ms .*set ENET_LOGIN/m);
  t.true(run.ms < 10_000, `took ${run.ms} ms`);
});

test('a bad ENET_PORT, or nobody listening, exits 1 with the reason', async (t) => {
  const bad = await demoClient({ ENET_PORT: 'abc' });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /ENET_PORT must be a port 1–65535, got 'abc'/);
  const dead = await demoClient({ ENET_PORT: String(await freePort()), ENET_DEMO_TIMEOUT_MS: '1500' });
  t.is(dead.code, 1);
  t.regex(dead.stderr, /^demo-client: (no answer within 1500 ms|connection failed)/m);
  t.true(dead.ms < 10_000, `took ${dead.ms} ms`);
});
