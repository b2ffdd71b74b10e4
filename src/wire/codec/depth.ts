// Structural pre-scans that bound the nesting depth of a body WITHOUT recursion, so a hostile
// 1 MB packet of nested arrays costs one linear pass and a clean ERR_INVALID_DATA instead of a
// stack overflow inside a recursive decoder. Every container needs at least one byte, so the
// depth of a body never exceeds its length: callers only scan bodies longer than maxDepth.

import { invalidData } from './limits.js';

/** Values still to read at each open nesting level; grown on demand, never per packet. */
let pending = new Float64Array(256);

function pendingFor(maxDepth: number): Float64Array {
  if (pending.length < maxDepth + 2) pending = new Float64Array(maxDepth + 2);
  return pending;
}

function tooDeep(maxDepth: number) {
  return invalidData(`value nests deeper than the limit of ${maxDepth} levels`);
}

function truncated() {
  return invalidData('msgpack data is truncated');
}

/**
 * Walks exactly one msgpack value in `bytes[start, end)` iteratively and checks that:
 * it is complete, it fills the range exactly (no trailing bytes), it nests at most maxDepth
 * containers deep, every container count fits in the bytes left, and it only uses standard
 * msgpack. Of the extension types only -1 (timestamp) and 0 (undefined) are allowed: msgpackr's
 * own extensions (records, structured-clone references, bundled strings, Set/Error/RegExp
 * wrappers that read nested values outside their payload) are not plain msgpack, and some of
 * them would nest values where this scan could not see them.
 */
export function scanMsgpack(bytes: Uint8Array, start: number, end: number, maxDepth: number): void {
  const stack = pendingFor(maxDepth);
  let pos = start;
  let depth = 0;
  stack[0] = 1;
  for (;;) {
    while (stack[depth] === 0) {
      if (depth === 0) {
        if (pos !== end) throw invalidData(`${end - pos} unexpected bytes after the msgpack value`);
        return;
      }
      depth--;
    }
    stack[depth]!--;
    if (pos >= end) throw truncated();
    const token = bytes[pos++]!;
    if (token < 0x80 || token >= 0xe0) continue; // positive / negative fixint
    let count = -1; // > -1: a container with that many values follows
    let skip = 0; // payload bytes to skip
    if (token < 0x90) {
      count = (token & 0x0f) * 2; // fixmap
    } else if (token < 0xa0) {
      count = token & 0x0f; // fixarray
    } else if (token < 0xc0) {
      skip = token & 0x1f; // fixstr
    } else {
      switch (token) {
        case 0xc0: case 0xc2: case 0xc3: continue; // nil, false, true
        case 0xc1: throw invalidData('msgpack token 0xc1 is never used');
        case 0xc4: case 0xd9: // bin 8, str 8
          if (pos + 1 > end) throw truncated();
          skip = bytes[pos]!; pos += 1; break;
        case 0xc5: case 0xda: // bin 16, str 16
          if (pos + 2 > end) throw truncated();
          skip = (bytes[pos]! << 8) | bytes[pos + 1]!; pos += 2; break;
        case 0xc6: case 0xdb: // bin 32, str 32
          if (pos + 4 > end) throw truncated();
          skip = ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0;
          pos += 4; break;
        case 0xc7: case 0xc8: case 0xc9: { // ext 8 / 16 / 32: length, type, data
          const width = token === 0xc7 ? 1 : token === 0xc8 ? 2 : 4;
          if (pos + width + 1 > end) throw truncated();
          let length = 0;
          for (let i = 0; i < width; i++) length = length * 256 + bytes[pos + i]!;
          pos += width;
          checkExtType(bytes[pos]!);
          skip = 1 + length;
          break;
        }
        case 0xca: case 0xce: case 0xd2: skip = 4; break; // float 32, uint 32, int 32
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break; // float 64, uint 64, int 64
        case 0xcc: case 0xd0: skip = 1; break; // uint 8, int 8
        case 0xcd: case 0xd1: skip = 2; break; // uint 16, int 16
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: // fixext 1 / 2 / 4 / 8 / 16
          if (pos + 1 > end) throw truncated();
          checkExtType(bytes[pos]!);
          skip = 1 + (1 << (token - 0xd4));
          break;
        case 0xdc: case 0xde: // array 16, map 16
          if (pos + 2 > end) throw truncated();
          count = (bytes[pos]! << 8) | bytes[pos + 1]!;
          pos += 2;
          if (token === 0xde) count *= 2;
          break;
        default: // 0xdd array 32, 0xdf map 32
          if (pos + 4 > end) throw truncated();
          count = ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>> 0;
          pos += 4;
          if (token === 0xdf) count *= 2;
          break;
      }
    }
    if (count >= 0) {
      if (depth + 1 > maxDepth) throw tooDeep(maxDepth);
      // Every value takes at least one byte: a count beyond the bytes left can never be satisfied.
      if (count > end - pos) throw truncated();
      if (count > 0) stack[++depth] = count;
    } else if (skip > end - pos) {
      throw truncated();
    } else {
      pos += skip;
    }
  }
}

function checkExtType(type: number): void {
  if (type !== 0xff && type !== 0x00) {
    const signed = type > 127 ? type - 256 : type;
    throw invalidData(`msgpack extension type ${signed} is not accepted (only -1 timestamp and 0 undefined)`);
  }
}

/**
 * True when some byte of the range could be a token the full scan refuses (an extension header or
 * 0xc1, which msgpackr would turn into a placeholder object): a cheap superset test for short bodies.
 */
export function mayNeedMsgpackScan(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8) || b === 0xc1) return true;
  }
  return false;
}

/**
 * Nesting depth check of UTF-8 JSON text (bytes), respecting strings and escapes. `[`/`{` open,
 * `]`/`}` close; brackets inside strings do not count. UTF-8 multi-byte sequences never contain
 * ASCII bytes, so scanning bytes is exact. Only checks depth, not validity.
 */
export function scanJsonDepth(bytes: Uint8Array, start: number, end: number, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if ((b === 0x5d || b === 0x7d) && depth > 0) {
      depth--;
    }
  }
}

/** The same scan over a JS string (used on the encode side, before the text is converted to bytes). */
export function scanJsonTextDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
}
