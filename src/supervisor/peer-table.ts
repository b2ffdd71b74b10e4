// Runs on the main thread: the server's peers by id, and the questions asked of them (who is
// authenticated, who is live, how many per shard or per game actor).
import { ConnectionState } from '../wire/enums.js';
import type { ENetServerPeer } from './peer.js';

export class PeerTable {
  private readonly peers = new Map<number, ENetServerPeer>();
  private whenEmpty: (() => void) | undefined;

  get size(): number {
    return this.peers.size;
  }

  get(peerId: number): ENetServerPeer | undefined {
    return this.peers.get(peerId);
  }

  values(): IterableIterator<ENetServerPeer> {
    return this.peers.values();
  }

  add(peer: ENetServerPeer): void {
    this.peers.set(peer.peerId, peer);
  }

  /** False when this peer object is no longer the one under its id. */
  delete(peer: ENetServerPeer): boolean {
    if (this.peers.get(peer.peerId) !== peer) return false;
    this.peers.delete(peer.peerId);
    if (this.peers.size === 0) this.whenEmpty?.();
    return true;
  }

  /** In the table and not being disconnected: it can still be sent to. */
  isLive(peer: ENetServerPeer): boolean {
    return this.peers.get(peer.peerId) === peer && peer.state !== ConnectionState.STATE_DISCONNECTING;
  }

  /** The live peer with this id, or undefined. */
  live(peerId: number): ENetServerPeer | undefined {
    const peer = this.peers.get(peerId);
    return peer && peer.state !== ConnectionState.STATE_DISCONNECTING ? peer : undefined;
  }

  authenticatedCount(): number {
    let count = 0;
    for (const peer of this.peers.values()) if (peer.state === ConnectionState.STATE_AUTHENTICATED) count++;
    return count;
  }

  /** Every authenticated peer but the excluded ids. */
  authenticated(exclude: readonly number[] = []): ENetServerPeer[] {
    const excluded = exclude.length > 0 ? new Set(exclude) : undefined;
    const result: ENetServerPeer[] = [];
    for (const peer of this.peers.values()) {
      if (peer.state === ConnectionState.STATE_AUTHENTICATED && !excluded?.has(peer.peerId)) result.push(peer);
    }
    return result;
  }

  countPerShard(shards: number): number[] {
    const counts = new Array<number>(shards).fill(0);
    for (const peer of this.peers.values()) counts[peer.shard]++;
    return counts;
  }

  /** Seats held for a resume now. */
  droppedCount(): number {
    let count = 0;
    for (const peer of this.peers.values()) if (peer.dropped) count++;
    return count;
  }

  countOnActor(actor: number): number {
    let count = 0;
    for (const peer of this.peers.values()) if (peer.actor === actor) count++;
    return count;
  }

  /** Resolves when the table is empty, or after `ms`. */
  async emptied(ms: number): Promise<void> {
    if (this.peers.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.whenEmpty = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.whenEmpty = undefined;
  }
}
