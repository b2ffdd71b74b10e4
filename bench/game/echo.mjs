// Game-logic module of the benchmark echo server (bench/echo-server.mjs --actors N): every packet is
// sent back to its sender from the game actor (ctx.send, reliable, same channel), after burning
// BENCH_BURN_US microseconds of CPU (0 = none). RAW packets arrive as bytes and go back as RAW: the
// same bytes on the wire as the main-thread echo and the raw C echo server.
// A send the outbound ring refuses (ERR_BUSY) is counted and reported to the supervisor with
// ctx.post({ type: 'refused', ... }) at most once a second per actor: the echo server logs it.
import { defineGameLogic } from '../../dist/index.js';
import { burn, burnUsFromEnv } from './burn.mjs';

const burnUs = burnUsFromEnv();
let refused = 0;
let lastReport = 0;

export default defineGameLogic({
  onPacket(peer, packet, channel, ctx) {
    if (burnUs > 0) burn(burnUs);
    if (ctx.send(peer.peerId, packet, channel, true) !== 0) {
      refused++;
      const now = Date.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        ctx.post({ type: 'refused', actorId: ctx.actorId, refused });
      }
    }
  },
});
