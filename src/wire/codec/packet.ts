// Packets as on the wire: first byte = PacketType, then the body. The building blocks the server
// uses on its hot path; ENetPacketUtils (utils.ts) wraps them with the default limits.

import { Err, PacketFormat, PacketType } from '../enums.js';
import { ENetError } from '../errors.js';
import { scanJsonDepth, scanJsonTextDepth } from './depth.js';
import { checkPacketSize, DEFAULT_LIMITS, invalidData, resolveLimits, type CodecLimits } from './limits.js';
import { decodeMsgpackBody, encodeMsgpackPacket } from './msgpack.js';
import { buildNodeState, toGodotNodeState, type NetworkNode } from './node-state.js';
import { decodeUtf8, encodeTextPacket, textBody } from './text.js';
import { decodeVariantBody, encodeVariantPacket } from './variant.js';

const TYPE_NAMES = ['RAW', 'VARIANT', 'DICTIONARY', 'JSON', 'STRING', 'NODE', 'MSGPACK'];

function typeName(type: number | undefined): string {
  return type === undefined ? 'none' : (TYPE_NAMES[type] ?? `unknown (${type})`);
}

/** The bytes of a packet as a Uint8Array (ArrayBuffer accepted), checked against maxPacketSize. */
function packetBytes(bytes: Uint8Array | ArrayBuffer, limits: CodecLimits): Uint8Array {
  let view: Uint8Array;
  if (bytes instanceof Uint8Array) view = bytes;
  else if (bytes instanceof ArrayBuffer) view = new Uint8Array(bytes);
  else throw invalidData(`a packet must be a Uint8Array or Buffer, got ${bytes === null ? 'null' : typeof bytes}`);
  if (view.length === 0) throw invalidData('empty packet');
  checkPacketSize(view.length, limits);
  return view;
}

function expectType(bytes: Uint8Array, ...types: number[]): void {
  if (!types.includes(bytes[0]!)) {
    throw invalidData(`expected a ${types.map(typeName).join(' or ')} packet, got ${typeName(bytes[0])}`);
  }
}

function isDictionary(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (value instanceof Map) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** `[0, ...bytes]` (a copy). */
export function encodeRaw(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  limits = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) throw invalidData('a RAW packet body must be a Uint8Array or Buffer');
  checkPacketSize(bytes.length + 1, limits);
  const out = Buffer.allocUnsafe(bytes.length + 1);
  out[0] = PacketType.RAW;
  out.set(bytes, 1);
  return out;
}

/** `[4, u32 LE byte length, UTF-8]`. */
export function encodeString(text: string, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  limits = resolveLimits(limits);
  if (typeof text !== 'string') throw invalidData(`a STRING packet needs a string, got ${typeof text}`);
  return encodeTextPacket(PacketType.STRING, text, limits);
}

/**
 * `[3, u32 LE byte length, UTF-8 JSON]`. A string is sent as it is (it is meant to be JSON text);
 * any other value is JSON.stringify'd (functions, symbols, undefined, bigints and circular
 * structures cannot be: ERR_INVALID_DATA). Nesting deeper than maxDepth is ERR_INVALID_DATA.
 */
export function encodeJson(textOrValue: unknown, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  limits = resolveLimits(limits);
  let text: string | undefined;
  if (typeof textOrValue === 'string') {
    text = textOrValue;
  } else {
    try {
      text = JSON.stringify(textOrValue);
    } catch (error) {
      throw invalidData(`cannot encode the value as JSON: ${(error as Error)?.message ?? error}`, error);
    }
    if (text === undefined) throw invalidData(`cannot encode ${typeof textOrValue} as JSON`);
  }
  if (text.length > limits.maxDepth) scanJsonTextDepth(text, limits.maxDepth);
  return encodeTextPacket(PacketType.JSON, text, limits);
}

/** `[6, msgpack(value)]`. */
export function encodeMsgpack(value: unknown, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  return encodeMsgpackPacket(value, resolveLimits(limits));
}

/** `[1, var_to_bytes(value)]`. */
export function encodeVariant(value: unknown, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  return encodeVariantPacket(PacketType.VARIANT, value, resolveLimits(limits));
}

/** `[2, var_to_bytes(dictionary)]`: `obj` must be a plain object or a Map. */
export function encodeDictionary(obj: unknown, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  if (!isDictionary(obj)) throw invalidData('a DICTIONARY packet needs a plain object or a Map');
  return encodeVariantPacket(PacketType.DICTIONARY, obj, resolveLimits(limits));
}

/**
 * A node's state as a NODE packet (type 5): the buildNodeState dictionary as a Godot Variant,
 * with Godot types for position/rotation/scale/transform (see toGodotNodeState).
 */
export function encodeNode(node: NetworkNode, flags: number, limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  return encodeVariantPacket(PacketType.NODE, toGodotNodeState(buildNodeState(node, flags)), resolveLimits(limits));
}

