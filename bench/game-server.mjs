#!/usr/bin/env node
// Our server running the benchmark game (bench/game/matches.mjs; bench/c/gamebots.c has the rules and
// payloads), through the public API only — the counterpart of bench/c/game_server.c.
//   node bench/game-server.mjs [port=0] [maxPeers=4000] [--actors N] [--net-actors N] [--sim-us U] [--at-arrival]
// Prints "listening <port>" once createServer() has resolved; stops on SIGTERM / SIGINT.
//   --actors N     0 (the default): main-thread mode, the game runs in the supervisor's listeners and a
//                  30 Hz timer. N > 0: N game actors running bench/game/match-actor.mjs, the 16 players of
//                  a match placed on one actor (placePeer), each actor ticking its own matches.
//   --net-actors N shards (createServer's netActors); default: createServer's.
//   --sim-us U     microseconds of CPU burnt per player per tick (the simulation); default 0.
//   --at-arrival   actors handle each input as it arrives instead of at their ticks (GameLogic.deliverAtTick
//                  off): the comparison of bench/game.mjs's actorsAtArrival mode.
import { fileURLToPath } from 'node:url';
import { ENetServerSupervisor, serveUntilSignal } from '../dist/index.js';
import { MATCH_SIZE, Matches, TICK_HZ } from './game/matches.mjs';

const usage = () => {
  process.stderr.write('usage: node bench/game-server.mjs [port=0] [maxPeers=4000] [--actors N] [--net-actors N] [--sim-us U] [--at-arrival]\n');
  process.exit(1);
};
const positional = [];
const flags = { '--actors': 0, '--net-actors': undefined, '--sim-us': 0 };
let atArrival = false;
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--at-arrival') atArrival = true;
    else if (a[i] in flags) {
      const v = Number(a[++i]);
      if (a[i] === undefined || !Number.isFinite(v) || v < 0 || (a[i - 1] !== '--sim-us' && !Number.isInteger(v))) usage();
      flags[a[i - 1]] = v;
    } else if (a[i].startsWith('--')) usage();
    else positional.push(a[i]);
  }
}
const port = Number(positional[0] ?? 0);
const maxPeers = Number(positional[1] ?? 4000);
if (positional.length > 2 || !Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(maxPeers) || maxPeers < 1) usage();
const actors = flags['--actors'];
const simUs = flags['--sim-us'];
// Worker threads (the game actors) get a copy of process.env when they start: the module reads it there.
process.env.BENCH_SIM_US = String(simUs);
process.env.BENCH_AT_ARRIVAL = atArrival ? '1' : '0';

const server = new ENetServerSupervisor();
server.on('error', (err) => process.stderr.write(`game-server: error: ${err?.stack ?? err}\n`));
server.on('actorRestarted', (kind, id, reason) => process.stderr.write(`game-server: ${kind} actor ${id} restarted: ${reason}\n`));

const options = { bindAddress: '127.0.0.1', netActors: flags['--net-actors'] };
let ticker;
if (actors > 0) {
  let placed = 0;
  options.gameLogic = fileURLToPath(new URL('./game/match-actor.mjs', import.meta.url));
  options.gameActors = actors;
  // a match's 16 players on one actor, matches dealt round-robin
  options.placePeer = () => Math.floor(placed++ / MATCH_SIZE) % actors;
} else {
  const matches = new Matches({ simUs, send: (peerIds, bytes) => server.sendPacketToMultiple(peerIds, bytes, 0, false) });
  server.on('peerAuthenticated', (peer) => matches.join(peer.peerId));
  server.on('peerDisconnected', (peer) => matches.leave(peer.peerId));
  server.on('packetReceived', (peer, packet) => {
    if (packet instanceof Uint8Array) matches.input(peer.peerId, packet);
  });
  // 30 Hz on the clock, not on the timer's drift; a slow tick delays the next, ticks never pile up
  const period = 1000 / TICK_HZ;
  let due = performance.now() + period;
  const tick = () => {
    matches.tick();
    due += period;
    const now = performance.now();
    if (due <= now) due = now + period;
    ticker = setTimeout(tick, due - now);
  };
  ticker = setTimeout(tick, period);
}
try {
  await server.createServer(port, maxPeers, 2, options);
} catch (err) {
  process.stderr.write(`game-server: createServer failed: ${err?.stack ?? err}\n`);
  process.exit(1);
}
process.stdout.write(`listening ${server.getLocalPort()}\n`);
await serveUntilSignal(server, {
  stopTimeoutMs: 10000,
  beforeStop: () => clearTimeout(ticker),
});
