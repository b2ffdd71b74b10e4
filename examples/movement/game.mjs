// A movement game, as game logic for the actors (examples/movement/server.mjs loads it).
// Clients send `input` events { seq, dx, dy } (seq from 1 up, dx and dy in [-1, 1]); every actor
// moves its own players 20 times a second and sends them an unreliable snapshot
// { t: 'state', tick, actor, players: [[id, x, y, seq], ...] }. An actor is a room here: players see
// those placed on the same actor, not the others.
import { defineGameLogic } from 'enet-actor-server';

export const TICK_RATE = 20;
export const SPEED = 10; // world units per second
export const WORLD = 100; // the world is [0, WORLD] × [0, WORLD]
export const SNAPSHOT_CHANNEL = 1;

// Module scope is per actor: each actor is its own thread with its own copy of this module, so this
// map only ever holds the players placed on this actor. onStart creates it afresh because it also
// runs in the replacement of a crashed actor, which then gets onPeerAuthenticated again for each of
// its peers: the players respawn instead of keeping half-known state.
let players;
let tick;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round2 = (v) => Math.round(v * 100) / 100;

export default defineGameLogic({
  tickRate: TICK_RATE,
  // Inputs only matter at the next tick: read them all then, and let the actor sleep in between
  // (one wake-up per tick instead of one per input; README "Sizing a server").
  deliverAtTick: true,

  onStart(ctx) {
    players = new Map();
    tick = 0;
    ctx.post({ event: 'started', tickRate: TICK_RATE });
  },

  onPeerAuthenticated(peer, ctx) {
    // Spawn points spread by id, not random, so that a run (and the test) is reproducible.
    const x = WORLD / 2 + ((peer.peerId * 7) % 21) - 10;
    const y = WORLD / 2 + ((peer.peerId * 13) % 21) - 10;
    players.set(peer.peerId, { x, y, dx: 0, dy: 0, seq: 0 });
    // Reliable: the client needs its id before it can find itself in the snapshots.
    ctx.triggerEvent(peer.peerId, 'welcome', { id: peer.peerId, actor: ctx.actorId, x, y, world: WORLD, tickRate: TICK_RATE });
  },

  onPeerDisconnected(peer) {
    players.delete(peer.peerId);
  },

  events: {
    // The input is a held direction, applied on every tick until the next one: the handler only
    // records it, so a client that floods inputs moves no faster than one that sends ten a second.
    input(peer, payload, channel, ctx) {
      const player = players.get(peer.peerId);
      const { seq, dx, dy } = payload;
      if (!player || !Number.isSafeInteger(seq) || !Number.isFinite(dx) || !Number.isFinite(dy)) return;
      // Inputs travel unreliable (unsequenced): late or duplicated ones must not undo newer ones.
      if (seq <= player.seq) return;
      let x = clamp(dx, -1, 1);
      let y = clamp(dy, -1, 1);
      // Normalised, or moving diagonally would be √2 times faster.
      const length = Math.hypot(x, y);
      if (length > 1) {
        x /= length;
        y /= length;
      }
      player.dx = x;
      player.dy = y;
      player.seq = seq;
    },
  },

  onTick(dt, ctx) {
    tick++;
    // dt, not 1 / TICK_RATE: a late tick then covers the time that really passed.
    const step = SPEED * Math.min(dt, 0.25); // …capped, so a long stall does not teleport anyone
    const snapshot = [];
    for (const [id, p] of players) {
      p.x = clamp(p.x + p.dx * step, 0, WORLD);
      p.y = clamp(p.y + p.dy * step, 0, WORLD);
      // The last input seq lets a client tell which of its inputs this position already includes.
      snapshot.push([id, round2(p.x), round2(p.y), p.seq]);
    }
    if (snapshot.length > 0) {
      // Unreliable on its own channel: a lost snapshot is superseded 50 ms later, and resending it
      // would only delay the newer ones behind it.
      ctx.sendToMultiple(ctx.peers(), { t: 'state', tick, actor: ctx.actorId, players: snapshot }, SNAPSHOT_CHANNEL, false);
    }
    // A heartbeat for the supervisor's log (every 5 s), so an operator sees each actor's load.
    if (tick % (TICK_RATE * 5) === 0) ctx.post({ event: 'stats', tick, players: players.size });
  },
});
