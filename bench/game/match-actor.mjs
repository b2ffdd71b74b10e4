// The benchmark game (bench/game/matches.mjs) in game actors: bench/game-server.mjs --actors N places
// the 16 players of a match on one actor (placePeer), which groups its players in join order the same
// way; each actor ticks its own matches at 30 Hz and sends from its own thread. It reads its packets
// at its ticks (GameLogic.deliverAtTick), unless BENCH_AT_ARRIVAL=1.
import { defineGameLogic } from '../../dist/index.js';
import { Matches, TICK_HZ, simUsFromEnv } from './matches.mjs';

let matches;

export default defineGameLogic({
  tickRate: TICK_HZ,
  // inputs are applied at the tick anyway: read them then (bench/game-server.mjs --at-arrival: as they arrive)
  deliverAtTick: process.env.BENCH_AT_ARRIVAL !== '1',
  onStart(ctx) {
    matches = new Matches({ simUs: simUsFromEnv(), send: (peerIds, bytes) => ctx.sendToMultiple(peerIds, bytes, 0, false) });
  },
  onPeerAuthenticated(peer) {
    matches.join(peer.peerId);
  },
  onPeerDisconnected(peer) {
    matches.leave(peer.peerId);
  },
  onPacket(peer, packet) {
    if (packet instanceof Uint8Array) matches.input(peer.peerId, packet);
  },
  onTick() {
    matches.tick();
  },
});
