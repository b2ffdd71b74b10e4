// The benchmark game's rules (bench/c/gamebots.c has the payloads), shared by our server's two ways
// of running it: on the main thread (bench/game-server.mjs) and in game actors (bench/game/match-actor.mjs).
// The same game in C is bench/c/game_server.c, in GDScript bench/game/godot/server.gd.
//
// Players sit in matches of 16 in the order they join. An input sets the player's direction and its
// last sequence number; a tick moves every player, burns `simUs` microseconds per player (the game's
// simulation), and on two ticks of three sends each match one snapshot, encoded once, to its players.
import { burn } from './burn.mjs';

export const MATCH_SIZE = 16;
export const TICK_HZ = 30;
const SNAP_HEAD = 8;
const SNAP_ENTRY = 12;
const NO_BOT = 0xffffffff;

export class Matches {
  /** `send(peerIds, bytes)`: one snapshot to one match's players (unreliable). */
  constructor({ simUs = 0, send }) {
    this.simUs = simUs;
    this.send = send;
    this.matches = []; // { players: Player[] }
    this.byPeer = new Map(); // peerId -> Player
    this.joined = 0;
    this.ticks = 0;
    this.snapshot = new Uint8Array(SNAP_HEAD + MATCH_SIZE * SNAP_ENTRY);
    this.view = new DataView(this.snapshot.buffer);
  }

  join(peerId) {
    // the match by join order; if it is full (seats freed elsewhere do not count), the first with room
    let m = Math.floor(this.joined / MATCH_SIZE);
    if (this.matches[m]?.players.length >= MATCH_SIZE) m = this.matches.findIndex((match) => match.players.length < MATCH_SIZE);
    if (m < 0) m = this.matches.length;
    this.matches[m] ??= { players: [], peerIds: [] };
    const player = { peerId, match: this.matches[m], botId: NO_BOT, lastSeq: 0, dx: 0, dy: 0, x: 0, y: 0 };
    player.match.players.push(player);
    player.match.peerIds.push(peerId);
    this.byPeer.set(peerId, player);
    this.joined++;
  }

  leave(peerId) {
    const player = this.byPeer.get(peerId);
    if (!player) return;
    this.byPeer.delete(peerId);
    const { match } = player;
    const i = match.players.indexOf(player);
    match.players.splice(i, 1);
    match.peerIds.splice(i, 1);
  }

  /** `bytes`: the input's body (our RAW type byte already taken off). */
  input(peerId, bytes) {
    const player = this.byPeer.get(peerId);
    if (!player || bytes.length < 23 || bytes[0] !== 0x49 /* 'I' */) return;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const seq = v.getUint32(7, true);
    if (seq <= player.lastSeq) return;
    player.botId = v.getUint32(3, true);
    player.lastSeq = seq;
    player.dx = v.getInt32(11, true);
    player.dy = v.getInt32(15, true);
  }

  tick() {
    const sendSnapshot = this.ticks % 3 !== 2;
    const { snapshot, view } = this;
    for (const match of this.matches) {
      const { players } = match;
      if (players.length === 0) continue;
      for (const p of players) {
        p.x = (p.x + p.dx) << 16 >> 16;
        p.y = (p.y + p.dy) << 16 >> 16;
      }
      if (this.simUs > 0) burn(this.simUs * players.length);
      if (!sendSnapshot) continue;
      snapshot[0] = 0x53; // 'S'
      snapshot[1] = players.length;
      view.setUint16(2, 0, true);
      view.setUint32(4, this.ticks, true);
      let o = SNAP_HEAD;
      for (const p of players) {
        view.setUint32(o, p.botId, true);
        view.setInt16(o + 4, p.x, true);
        view.setInt16(o + 6, p.y, true);
        view.setUint32(o + 8, p.lastSeq, true);
        o += SNAP_ENTRY;
      }
      this.send(match.peerIds, snapshot.subarray(0, o));
    }
    this.ticks++;
  }
}

/** Microseconds of simulation per player per tick, from BENCH_SIM_US (0 when unset); actors see it too. */
export function simUsFromEnv(env = process.env) {
  const us = Number(env.BENCH_SIM_US ?? 0);
  if (!Number.isFinite(us) || us < 0) throw new RangeError(`BENCH_SIM_US must be a number >= 0, got ${env.BENCH_SIM_US}`);
  return us;
}
