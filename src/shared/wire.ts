// Conventions on the wire that both our server and our client rely on.
import { CompressionMode } from './enums.js';

/**
 * ENet carries only a u32 with a disconnect. A server-initiated disconnect sends this value, and,
 * when it has a reason, a reliable custom event of this name with `{ reason }` just before it.
 */
export const DISCONNECT_DATA_BY_SERVER = 1;
export const DISCONNECT_REASON_EVENT = '_disconnect_reason';

/** Compression modes the native layer implements today. */
export function isSupportedCompression(mode: unknown): mode is CompressionMode {
  return mode === CompressionMode.COMPRESS_NONE || mode === CompressionMode.COMPRESS_RANGE_CODER;
}
