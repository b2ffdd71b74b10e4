#!/usr/bin/env node
// Benchmark: a fleet on Redis next to the same work done on one server.
//
//   node bench/cluster.mjs [--sends 2000] [--peers 500] [--servers 3] [--rounds 100] [--out bench/results/cluster.json]
//
// Runs its own redis-server (free loopback port, no persistence) and --servers enet-server processes
// (dist/cli/server.js --cluster-redis …, the demo). This process holds the sender — a server of the
// fleet with no peers of its own — and every ENetClient, so each delivery is timed on one clock.
//   sendTo:    one client on server 1 named through the demo's 'identify' event; --sends sequential
//              cluster.sendTo calls, each timed until the client received it (delivery) and until the
//              promise resolved (the owner's acknowledgement); next to sendPacket from a server in
//              this process to a client of its own (local), and next to Redis alone: a PUBLISH from this
//              process timed until a subscriber in another process got it (the floor of any design on
//              Redis pub/sub). Target: cross-server p99 ≤ 2 ms.
//   broadcast: --peers clients on each server; --rounds cluster.broadcast calls, each timed until every
//              one of servers × peers clients received it; next to sendPacketToAll from the local
//              server to 1 × peers and to servers × peers clients of its own, in as many client processes
//              (the same work on one server). Target: 3 × 500 within 20 ms at p99.
// The table goes to stdout, the figures to --out. Every wait is bounded, every child killed on exit.
import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ENetServerSupervisor, Err } from '../dist/index.js';
import { bounded, connectClients } from './lib/clients.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const CLI = join(root, 'dist', 'cli', 'server.js');

const opts = { sends: 2000, peers: 500, servers: 3, rounds: 100, out: join(here, 'results', 'cluster.json') };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  const value = process.argv[++i];
  const key = flag.replace(/^--/, '');
  if (!(key in opts) || value === undefined) {
    process.stderr.write(`usage: node bench/cluster.mjs [--sends N] [--peers N] [--servers N] [--rounds N] [--out FILE]\n`);
    process.exit(2);
  }
  opts[key] = key === 'out' ? resolve(value) : Number(value);
}

const children = [];
const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise((done) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(500, () => (socket.destroy(), done(false)));
      socket.on('error', () => done(false));
      socket.on('data', (d) => (socket.destroy(), done(String(d).includes('PONG'))));
      socket.on('connect', () => socket.write('PING\r\n'));
    });
    if (ok) return `redis://127.0.0.1:${port}`;
    if (Date.now() > deadline) throw new Error('redis-server did not answer');
    await sleep(20);
  }
}

function startServer(redis, serverId, maxPeers) {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(maxPeers), '--cluster-redis', redis, '--server-id', serverId], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  return bounded(
    new Promise((resolvePort, reject) => {
      child.stdout.on('data', (d) => {
        output += d;
        const m = /enet-server listening on [\d.]+:(\d+)/.exec(output);
        if (m) resolvePort(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`${serverId} exited ${code}: ${output}`)));
    }),
    15_000,
    `${serverId} listening`,
  );
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) };
}

const round3 = (n) => Math.round(n * 1000) / 1000;
const fmt = (p) => `p50 ${p.p50.toFixed(3)}  p99 ${p.p99.toFixed(3)}  max ${p.max.toFixed(3)} ms (n ${p.n})`;

// ---------- setup ----------

log(`cluster bench: ${opts.servers} servers × ${opts.peers} peers, ${opts.sends} sends, ${opts.rounds} broadcast rounds, ${cpus().length} cores`);
const redis = await startRedis();
const ports = await Promise.all(Array.from({ length: opts.servers }, (_, i) => startServer(redis, `bench-${i + 1}`, opts.peers + 8)));
const quiet = { warn: log, error: log };
// The sender: in the fleet, with peers of its own only for the local comparison.
const local = new ENetServerSupervisor();
await local.createServer(0, opts.servers * opts.peers + 8, 2, { bindAddress: '127.0.0.1', logger: quiet, cluster: { redis, serverId: 'bench-sender' } });
log(`redis ${redis}, servers on ${ports.join(', ')}, sender on ${local.getLocalPort()}`);

// ---------- sendTo ----------
const [target] = await connectClients(ports[0], 1);
const identified = new Promise((ok) => target.once('unknownEventReceived', (name, payload) => ok(payload.err)));
target.triggerEvent('identify', { identity: 'bench-target' });
if ((await bounded(identified, 5000, 'identify')) !== Err.OK) throw new Error('identify failed');
// The client hears its connect before the supervisor has the peer: wait for the server's side too.
const localConnected = new Promise((ok) => local.once('peerConnecting', ok));
const [localTarget] = await connectClients(local.getLocalPort(), 1);
const localPeer = await bounded(localConnected, 5000, 'the local peer');

