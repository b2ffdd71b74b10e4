// PM2 runs enet-server from ecosystem.config.cjs (real pm2, a private PM2_HOME in a temporary
// directory, its daemon always killed): ready once bound, brought back after a SIGKILL, and a graceful
// stop (SIGINT) tells connected peers "Server stopped".
import test from 'ava';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENetClient } from '../dist/index.js';
import { waitFor } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PM2 = join(root, 'node_modules', '.bin', 'pm2');

/** A UDP port that was free a moment ago (PM2 needs a fixed one: it restarts the app on the same). */
async function freeUdpPort() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

function pm2(home, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(PM2, args, { cwd: root, env: { ...process.env, PM2_HOME: home, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pm2 ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function appPid(home, name) {
  const list = JSON.parse(await pm2(home, ['jlist']));
  const app = list.find((a) => a.name === name);
  return app && app.pm2_env.status === 'online' ? app.pid : 0;
}

async function connect(t, port) {
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const connected = waitFor(client, 'connectedToServer', 10_000);
  client.connectToServer('127.0.0.1', port);
  await connected;
  return client;
}

test('PM2 starts enet-server (ready once bound), restarts it after SIGKILL, and pm2 stop disconnects peers with "Server stopped"', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'enet-pm2-'));
  const logs = mkdtempSync(join(tmpdir(), 'enet-pm2-logs-'));
  const name = `enet-test-${process.pid}`;
  t.teardown(async () => {
    await pm2(home, ['kill']).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    rmSync(logs, { recursive: true, force: true });
  });
  const port = await freeUdpPort();
  const env = {
    ENET_APP_NAME: name,
    ENET_PORT: String(port),
    ENET_BIND: '127.0.0.1',
    ENET_MAX_PEERS: '16',
    ENET_LOG_OUT: join(logs, 'out.log'),
    ENET_LOG_ERR: join(logs, 'err.log'),
  };
  // `pm2 start` with wait_ready returns once the app said ready: the port is bound by then.
  await pm2(home, ['start', 'ecosystem.config.cjs'], env);
  const first = await appPid(home, name);
  t.true(first > 0);
  const client = await connect(t, port);
  t.true(client.isConnectedToServer());

  process.kill(first, 'SIGKILL');
  let second = 0;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    second = await appPid(home, name);
    if (second > 0 && second !== first) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.true(second > 0 && second !== first, `PM2 brought the server back (pid ${first} → ${second})`);
  const again = await connect(t, port);
  t.true(again.isConnectedToServer());

  const told = waitFor(again, 'disconnectedFromServer', 15_000);
  await pm2(home, ['stop', name]);
  t.is((await told)[0], 'Server stopped');
  t.is(await appPid(home, name), 0);
});
