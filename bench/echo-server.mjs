#!/usr/bin/env node
// Our server as an echo server, through the public API only (the counterpart of bench/c/echo_server.c).
//   node bench/echo-server.mjs [port=0] [maxPeers=256] [--actors N] [--net-actors N] [--burn-us U]
// Prints "listening <port>" (the port actually bound) once createServer() has resolved, sends every
// decoded packet back to its sender on the same channel, reliably; stops on SIGTERM / SIGINT.
//   --actors N   0 (the default): main-thread mode, the echo runs in the 'packetReceived' listener.
//                N > 0: N game actors (createServer's gameLogic/gameActors) running bench/game/echo.mjs,
//                which echoes from the actor with ctx.send; the main thread handles no packet.
//   --net-actors N  shards (createServer's netActors); default: createServer's (1 up to 4,095 peers).
//   --burn-us U  every packet's handler first burns U microseconds of CPU in a busy loop
//                (bench/game/burn.mjs), then echoes; default 0. Passed to the actors as BENCH_BURN_US.
// On stop it prints (stderr) how many packets were echoed and refused (ERR_BUSY); with actors, the
// packets each actor handled, and how long stopServer() took if over 1 s (it is given 10 s).
import { fileURLToPath } from 'node:url';
import { ENetServerSupervisor, serveUntilSignal } from '../dist/index.js';
import { burn } from './game/burn.mjs';

const usage = () => {
  process.stderr.write('usage: node bench/echo-server.mjs [port=0] [maxPeers=256] [--actors N] [--net-actors N] [--burn-us U]\n');
  process.exit(1);
};
const positional = [];
let actors = 0;
let burnUs = 0;
let netActors;
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--actors' || k === '--burn-us' || k === '--net-actors') {
      const v = Number(a[++i]);
      if (a[i] === undefined || !Number.isFinite(v) || v < 0) usage();
      if (k === '--actors' || k === '--net-actors') {
        if (!Number.isInteger(v)) usage();
        if (k === '--actors') actors = v;
        else netActors = v;
      } else burnUs = v;
    } else if (k.startsWith('--')) usage();
    else positional.push(k);
  }
}
const port = Number(positional[0] ?? 0);
const maxPeers = Number(positional[1] ?? 256);
if (positional.length > 2 || !Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(maxPeers) || maxPeers < 1) usage();
// Worker threads (the game actors) get a copy of process.env when they start: the module reads it there.
process.env.BENCH_BURN_US = String(burnUs);

const server = new ENetServerSupervisor();
let echoed = 0;
let refused = 0;
server.on('packetReceived', (peer, packet, channel) => {
  if (actors > 0) {
    // With game actors the module handles every packet; one arriving here was relayed (not expected).
    refused++;
    return;
  }
  if (burnUs > 0) burn(burnUs);
  // RAW packets arrive as bytes and are sent back as RAW: the same bytes on the wire.
  if (server.sendPacket(peer.peerId, packet, channel, true) === 0) echoed++;
  else refused++;
});
server.on('actorMessage', (id, message) => {
  if (message?.type === 'refused') process.stderr.write(`echo-server: game actor ${id}: ${message.refused} sends refused so far\n`);
});
server.on('actorRestarted', (kind, id, reason) => process.stderr.write(`echo-server: ${kind} actor ${id} restarted: ${reason}\n`));
server.on('error', (err) => process.stderr.write(`echo-server: error: ${err?.stack ?? err}\n`));

const options = { bindAddress: '127.0.0.1', netActors };
if (actors > 0) {
  options.gameLogic = fileURLToPath(new URL('./game/echo.mjs', import.meta.url));
  options.gameActors = actors;
}
try {
  await server.createServer(port, maxPeers, 2, options);
} catch (err) {
  process.stderr.write(`echo-server: createServer failed: ${err?.stack ?? err}\n`);
  process.exit(1);
}
process.stdout.write(`listening ${server.getLocalPort()}\n`);
// The process glue every server uses (src/supervisor/process.ts); the statistics are read before the stop.
let handled = '';
await serveUntilSignal(server, {
  stopTimeoutMs: 10000,
  beforeStop: () => {
    if (actors > 0) handled = ', handled by the game actors: ' + server.getMetrics().actors.filter((r) => r.kind === 'game').map((r) => `#${r.id} ${r.handled}`).join(', ');
  },
  onStop: () => {
    process.stderr.write(`echo-server: stopped, ${echoed} echoed, ${refused} ${actors > 0 ? 'relayed to the main thread' : 'refused'}${handled}\n`);
  },
});
