// Runs on the main thread: what the parts of a running server share (src/supervisor/server.ts is
// the front; admission.ts, inbound.ts, game-bridge.ts, metrics.ts and fleet.ts are its parts). The
// front owns one ServerCore and hands it to each part; the parts never import the front.
import type { Shard } from './shards.js';
import type { GameActors } from '../game-actor/owner.js';
import type { PeerDirectory } from '../server-common/directory.js';
import type { CodecLimits } from '../wire/codec/index.js';
import type { SendEngine } from '../common/send-engine.js';
import type { ErrorReporter } from '../common/error-reporter.js';
import type { ResolvedServerOptions } from './options.js';
import type { ServerEvents } from './events.js';
import type { ENetServerPeer } from './peer.js';
import type { PeerTable } from './peer-table.js';
import type { Sessions } from './sessions.js';

/** A server between createServer() and the end of stopServer(). */
export interface Running {
  /** One per net actor (ENet host); peers are on exactly one. */
  shards: Shard[];
  port: number;
  maxPeers: number;
  maxChannels: number;
  options: ResolvedServerOptions;
  limits: CodecLimits & { maxPacketSize: number };
  /** The main thread's send engine (src/common/send-engine.ts) over every shard. */
  engine: SendEngine;
  /** Game actors, when options.gameLogic is set. */
  actors: GameActors | undefined;
  directory: PeerDirectory | undefined;
}

export interface ServerCore {
  readonly running: Running | undefined;
  readonly peers: PeerTable;
  readonly errors: ErrorReporter;
  readonly sessions: Sessions;
  /** Emits without letting an application listener's exception reach the inbound pump. */
  emit<K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]): void;
  /** Disconnects a peer with a reason (the kick path); DISCONNECT_LATER or DISCONNECT_NOW. */
  disconnect(peer: ENetServerPeer, reason: string, mode: number): void;
  /** The peer is gone (its IN_DISCONNECT, or set aside): 'peerDisconnected'. */
  removePeer(peer: ENetServerPeer, reason: string): void;
  /** Bytes to one live peer through the engine (ERR_INVALID_PARAMETER when it is gone or leaving). */
  sendBytes(peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): number;
  /** A routed peer's format as its actor last saw it. */
  formatOf(peer: ENetServerPeer): number;
}
