// What a game actor is started with and the shared memory it reports through; used by the actor
// (worker.ts) and by its owner on the main thread (owner.ts).
import { deserialize, serialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import type { Err, PacketFormat } from '../wire/enums.js';
import type { CodecLimits } from '../wire/codec/index.js';
import type { ClusterCall } from '../cluster/encode.js';

export type { ClusterCall };

/** One shard as an actor sees it: its reactor, its host, and this actor's ring pair there. */
export interface ActorShard {
  reactorId: number;
  host: number;
  /** Net actor → this actor, this actor → net actor. */
  inbound: SharedArrayBuffer;
  outbound: SharedArrayBuffer;
  /** Every inbound ring of the reactor and its consumer's wake word (a pass run here may ring any). */
  allInbound: SharedArrayBuffer[];
  wakes: (SharedArrayBuffer | undefined)[];
  /** The host's stats table: a restored peer is kept only while its row still names it. */
  stats: SharedArrayBuffer;
}

/** The Piscina task of one actor incarnation. Everything shared is a SharedArrayBuffer. */
export interface ActorTask {
  actorId: number;
  /** file: URL of the game-logic module. */
  gameLogic: string;
  /** Indexed by shard id. */
  shards: ActorShard[];
  /** What this actor sleeps on: every shard rings it when one of its rings gets records. */
  wake: SharedArrayBuffer;
  control: SharedArrayBuffer;
  directory: SharedArrayBuffer;
  slotsPerShard: number;
  limits: CodecLimits & { maxPacketSize: number };
  /** The server's channels: a group send on a channel at or past it is ERR_INVALID_PARAMETER, as on the main thread. */
  maxChannels: number;
  /** Past this many bytes queued to a peer (its stats row), sends to it return ERR_BUSY. */
  maxQueuedBytesPerPeer: number;
  restartOnHandlerError: boolean;
  /** A replacement after a crash (its onStart throwing is reported, not fatal); false for the first start. */
  replacement: boolean;
  /** Attach views (encodeAttach) of the peers already placed on this actor: a replacement restores them. */
  peers: Uint8Array[];
  /** Messages to the supervisor (ActorMessage). */
  port: MessagePort;
}

export type ActorMessage =
  | { type: 'ready' }
  | { type: 'drained' }
  | { type: 'post'; message: unknown }
  | { type: 'handlerError'; handler: string; peerId: number; name: string; message: string; stack: string | undefined }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  | { type: 'cluster'; id: number; call: ClusterCall };

/** Supervisor → actor: the answer to a ClusterCall (`err`, or `error` for a rejection). */
export type SupervisorMessage = { type: 'clusterReply'; id: number; err?: Err; error?: { code: Err; message: string } };

// Control block: Int32 flags, then Float64 counters.
export const CONTROL_BYTES = 80;
/** Int32 slots. */
export const A_FAULT = 0; // 1: throw outside any handler (injectFault)
export const A_STOP = 1; // STOP_GOODBYE, then STOP_END
/** Drain the ring, run onPeerDisconnected("Server stopped") for every peer (they can still be sent to), post 'drained'. */
export const STOP_GOODBYE = 1;
/** Drain what is left and end the task. */
export const STOP_END = 2;
export const A_IN_HAND = 2; // shard + 1 while a record (the one at that shard's ring's READ) is being handled, else 0
/** Float64 slots (from byte 32). */
export const F_HANDLED = 0; // records handled
export const F_HANDLER_ERRORS = 1;
export const F_ACTIVE_MS = 2; // event-loop active time (eventLoopUtilization().active)
export const F_MALFORMED = 3;
/** Targets of this actor's group sends left out for maxQueuedBytesPerPeer (getMetrics().busySkipped). */
export const F_BUSY_SKIPPED = 4;
const F_SLOTS = 6;

export function controlViews(buffer: SharedArrayBuffer): { flags: Int32Array; counters: Float64Array } {
  return { flags: new Int32Array(buffer, 0, 8), counters: new Float64Array(buffer, 32, F_SLOTS) };
}

/** What an actor learns of a peer when it is placed there (IN_ATTACH's body). */
export interface AttachView {
  peerId: number;
  shard: number;
  slot: number;
  channels: number;
  format: PacketFormat;
  remoteAddress: string;
  remotePort: number;
  customData: unknown;
}

/** Structured clone (v8 serialization), so customData keeps Maps, Dates, typed arrays… */
export function encodeAttach(view: AttachView): Uint8Array {
  return serialize(view);
}

export function decodeAttach(bytes: Uint8Array): AttachView {
  return deserialize(bytes) as AttachView;
}
