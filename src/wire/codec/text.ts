// UTF-8 text bodies: STRING (4) and JSON (3) are `u32 little-endian byte length` + UTF-8.

import { invalidData, type CodecLimits } from './limits.js';

/**
 * One strict decoder for the whole process: invalid UTF-8 throws instead of becoming U+FFFD, and a
 * leading U+FEFF is kept as text (the default would silently strip it as a byte-order mark).
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes before the text in a STRING/JSON packet: type byte + u32 length. */
export const TEXT_HEADER_SIZE = 5;

/** Reads a u32 little-endian without a DataView. */
export function readU32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

/** Writes a u32 little-endian without a DataView. */
export function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** `[type, u32 LE byte length, UTF-8 bytes]`, checked against maxPacketSize before the big allocation. */
export function encodeTextPacket(type: number, text: string, limits: CodecLimits): Buffer {
  // A JS string of n UTF-16 units takes at least n UTF-8 bytes: reject the hopeless case before measuring.
  if (TEXT_HEADER_SIZE + text.length > limits.maxPacketSize) {
    throw invalidData(`a text of ${text.length} characters exceeds the maximum packet size of ${limits.maxPacketSize} bytes`);
  }
  const byteLength = Buffer.byteLength(text, 'utf8');
  const size = TEXT_HEADER_SIZE + byteLength;
  if (size > limits.maxPacketSize) {
    throw invalidData(`packet of ${size} bytes exceeds the maximum packet size of ${limits.maxPacketSize} bytes`);
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = type;
  writeU32LE(out, 1, byteLength);
  if (byteLength > 0) out.write(text, TEXT_HEADER_SIZE, byteLength, 'utf8');
  return out;
}

/**
 * Checks the length prefix of a STRING/JSON packet (it must cover exactly the rest of the packet)
 * and returns the UTF-8 body as a view.
 */
export function textBody(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length < TEXT_HEADER_SIZE) {
    throw invalidData(`${what} packet of ${bytes.length} bytes is shorter than its 5-byte header`);
  }
  const declared = readU32LE(bytes, 1);
  const actual = bytes.length - TEXT_HEADER_SIZE;
  if (declared !== actual) {
    throw invalidData(`${what} packet declares ${declared} bytes of text but carries ${actual}`);
  }
  return bytes.subarray(TEXT_HEADER_SIZE);
}

/** Strict UTF-8 decoding: invalid sequences are ERR_INVALID_DATA. */
export function decodeUtf8(body: Uint8Array, what: string): string {
  if (body.length === 0) return '';
  try {
    return strictUtf8.decode(body);
  } catch (error) {
    throw invalidData(`${what} is not valid UTF-8`, error);
  }
}
