// Runs on any thread (the cluster member on the main thread, ctx.cluster in game actors): a packet
// for the fleet, encoded once by its sender for both formats a peer may speak, so that receiving
// servers only copy bytes (docs/cluster.md).
import { PacketFormat } from '../wire/enums.js';
import { encodePacket, type CodecLimits } from '../wire/codec/index.js';

/** null: not encodable in that format (its peers are skipped; ERR_INVALID_DATA for sendTo). */
export interface EncodedPacket {
  msgpack: Uint8Array | null;
  godot: Uint8Array | null;
}

/** undefined: encodable in neither format. */
export function encodeForFleet(packet: unknown, limits: CodecLimits): EncodedPacket | undefined {
  const tryEncode = (format: PacketFormat): Uint8Array | null => {
    try {
      return encodePacket(packet, format, limits);
    } catch {
      return null;
    }
  };
  const msgpack = tryEncode(PacketFormat.MSGPACK);
  // Strings and bytes are the same packet in both formats.
  const godot = typeof packet === 'string' || packet instanceof Uint8Array ? msgpack : tryEncode(PacketFormat.GODOT);
  return msgpack || godot ? { msgpack, godot } : undefined;
}

/** The copy of a fleet packet for a peer speaking `format` (null: not encodable in it). */
export function fleetBytes(packet: EncodedPacket, format: PacketFormat): Uint8Array | null {
  return format === PacketFormat.GODOT ? packet.godot : packet.msgpack;
}

/** ctx.cluster, through the supervisor's cluster member; packets encoded by the actor for both formats. */
export type ClusterCall =
  | { op: 'sendTo'; identity: string; channel: number; reliable: boolean; msgpack: Uint8Array | null; godot: Uint8Array | null }
  | { op: 'broadcast'; channel: number; reliable: boolean; msgpack: Uint8Array | null; godot: Uint8Array | null; exclude: string[] }
  | { op: 'publish'; topic: string; message: unknown };
