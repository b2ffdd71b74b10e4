// Conventions on the wire that both our server and our client rely on.
import { CompressionMode } from './enums.js';

/**
 * ENet carries only a u32 with a disconnect. A server-initiated disconnect sends this value, and,
 * when it has a reason, a reliable custom event of this name with `{ reason }` just before it.
 */
export const DISCONNECT_DATA_BY_SERVER = 1;
export const DISCONNECT_REASON_EVENT = '_disconnect_reason';
/** peer.redirect(): a reliable custom event with `{ address, port, reason }` just before the disconnect. */
export const REDIRECT_EVENT = '_redirect';

/**
 * A valid `CompressionMode`: an integer number 0..4 (none, range coder, FastLZ, zlib, zstd), all
 * implemented by the native layer (native/src/compress.cc), wire-compatible with Godot's modes.
 */
export function isSupportedCompression(mode: unknown): mode is CompressionMode {
  return typeof mode === 'number' && Number.isInteger(mode) && mode >= CompressionMode.COMPRESS_NONE && mode <= CompressionMode.COMPRESS_ZSTD;
}

/** The error for a value that is not a `CompressionMode`. */
export function invalidCompressionMessage(mode: unknown): string {
  const shown = typeof mode === 'string' ? `'${mode}'` : String(mode);
  return `compression mode ${shown} is not a CompressionMode (0 COMPRESS_NONE, 1 COMPRESS_RANGE_CODER, 2 COMPRESS_FASTLZ, 3 COMPRESS_ZLIB, 4 COMPRESS_ZSTD)`;
}

/** The names the CLIs accept for each CompressionMode (enet-server --compression, enet-loadtest --compression). */
export const COMPRESSION_NAMES: Readonly<Record<string, CompressionMode>> = Object.freeze({
  none: CompressionMode.COMPRESS_NONE,
  'range-coder': CompressionMode.COMPRESS_RANGE_CODER,
  fastlz: CompressionMode.COMPRESS_FASTLZ,
  zlib: CompressionMode.COMPRESS_ZLIB,
  zstd: CompressionMode.COMPRESS_ZSTD,
});

/** Sessions (docs/protocol.md "Sessions"): the approval with its token, a resume request and its answer. */
export const SESSION_EVENT = '_session';
export const RESUME_EVENT = '_resume';
export const RESUMED_EVENT = '_resumed';
/** The reason a resume is refused with (and a held seat ends with, to its new connection). */
export const SESSION_EXPIRED = 'Session expired';
