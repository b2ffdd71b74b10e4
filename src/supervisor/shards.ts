// Runs on the main thread: a server's shards. Each shard is one net actor (its link: worker, rings,
// reactor) owning one ENet host; several share the server's UDP port through SO_REUSEPORT (the
// kernel keeps a client's datagrams on one socket) and draw peer ids from one shared counter, so
// the supervisor above them sees one server.
import { NetActorLink, type NetActorLinkOptions } from '../net-actor/owner.js';
import { QueueBudget } from '../server-common/queue-budget.js';
import type { GuardOptions } from '../server-common/options.js';
import type { PeerTimeout } from '../plumbing/native.js';
import type { RecordHandler } from '../plumbing/ring.js';
import { createWakeWord } from '../plumbing/doorbells.js';

export interface Shard {
  readonly id: number;
  readonly link: NetActorLink;
  readonly host: number;
  /** The host's stats table: one row per slot (docs/protocol.md). */
  readonly stats: Uint32Array;
  /** Peer slots of the host. */
  readonly slots: number;
  /** The UDP port every shard is bound to. */
  readonly port: number;
  /** maxQueuedBytesPerPeer for the supervisor's own sends to this shard's peers. */
  readonly queueBudget: QueueBudget;
}

export interface ShardsOptions {
  count: number;
  slots: number;
  address: string;
  port: number;
  channels: number;
  compression: number;
  guard: GuardOptions;
  maxQueuedBytesPerPeer: number;
  /** Each session's outbox bound; 0: no sessions. */
  sessionOutboxBytes: number;
  peerTimeout: PeerTimeout;
  /** Game actors: each gets a ring pair on every shard, and one wake word for all of them. */
  gameActors: number;
  link: Omit<NetActorLinkOptions, 'onRecord' | 'onRestart' | 'onGiveUp' | 'actorWakes'>;
  onRecord(shard: Shard, bytes: Uint8Array, offset: number, length: number): void;
  onRestart(shard: number, reason: string): void;
  onGiveUp(error: Error): void;
}

/** Creates and starts every shard, the first on `port` (0: a free one) and the rest on the same port. */
export async function openShards(options: ShardsOptions): Promise<Shard[]> {
  const shards: Shard[] = [];
  // The last peer id handed out, shared by every host of the server (native adds to it atomically).
  // Every server has its own peer-id counter, shared by its shards: it also names the server in native's
  // process-wide parking map of sessions (several servers may run in one process).
  const peerIds = new SharedArrayBuffer(4);
  const actorWakes = Array.from({ length: options.gameActors }, createWakeWord);
  let port = options.port;
  try {
    for (let id = 0; id < options.count; id++) {
      let shard: Shard | undefined;
      const onRecord: RecordHandler = (bytes, offset, length) => options.onRecord(shard!, bytes, offset, length);
      const link = new NetActorLink({
        ...options.link,
        actorWakes,
        onRecord,
        onRestart: (reason) => options.onRestart(id, reason),
        onGiveUp: (error) => options.onGiveUp(error),
      });
      let created;
      try {
        created = link.createHost({
          address: options.address,
          port,
          peers: options.slots,
          channels: options.channels,
          compression: options.compression,
          guard: options.guard,
          reusePort: options.count > 1,
          sessionOutboxBytes: options.sessionOutboxBytes,
          peerTimeout: options.peerTimeout,
          peerIds,
        });
      } catch (error) {
        await link.close();
        throw error;
      }
      port = created.port;
      shard = {
        id,
        link,
        host: created.host,
        stats: created.stats,
        slots: options.slots,
        port: created.port,
        queueBudget: new QueueBudget(created.stats, options.maxQueuedBytesPerPeer),
      };
      shards.push(shard);
    }
  } catch (error) {
    await closeShards(shards);
    throw error;
  }
  for (const shard of shards) shard.link.start();
  return shards;
}

export async function closeShards(shards: readonly Shard[]): Promise<void> {
  await Promise.all(shards.map((shard) => shard.link.close()));
}
