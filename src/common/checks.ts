// Runs on any thread: the option checks the server and the client share — the ranges (LIMITS),
// the error that names the option at fault, and the checks of settings both have (poll rate,
// compression, packet format). The server's own schema is src/server-common/options.ts.
import { CompressionMode, Err, PacketFormat } from '../wire/enums.js';
import { ENetError } from '../wire/errors.js';
import { DEFAULT_PEER_TIMEOUT, ENET_MAX_CHANNELS, MAX_NET_ACTORS, SERVER_MAX_PEERS } from '../wire/defaults.js';
import type { PeerTimeout } from '../plumbing/native.js';
import { invalidCompressionMessage, isSupportedCompression } from '../wire/conventions.js';
import { MAX_RINGS } from '../wire/protocol.js';

export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

/** Ranges, for messages and the CLI's --help. */
export const LIMITS = Object.freeze({
  port: [0, 65535],
  maxPeers: [1, SERVER_MAX_PEERS],
  netActors: [1, MAX_NET_ACTORS],
  maxChannels: [1, ENET_MAX_CHANNELS],
  pollRate: [1, 1000],
  maxPacketSize: [16, 32 * 1024 * 1024],
  maxDepth: [1, 1024],
  ringBytes: [64 * 1024, 1024 * 1024 * 1024],
  gameActors: [1, MAX_RINGS - 1],
  /** Node's timers hold at most 2^31-1 ms: a longer timeout would fire at once. */
  authTimeout: [0, Math.floor((2 ** 31 - 1) / 1000)],
  clusterHeartbeatMs: [10, 60_000],
  clusterTtlMs: [20, 24 * 3600_000],
} as const);

/** An ENetError with ERR_INVALID_PARAMETER that names the option at fault. */
export class InvalidOptionError extends ENetError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(Err.ERR_INVALID_PARAMETER, message);
  }
}

export const invalid = (option: string, message: string): never => {
  throw new InvalidOptionError(option, message);
};

export const isInt = (n: unknown, min: number, max: number): n is number =>
  Number.isInteger(n) && (n as number) >= min && (n as number) <= max;

export function intIn(option: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (!isInt(value, min, max)) invalid(option, `${option} must be an integer ${min}–${max}, got ${String(value)}`);
  return value as number;
}

/** setPollRate: a number of ms, rounded and clamped to 1–1000 (the seed clamps too). */
export function checkPollRate(ms: unknown): number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) invalid('pollRate', `poll rate must be a number of ms, got ${String(ms)}`);
  const [min, max] = LIMITS.pollRate;
  return Math.max(min, Math.min(max, Math.round(ms as number)));
}

export function checkCompression(mode: unknown): CompressionMode {
  if (!isSupportedCompression(mode)) invalid('compression', invalidCompressionMessage(mode));
  return mode as CompressionMode;
}

export function checkPacketFormat(format: unknown): PacketFormat {
  if (format !== PacketFormat.MSGPACK && format !== PacketFormat.GODOT) invalid('packetFormat', `unknown packetFormat ${String(format)} (0 MSGPACK, 1 GODOT)`);
  return format as PacketFormat;
}

/**
 * `setTimeout(limit, minimumMs, maximumMs)` of a peer or a client: all three given, in
 * checkPeerTimeout's ranges; undefined otherwise (the caller answers ERR_INVALID_PARAMETER).
 */
export function peerTimeoutOf(limit: unknown, minimumMs: unknown, maximumMs: unknown): PeerTimeout | undefined {
  if (limit === undefined || minimumMs === undefined || maximumMs === undefined) return undefined;
  try {
    return checkPeerTimeout({ limit, minimumMs, maximumMs });
  } catch {
    return undefined;
  }
}

/** `peerTimeout`: ENet's timeout of every peer; limit 1–65535, 100 ms ≤ minimumMs ≤ maximumMs ≤ 24 h. */
export function checkPeerTimeout(value: unknown, option = 'peerTimeout'): PeerTimeout {
  const d = DEFAULT_PEER_TIMEOUT;
  if (value === undefined) return { ...d };
  if (value === null || typeof value !== 'object') return invalid(option, `${option} must be { limit, minimumMs, maximumMs }`);
  const given = value as Partial<PeerTimeout>;
  const maximumMs = intIn(`${option}.maximumMs`, given.maximumMs ?? Math.max(d.maximumMs, given.minimumMs ?? 0), [100, 24 * 3600_000]);
  const minimumMs = intIn(`${option}.minimumMs`, given.minimumMs ?? Math.min(d.minimumMs, maximumMs), [100, maximumMs]);
  return { limit: intIn(`${option}.limit`, given.limit ?? d.limit, [1, 65535]), minimumMs, maximumMs };
}
