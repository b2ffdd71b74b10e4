// ENetPacketUtils: the reference's packet utilities, as a plain object of functions working with
// the default limits. Every encoder returns the packet with its type byte, as on the wire.

import { PacketFormat } from '../enums.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { NetworkNode } from './node-state.js';
import {
  decodeDictionary, decodeJson, decodeNodeMetadata, decodePacket, decodeString, decodeVariant,
  encodeDictionary, encodeJson, encodeMsgpack, encodeNode, encodePacket, encodeString, encodeVariant,
} from './packet.js';
import { bytesToVar, varToBytes } from './variant.js';

export const ENetPacketUtils = Object.freeze({
  /** Buffer/Uint8Array → RAW, string → STRING, anything else → MSGPACK (or VARIANT with PacketFormat.GODOT). */
  encodeAuto(value: unknown, format: PacketFormat = PacketFormat.MSGPACK): Uint8Array {
    return encodePacket(value, format, DEFAULT_LIMITS);
  },
  /** The value of any packet; ENetError ERR_INVALID_DATA on malformed input. */
  decodeAuto(bytes: Uint8Array): unknown {
    return decodePacket(bytes, DEFAULT_LIMITS);
  },
  encodeVariant(value: unknown): Uint8Array {
    return encodeVariant(value, DEFAULT_LIMITS);
  },
  decodeVariant(bytes: Uint8Array): unknown {
    return decodeVariant(bytes, DEFAULT_LIMITS);
  },
  encodeDictionary(obj: Record<string, unknown> | Map<unknown, unknown>): Uint8Array {
    return encodeDictionary(obj, DEFAULT_LIMITS);
  },
  decodeDictionary(bytes: Uint8Array): Record<string, unknown> | Map<unknown, unknown> {
    return decodeDictionary(bytes, DEFAULT_LIMITS);
  },
  /** A string is sent as it is; any other value is JSON.stringify'd. */
  encodeJson(textOrValue: unknown): Uint8Array {
    return encodeJson(textOrValue, DEFAULT_LIMITS);
  },
  decodeJson(bytes: Uint8Array): unknown {
    return decodeJson(bytes, DEFAULT_LIMITS);
  },
  encodeString(text: string): Uint8Array {
    return encodeString(text, DEFAULT_LIMITS);
  },
  decodeString(bytes: Uint8Array): string {
    return decodeString(bytes, DEFAULT_LIMITS);
  },
  encodeNode(node: NetworkNode, flags: number): Uint8Array {
    return encodeNode(node, flags, DEFAULT_LIMITS);
  },
  decodeNodeMetadata(bytes: Uint8Array): Record<string, unknown> | Map<unknown, unknown> {
    return decodeNodeMetadata(bytes, DEFAULT_LIMITS);
  },
  encodeMsgpack(value: unknown): Uint8Array {
    return encodeMsgpack(value, DEFAULT_LIMITS);
  },
  /** Godot's var_to_bytes (no type byte). */
  varToBytes(value: unknown): Uint8Array {
    return varToBytes(value);
  },
  /** Godot's bytes_to_var (no type byte). */
  bytesToVar(bytes: Uint8Array): unknown {
    return bytesToVar(bytes);
  },
});

export type ENetPacketUtilsType = typeof ENetPacketUtils;
