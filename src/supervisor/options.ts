// Options of createServer(), with their defaults in one place.
import { PacketFormat } from '../shared/enums.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_RESTART_POLICY,
  DEFAULT_RING_BYTES,
} from '../shared/defaults.js';
import type { RestartPolicy } from '../shared/restart-policy.js';

export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

export interface ServerOptions {
  /** Address to bind; default all IPv4 interfaces. */
  bindAddress?: string;
  /** Game-logic module for game actors (the actors issue). Not supported yet. */
  gameLogic?: string;
  gameActors?: number;
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

export type ResolvedServerOptions = Required<Omit<ServerOptions, 'gameLogic' | 'gameActors' | 'restartPolicy'>> &
  Pick<ServerOptions, 'gameLogic' | 'gameActors'> & { restartPolicy: RestartPolicy };

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
  };
}
