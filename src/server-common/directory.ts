// The peer directory: one Int32 row per peer slot of every shard's host, in a SharedArrayBuffer
// (shard s's slots follow shard s-1's). The supervisor (main thread) writes a row when it routes an
// authenticated peer to a game actor and clears it when the peer is gone; game actors read it to
// send to peers of other actors (sendToAll, a send to any peer id) without asking the main thread.
// The format field is also written by the actor that owns the peer, when the peer shows it speaks
// Godot's Variant format.
import type { PacketFormat } from '../wire/enums.js';

export const DIR_ROW = 4;
const DIR_PEER_ID = 0;
const DIR_CHANNELS = 1;
const DIR_FORMAT = 2;
const DIR_ACTOR = 3;

export interface DirectoryEntry {
  shard: number;
  slot: number;
  peerId: number;
  channels: number;
  format: PacketFormat;
  actor: number;
}

export class PeerDirectory {
  private readonly rows: Int32Array;
  private readonly count: number;

  constructor(
    readonly buffer: SharedArrayBuffer,
    /** Slots of each shard's host. */
    readonly slotsPerShard: number,
  ) {
    this.rows = new Int32Array(buffer);
    this.count = this.rows.length / DIR_ROW;
  }

  static create(shards: number, slotsPerShard: number): PeerDirectory {
    return new PeerDirectory(new SharedArrayBuffer(shards * slotsPerShard * DIR_ROW * 4), slotsPerShard);
  }

  set(entry: DirectoryEntry): void {
    const at = this.at(entry.shard, entry.slot);
    Atomics.store(this.rows, at + DIR_CHANNELS, entry.channels);
    Atomics.store(this.rows, at + DIR_FORMAT, entry.format);
    Atomics.store(this.rows, at + DIR_ACTOR, entry.actor);
    Atomics.store(this.rows, at + DIR_PEER_ID, entry.peerId); // last: the row is whole once it names a peer
  }

  clear(shard: number, slot: number, peerId: number): void {
    Atomics.compareExchange(this.rows, this.at(shard, slot) + DIR_PEER_ID, peerId, 0);
  }

  /** The peer's format as the directory has it, or `fallback` if the slot holds another peer. */
  format(shard: number, slot: number, peerId: number, fallback: PacketFormat): PacketFormat {
    const at = this.at(shard, slot);
    return Atomics.load(this.rows, at + DIR_PEER_ID) === peerId ? (Atomics.load(this.rows, at + DIR_FORMAT) as PacketFormat) : fallback;
  }

  setFormat(shard: number, slot: number, peerId: number, format: PacketFormat): void {
    const at = this.at(shard, slot);
    if (Atomics.load(this.rows, at + DIR_PEER_ID) === peerId) Atomics.store(this.rows, at + DIR_FORMAT, format);
  }

  /** The row of `peerId`, found by a scan (sends to peers of other actors are the rare case). */
  find(peerId: number): DirectoryEntry | undefined {
    for (let row = 0; row < this.count; row++) {
      if (Atomics.load(this.rows, row * DIR_ROW + DIR_PEER_ID) === peerId) return this.entry(row);
    }
    return undefined;
  }

  /** Every peer in the directory. */
  *entries(): Generator<DirectoryEntry> {
    for (let row = 0; row < this.count; row++) {
      if (Atomics.load(this.rows, row * DIR_ROW + DIR_PEER_ID) !== 0) yield this.entry(row);
    }
  }

  private at(shard: number, slot: number): number {
    return (shard * this.slotsPerShard + slot) * DIR_ROW;
  }

  private entry(row: number): DirectoryEntry {
    const at = row * DIR_ROW;
    return {
      shard: Math.floor(row / this.slotsPerShard),
      slot: row % this.slotsPerShard,
      peerId: Atomics.load(this.rows, at + DIR_PEER_ID),
      channels: Atomics.load(this.rows, at + DIR_CHANNELS),
      format: Atomics.load(this.rows, at + DIR_FORMAT) as PacketFormat,
      actor: Atomics.load(this.rows, at + DIR_ACTOR),
    };
  }
}
