// The benchmark game (bench/game/matches.mjs) in game actors: bench/game-server.mjs --actors N places
// the 16 players of a match on one actor (placePeer), which groups its players in join order the same
// way; each actor ticks its own matches at 30 Hz and sends from its own thread.
import { defineGameLogic } from '../../dist/index.js';
import { Matches, TICK_HZ, simUsFromEnv } from './matches.mjs';

let matches;

export default defineGameLogic({
  tickRate: TICK_HZ,
  deliverAtTick: process.env.BENCH_DELIVER_AT_TICK === "1",
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