/**
 * The packet for any value: Buffer/Uint8Array → RAW, string → STRING, anything else → MSGPACK,
 * or VARIANT when `format` is PacketFormat.GODOT. Throws ENetError ERR_INVALID_DATA for what
 * cannot be encoded or would exceed the limits.
 */
export function encodePacket(value: unknown, format: PacketFormat = PacketFormat.MSGPACK,
  limits: CodecLimits = DEFAULT_LIMITS): Buffer {
  limits = resolveLimits(limits);
  if (typeof value === 'string') return encodeTextPacket(PacketType.STRING, value, limits);
  if (value instanceof Uint8Array) return encodeRaw(value, limits);
  if (format === PacketFormat.MSGPACK) return encodeMsgpackPacket(value, limits);
  if (format === PacketFormat.GODOT) return encodeVariantPacket(PacketType.VARIANT, value, limits);
  throw new ENetError(Err.ERR_INVALID_PARAMETER, `unknown packet format ${String(format)}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * The value of any packet. RAW → the bytes after the type byte (a view of the input, not a copy);
 * STRING → the string; JSON → the parsed value, or the text when it does not parse; MSGPACK →
 * the value; VARIANT/DICTIONARY/NODE → the Variant. Throws ENetError ERR_INVALID_DATA on malformed
 * input (ERR_UNAVAILABLE for Variant types until the Godot codec exists).
 */
export function decodePacket(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): unknown {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  switch (view[0]) {
    case PacketType.RAW: return view.subarray(1);
    case PacketType.STRING: return decodeUtf8(textBody(view, 'STRING'), 'STRING packet');
    case PacketType.JSON: return decodeJsonBody(view, limits);
    case PacketType.MSGPACK: return decodeMsgpackBody(view, 1, limits);
    case PacketType.VARIANT:
    case PacketType.DICTIONARY:
    case PacketType.NODE:
      return decodeVariantBody(view, 1, limits);
    default:
      throw invalidData(`unknown packet type ${view[0]}`);
  }
}

function decodeJsonBody(view: Uint8Array, limits: CodecLimits): unknown {
  const body = textBody(view, 'JSON');
  if (body.length > limits.maxDepth) scanJsonDepth(body, 0, body.length, limits.maxDepth);
  const text = decodeUtf8(body, 'JSON packet');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The bytes of a RAW packet (a view of the input). */
export function decodeRaw(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): Uint8Array {
  const view = packetBytes(bytes, resolveLimits(limits));
  expectType(view, PacketType.RAW);
  return view.subarray(1);
}

/** The text of a STRING packet. */
export function decodeString(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): string {
  const view = packetBytes(bytes, resolveLimits(limits));
  expectType(view, PacketType.STRING);
  return decodeUtf8(textBody(view, 'STRING'), 'STRING packet');
}

/** The value of a JSON packet (the text itself when it is not valid JSON). */
export function decodeJson(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): unknown {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  expectType(view, PacketType.JSON);
  return decodeJsonBody(view, limits);
}

/** The value of a MSGPACK packet. */
export function decodeMsgpack(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): unknown {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  expectType(view, PacketType.MSGPACK);
  return decodeMsgpackBody(view, 1, limits);
}

/** The Variant of a VARIANT, DICTIONARY or NODE packet. */
export function decodeVariant(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): unknown {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  expectType(view, PacketType.VARIANT, PacketType.DICTIONARY, PacketType.NODE);
  return decodeVariantBody(view, 1, limits);
}

/** The dictionary of a DICTIONARY (or VARIANT) packet; anything but a dictionary is ERR_INVALID_DATA. */
export function decodeDictionary(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): Record<string, unknown> | Map<unknown, unknown> {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  expectType(view, PacketType.DICTIONARY, PacketType.VARIANT);
  const value = decodeVariantBody(view, 1, limits);
  if (!isDictionary(value)) throw invalidData('the packet does not hold a dictionary');
  return value as Record<string, unknown> | Map<unknown, unknown>;
}

/** The node-state dictionary of a NODE packet (a MSGPACK packet holding such a dictionary is accepted too). */
export function decodeNodeMetadata(bytes: Uint8Array, limits: CodecLimits = DEFAULT_LIMITS): Record<string, unknown> | Map<unknown, unknown> {
  limits = resolveLimits(limits);
  const view = packetBytes(bytes, limits);
  expectType(view, PacketType.NODE, PacketType.MSGPACK);
  const value = view[0] === PacketType.NODE ? decodeVariantBody(view, 1, limits) : decodeMsgpackBody(view, 1, limits);
  if (!isDictionary(value)) throw invalidData('the packet does not hold a node-state dictionary');
  return value as Record<string, unknown> | Map<unknown, unknown>;
}
