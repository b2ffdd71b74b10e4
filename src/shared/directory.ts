// The peer directory: one Int32 row per peer slot of the server's host, in a SharedArrayBuffer.
// The supervisor (main thread) writes a row when it routes an authenticated peer to a game actor and
// clears it when the peer is gone; game actors read it to send to peers of other actors (sendToAll,
// a send to any peer id) without asking the main thread. The format field is also written by the
// actor that owns the peer, when the peer shows it speaks Godot's Variant format.
import type { PacketFormat } from './enums.js';

export const DIR_ROW = 4;
const DIR_PEER_ID = 0;
const DIR_CHANNELS = 1;
const DIR_FORMAT = 2;
const DIR_ACTOR = 3;

export interface DirectoryEntry {
  slot: number;
  peerId: number;
  channels: number;
  format: PacketFormat;
  actor: number;
}

export class PeerDirectory {
  private readonly rows: Int32Array;
  readonly slots: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.rows = new Int32Array(buffer);
    this.slots = this.rows.length / DIR_ROW;
  }

  static create(slots: number): PeerDirectory {
    return new PeerDirectory(new SharedArrayBuffer(slots * DIR_ROW * 4));
  }

  set(entry: DirectoryEntry): void {
    const at = entry.slot * DIR_ROW;
    Atomics.store(this.rows, at + DIR_CHANNELS, entry.channels);
    Atomics.store(this.rows, at + DIR_FORMAT, entry.format);
    Atomics.store(this.rows, at + DIR_ACTOR, entry.actor);
    Atomics.store(this.rows, at + DIR_PEER_ID, entry.peerId); // last: the row is whole once it names a peer
  }

  clear(slot: number, peerId: number): void {
    Atomics.compareExchange(this.rows, slot * DIR_ROW + DIR_PEER_ID, peerId, 0);
  }

  /** The peer's format as the directory has it, or `fallback` if the slot holds another peer. */
  format(slot: number, peerId: number, fallback: PacketFormat): PacketFormat {
    const at = slot * DIR_ROW;
    return Atomics.load(this.rows, at + DIR_PEER_ID) === peerId ? (Atomics.load(this.rows, at + DIR_FORMAT) as PacketFormat) : fallback;
  }

  setFormat(slot: number, peerId: number, format: PacketFormat): void {
    const at = slot * DIR_ROW;
    if (Atomics.load(this.rows, at + DIR_PEER_ID) === peerId) Atomics.store(this.rows, at + DIR_FORMAT, format);
  }

  /** The row of `peerId`, found by a scan (sends to peers of other actors are the rare case). */
  find(peerId: number): DirectoryEntry | undefined {
    for (let slot = 0; slot < this.slots; slot++) {
      if (Atomics.load(this.rows, slot * DIR_ROW + DIR_PEER_ID) === peerId) return this.entry(slot);
    }
    return undefined;
  }

  /** Every peer in the directory. */
  *entries(): Generator<DirectoryEntry> {
    for (let slot = 0; slot < this.slots; slot++) {
      if (Atomics.load(this.rows, slot * DIR_ROW + DIR_PEER_ID) !== 0) yield this.entry(slot);
    }
  }

  private entry(slot: number): DirectoryEntry {
    const at = slot * DIR_ROW;
    return {
      slot,
      peerId: Atomics.load(this.rows, at + DIR_PEER_ID),
      channels: Atomics.load(this.rows, at + DIR_CHANNELS),
      format: Atomics.load(this.rows, at + DIR_FORMAT) as PacketFormat,
      actor: Atomics.load(this.rows, at + DIR_ACTOR),
    };
  }
}
