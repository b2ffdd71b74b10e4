// MSGPACK (6) bodies: the project's one msgpackr configuration. Plain, interoperable msgpack:
// no records, no structured-clone references, no msgpackr-only extension types; maps decode as
// plain objects; 64-bit integers decode as numbers when exact, else as bigint; Uint8Array /
// Buffer are `bin`; undefined is written as nil.

import { Packr, RESERVE_START_SPACE, type Options } from 'msgpackr';
import { PacketType } from '../enums.js';
import { mayNeedMsgpackScan, scanMsgpack } from './depth.js';
import { checkPacketSize, invalidData, type CodecLimits } from './limits.js';
import { assertEncodable } from './validate.js';

const options = {
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  encodeUndefinedAsNil: true,
  variableMapSize: true,
  // 'auto' (supported by msgpackr 2, missing from its typings): numbers up to ±2^53, bigint beyond.
  int64AsType: 'auto',
} as unknown as Options;

/** The single Packr (which is also the Unpackr) of the process. Not re-entrant-sensitive: msgpackr saves its state. */
export const packr = new Packr(options);

/** Reserve one byte in front of the msgpack output for the type byte (no copy). */
const RESERVE_TYPE_BYTE = RESERVE_START_SPACE | 1;

/**
 * `[6, msgpack(value)]`. The result may be a view of a larger buffer shared with other packets
 * (as with Buffer.allocUnsafe's pool): never transfer its ArrayBuffer to another thread.
 */
export function encodeMsgpackPacket(value: unknown, limits: CodecLimits): Buffer {
  assertEncodable(value, limits);
  let out: Buffer;
  try {
    out = packr.pack(value, RESERVE_TYPE_BYTE);
  } catch (error) {
    throw invalidData(`cannot encode the value as msgpack: ${(error as Error)?.message ?? error}`, error);
  }
  out[0] = PacketType.MSGPACK;
  checkPacketSize(out.length, limits);
  return out;
}

/** Decodes the msgpack value in `bytes[start..]` (exactly one value, nothing after it). */
export function decodeMsgpackBody(bytes: Uint8Array, start: number, limits: CodecLimits): unknown {
  const end = bytes.length;
  if (start >= end) throw invalidData('msgpack packet has no body');
  // Depth ≤ length: only a body longer than maxDepth can nest too deep. A short body is still
  // scanned when it might hold an extension or 0xc1, so those are refused at any length.
  if (end - start > limits.maxDepth || mayNeedMsgpackScan(bytes, start, end)) {
    scanMsgpack(bytes, start, end, limits.maxDepth);
  }
  try {
    return packr.unpack(start === 0 ? bytes : bytes.subarray(start));
  } catch (error) {
    throw invalidData(`malformed msgpack: ${(error as Error)?.message ?? error}`, error);
  }
}