async function timeSends(send, client, count) {
  const delivery = [];
  const ack = [];
  let waiting;
  client.on('packetReceived', () => waiting?.(performance.now()));
  for (let i = 0; i < count + 100; i++) {
    const got = new Promise((ok) => (waiting = ok));
    const t0 = performance.now();
    const acked = Promise.resolve(send({ i, pad: 'x'.repeat(48) })).then((err) => {
      if (err !== Err.OK) throw new Error(`send returned ${err}`);
      return performance.now();
    });
    const t1 = await bounded(got, 5000, 'a send');
    const t2 = await acked;
    if (i >= 100) {  // the first 100 warm up
      delivery.push(t1 - t0);
      ack.push(t2 - t0);
    }
  }
  client.removeAllListeners('packetReceived');
  return { delivery: percentiles(delivery), ack: percentiles(ack) };
}

log('sendTo: local sendPacket …');
const localSend = await timeSends((packet) => local.sendPacket(localPeer.peerId, packet), localTarget, opts.sends);
log(`  local delivery  ${fmt(localSend.delivery)}`);
log('sendTo: Redis alone, PUBLISH → a subscriber in another process …');
const floorChild = fork(join(here, 'cluster-redis-floor.mjs'), ['--redis', redis], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
children.push(floorChild);
await bounded(new Promise((ok) => floorChild.on('message', (m) => m.ready && ok())), 10_000, 'the Redis floor process');
const publisher = new Redis(redis);
const floorSamples = [];
for (let i = 0; i < opts.sends + 100; i++) {
  const got = new Promise((ok) => floorChild.once('message', (m) => ok(m.at)));
  const t0 = performance.timeOrigin + performance.now();
  await publisher.publish('bench:floor', Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(48) })));
  const at = await bounded(got, 5000, 'a floor message');
  if (i >= 100) floorSamples.push(at - t0);
}
const redisFloor = percentiles(floorSamples);
floorChild.send('stop');
publisher.disconnect();
log(`  redis one way   ${fmt(redisFloor)}`);
log('sendTo: cross-server cluster.sendTo …');
const crossSend = await timeSends((packet) => local.cluster.sendTo('bench-target', packet), target, opts.sends);
log(`  cross delivery  ${fmt(crossSend.delivery)}`);
log(`  cross ack       ${fmt(crossSend.ack)}`);
target.disconnectFromServer();
localTarget.disconnectFromServer();
await sleep(200);

