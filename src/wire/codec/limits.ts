// Limits every encoder and decoder of the codec enforces, and the one error helper they share.

import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE } from '../defaults.js';
import { Err } from '../enums.js';
import { ENetError } from '../errors.js';

/** Bounds of one packet: its total size (type byte included) and the nesting depth of its value. */
export interface CodecLimits {
  /** Largest packet, type byte included, accepted or produced. */
  readonly maxPacketSize: number;
  /** Deepest nesting of containers (arrays, objects, maps, dictionaries). A scalar has depth 0, `[]` depth 1. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: CodecLimits = Object.freeze({
  maxPacketSize: DEFAULT_MAX_PACKET_SIZE,
  maxDepth: DEFAULT_MAX_DEPTH,
});

/**
 * Fills the missing fields of partial limits with the defaults and validates them. Allocation-free
 * for DEFAULT_LIMITS, undefined, and limits that are already complete and valid (returned as they are),
 * so hot paths may call it on every packet.
 */
export function resolveLimits(limits?: Partial<CodecLimits>): CodecLimits {
  if (limits === undefined || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS;
  const { maxPacketSize: size, maxDepth: depth } = limits;
  if (typeof size === 'number' && typeof depth === 'number' && size >= 1 && depth >= 1 &&
      Number.isInteger(size) && Number.isInteger(depth)) {
    return limits as CodecLimits;
  }
  const maxPacketSize = limits.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1) {
    throw new ENetError(Err.ERR_INVALID_PARAMETER, `maxPacketSize must be a positive integer, got ${maxPacketSize}`);
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new ENetError(Err.ERR_INVALID_PARAMETER, `maxDepth must be a positive integer, got ${maxDepth}`);
  }
  return { maxPacketSize, maxDepth };
}

/** The error of every malformed packet and every value that cannot be encoded. */
export function invalidData(message: string, cause?: unknown): ENetError {
  return cause === undefined
    ? new ENetError(Err.ERR_INVALID_DATA, message)
    : new ENetError(Err.ERR_INVALID_DATA, message, { cause });
}

/** Throws ERR_INVALID_DATA when a packet of `size` bytes (type byte included) exceeds the limit. */
export function checkPacketSize(size: number, limits: CodecLimits): void {
  if (size > limits.maxPacketSize) {
    throw invalidData(`packet of ${size} bytes exceeds the maximum packet size of ${limits.maxPacketSize} bytes`);
  }
}
