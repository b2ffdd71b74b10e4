// The package as a stranger gets it: `npm pack` (prepack builds dist/ when stale and puts the addon in
// native/prebuilds/), then a fresh project installs the tarball (npm 11 runs no dependency install
// script it was not told to: the prebuilt addon must load as it is) and uses it: a client–server
// round trip through `import ... from 'enet-actor-server'`, `npx enet-server --version`,
// `npx enet-loadtest --help`. Dependencies come from npm's cache when they are there (--prefer-offline).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The environment without what `npm test` set for this project (npm_config_*, npm_package_*…). */
const cleanEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
});

function run(command, args, cwd, timeout) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: cleanEnv(), timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const ROUND_TRIP = `
import { ENetServer, ENetClient } from 'enet-actor-server';
const timer = setTimeout(() => { console.error('no echo within 10 s'); process.exit(1); }, 10_000);
ENetServer.on('packetReceived', (peer, packet, channel) => ENetServer.sendPacket(peer.peerId, packet, channel));
await ENetServer.createServer(0, 4, 2, { bindAddress: '127.0.0.1' });
const client = new ENetClient();
client.on('connectedToServer', () => client.sendPacket({ hello: 'from a dependency' }));
client.on('packetReceived', async (packet) => {
  clearTimeout(timer);
  console.log(JSON.stringify(packet));
  client.disconnectFromServer();
  await ENetServer.stopServer();
  process.exit(0);
});
client.connectToServer('127.0.0.1', ENetServer.getLocalPort());
`;

test('npm pack → npm install in a fresh project → import it, a round trip, npx enet-server --version, npx enet-loadtest --help', async (t) => {
  t.timeout(150_000);
  const dir = mkdtempSync(join(tmpdir(), 'enet-pack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout: packed } = await run('npm', ['pack', '--silent', '--pack-destination', dir], ROOT, 120_000);
  const tarball = join(dir, packed.trim().split('\n').at(-1));
  t.true(existsSync(tarball), packed);

  const project = join(dir, 'project');
  await run('mkdir', ['-p', project], dir, 5000);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-enet', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], project, 120_000);
  const installed = join(project, 'node_modules', 'enet-actor-server');
  t.true(existsSync(join(installed, 'dist', 'index.js')), 'dist/ is in the package');
  t.true(existsSync(join(installed, 'native', 'prebuilds', `${process.platform}-${process.arch}`)), 'the prebuilt addon is in the package');
  t.false(existsSync(join(installed, 'native', 'build')), 'nothing was built at install time');

  writeFileSync(join(project, 'round-trip.mjs'), ROUND_TRIP);
  const { stdout: echoed } = await run(process.execPath, ['round-trip.mjs'], project, 20_000);
  t.deepEqual(JSON.parse(echoed.trim()), { hello: 'from a dependency' });

  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const { stdout: printed } = await run('npx', ['--no-install', 'enet-server', '--version'], project, 20_000);
  t.is(printed, `enet-server ${version}\n`);
  const { stdout: help } = await run('npx', ['--no-install', 'enet-loadtest', '--help'], project, 20_000);
  t.regex(help, /^usage: enet-loadtest/);
});