// ---------- broadcast ----------
/** `count` clients of `port` in a child process (bench/cluster-clients.mjs). */
function clientProcess(port, count) {
  const child = fork(join(here, 'cluster-clients.mjs'), ['--port', String(port), '--count', String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const ready = new Promise((ok, fail) => {
    child.on('message', (message) => message.ready && ok());
    child.once('exit', (code) => fail(new Error(`client process exited ${code}`)));
  });
  return bounded(ready, 60_000, `${count} clients on port ${port}`).then(() => child);
}

/** Asks the client processes to disconnect and waits until they are gone. */
async function stopClientProcesses(groups) {
  const gone = groups.map((child) => (child.exitCode !== null ? null : new Promise((ok) => child.once('exit', ok))));
  for (const child of groups) child.send('stop');
  await bounded(Promise.all(gone), 10_000, 'client processes to exit');
}

async function timeBroadcasts(broadcast, groups, rounds) {
  const samples = [];
  let pending;
  for (const child of groups) child.on('message', (message) => message.round !== undefined && pending?.(message));
  for (let r = 0; r < rounds + 5; r++) {
    const lasts = [];
    const all = new Promise((ok) => {
      pending = (message) => {
        if (message.round !== r) return;
        lasts.push(message.last);
        if (lasts.length === groups.length) ok();
      };
    });
    const t0 = performance.timeOrigin + performance.now();
    await broadcast({ round: r, news: 'x'.repeat(32) });
    await bounded(all, 5000, `broadcast round ${r} (${lasts.length} of ${groups.length} client processes complete)`);
    if (r >= 5) samples.push(Math.max(...lasts) - t0);
    await sleep(20);
  }
  for (const child of groups) child.removeAllListeners('message');
  return percentiles(samples);
}

log(`broadcast: ${opts.servers} × ${opts.peers} clients of the local server (one process per ${opts.peers}) …`);
const localGroups = [];
for (let i = 0; i < opts.servers; i++) localGroups.push(await clientProcess(local.getLocalPort(), opts.peers));
await sleep(500);
log(`broadcast: local sendPacketToAll to ${opts.servers} × ${opts.peers} …`);
const localBroadcastAll = await timeBroadcasts((packet) => local.sendPacketToAll(packet), localGroups, opts.rounds);
log(`  local ${opts.servers}×${opts.peers}      ${fmt(localBroadcastAll)}`);
await stopClientProcesses(localGroups.slice(1));
await sleep(500);
log(`broadcast: local sendPacketToAll to ${opts.peers} …`);
const localBroadcast = await timeBroadcasts((packet) => local.sendPacketToAll(packet), [localGroups[0]], opts.rounds);
log(`  local ${opts.peers}         ${fmt(localBroadcast)}`);
await stopClientProcesses([localGroups[0]]);
log(`broadcast: connecting ${opts.servers} × ${opts.peers} clients (one process per server) …`);
const fleetGroups = [];
for (const port of ports) fleetGroups.push(await clientProcess(port, opts.peers));
await sleep(500);  // the demo's welcome packets are gone
log('broadcast: cluster.broadcast …');
// The sender's own peers get it too (they are in the fleet); only the servers' are counted.
const fleetBroadcast = await timeBroadcasts((packet) => local.cluster.broadcast(packet), fleetGroups, opts.rounds);
log(`  fleet ${opts.servers}×${opts.peers}      ${fmt(fleetBroadcast)}`);

// ---------- report ----------
const result = {
  when: new Date().toISOString(),
  cores: cpus().length,
  options: opts,
  sendTo: {
    redisOneWay: redisFloor,
    local: localSend.delivery,
    cross: crossSend.delivery,
    crossAck: crossSend.ack,
    ratioP50: round3(crossSend.delivery.p50 / localSend.delivery.p50),
    ratioP99: round3(crossSend.delivery.p99 / localSend.delivery.p99),
    ratioP99VsRedis: round3(crossSend.delivery.p99 / redisFloor.p99),
    targetP99Ms: 2,
    met: crossSend.delivery.p99 <= 2,
  },
  broadcast: {
    local: localBroadcast,
    localSamePeers: localBroadcastAll,
    fleet: fleetBroadcast,
    ratioP99: round3(fleetBroadcast.p99 / localBroadcast.p99),
    ratioP99VsSamePeers: round3(fleetBroadcast.p99 / localBroadcastAll.p99),
    targetP99Ms: 20,
    met: fleetBroadcast.p99 <= 20,
  },
};
console.log('');
console.log(`| what | p50 ms | p99 ms | max ms | ratio p99 |`);
console.log(`|---|---|---|---|---|`);
console.log(`| sendPacket, local | ${localSend.delivery.p50.toFixed(3)} | ${localSend.delivery.p99.toFixed(3)} | ${localSend.delivery.max.toFixed(3)} | 1 |`);
console.log(`| Redis PUBLISH → subscriber in another process | ${redisFloor.p50.toFixed(3)} | ${redisFloor.p99.toFixed(3)} | ${redisFloor.max.toFixed(3)} | ${round3(redisFloor.p99 / localSend.delivery.p99)} |`);
console.log(`| cluster.sendTo, cross-server (delivered) | ${crossSend.delivery.p50.toFixed(3)} | ${crossSend.delivery.p99.toFixed(3)} | ${crossSend.delivery.max.toFixed(3)} | ${result.sendTo.ratioP99} |`);
console.log(`| cluster.sendTo, cross-server (acknowledged) | ${crossSend.ack.p50.toFixed(3)} | ${crossSend.ack.p99.toFixed(3)} | ${crossSend.ack.max.toFixed(3)} | |`);
console.log(`| sendPacketToAll, local ${opts.peers} peers | ${localBroadcast.p50.toFixed(3)} | ${localBroadcast.p99.toFixed(3)} | ${localBroadcast.max.toFixed(3)} | 1 |`);
console.log(`| sendPacketToAll, local ${opts.servers} × ${opts.peers} peers | ${localBroadcastAll.p50.toFixed(3)} | ${localBroadcastAll.p99.toFixed(3)} | ${localBroadcastAll.max.toFixed(3)} | ${round3(localBroadcastAll.p99 / localBroadcast.p99)} |`);
console.log(`| cluster.broadcast, ${opts.servers} × ${opts.peers} peers | ${fleetBroadcast.p50.toFixed(3)} | ${fleetBroadcast.p99.toFixed(3)} | ${fleetBroadcast.max.toFixed(3)} | ${result.broadcast.ratioP99} |`);
console.log('');
console.log(`targets: sendTo p99 ≤ 2 ms: ${result.sendTo.met ? 'met' : 'NOT met'}; broadcast ${opts.servers}×${opts.peers} p99 ≤ 20 ms: ${result.broadcast.met ? 'met' : 'NOT met'}`);
console.log(`ratios: cross-server sendTo p99 = ${result.sendTo.ratioP99VsRedis}× Redis pub/sub alone; fleet broadcast p99 = ${result.broadcast.ratioP99VsSamePeers}× the same ${opts.servers} × ${opts.peers} peers on one server`);
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
log(`written ${opts.out}`);

for (const child of fleetGroups) child.send('stop');
await sleep(300);
await local.stopServer();
killAll();
process.exit(0);
