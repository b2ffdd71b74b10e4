// Options of createServer(), with their defaults in one place.
import { PacketFormat } from '../shared/enums.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_RESTART_POLICY,
  DEFAULT_RING_BYTES,
} from '../shared/defaults.js';
import type { RestartPolicy } from '../shared/restart-policy.js';
import type { ResourceLimits } from 'node:worker_threads';
import type { ENetServerPeer } from './peer.js';

export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

export interface ServerOptions {
  /** Address to bind; default all IPv4 interfaces. */
  bindAddress?: string;
  /** Game-logic module (absolute path or file: URL) loaded in every game actor. */
  gameLogic?: string | URL;
  /** Game actors (threads of the pool); default `os.availableParallelism()`. */
  gameActors?: number;
  /** Which actor handles an authenticated peer (main thread, at authentication); default `peerId % gameActors`. */
  placePeer?: (peer: ENetServerPeer) => number;
  /** Each game actor's worker `resourceLimits` (e.g. `{ maxOldGenerationSizeMb: 256 }`). */
  actorResourceLimits?: ResourceLimits;
  /** Restart a game actor whose handler threw, instead of reporting it and keeping its state. */
  restartOnHandlerError?: boolean;
  /** How structured values are encoded for peers that have not shown their own format. */
  packetFormat?: PacketFormat;
  /** Largest packet, type byte included, in either direction. */
  maxPacketSize?: number;
  /** Deepest nesting a decoded or encoded value may have. */
  maxDepth?: number;
  /** Bytes of each ring between the net actor and the supervisor (rounded up to a power of two). */
  ringBytes?: number;
  /** How the net actor is restarted when its thread dies; unset fields take the defaults. */
  restartPolicy?: Partial<RestartPolicy>;
  /** Where malformed packets and handler errors are reported; default `console`. */
  logger?: Logger;
}

type ActorOptionNames = 'gameLogic' | 'gameActors' | 'placePeer' | 'actorResourceLimits';
export type ResolvedServerOptions = Required<Omit<ServerOptions, ActorOptionNames | 'restartPolicy'>> &
  Pick<ServerOptions, ActorOptionNames> & { restartPolicy: RestartPolicy };

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  return {
    bindAddress: options.bindAddress ?? '0.0.0.0',
    packetFormat: options.packetFormat ?? PacketFormat.MSGPACK,
    maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    ringBytes: options.ringBytes ?? DEFAULT_RING_BYTES,
    restartPolicy: { ...DEFAULT_RESTART_POLICY, ...options.restartPolicy },
    logger: options.logger ?? console,
    gameLogic: options.gameLogic,
    gameActors: options.gameActors,
    placePeer: options.placePeer,
    actorResourceLimits: options.actorResourceLimits,
    restartOnHandlerError: options.restartOnHandlerError ?? false,
  };
}
