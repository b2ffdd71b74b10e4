// Runs on every thread that sends to ENet peers: the supervisor (main thread), each game actor, and
// each ENetClient. The single send path of the package — argument checks, channel rules, size, the
// queue budget, one encoding per packet format, busy-skip counting, and a kick with its reason — so
// the main thread, a game actor and the client answer the same send with the same Err. Each thread
// has its own instance (a queue budget counts what its own producer submitted); the code exists once.
import { Err, PacketFormat } from '../wire/enums.js';
import { encodeNode, encodePacket, makeEvent, type CodecLimits, type NetworkNode } from '../wire/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, DISCONNECT_REASON_EVENT } from '../wire/conventions.js';
import type { OutboundWriter } from '../plumbing/outbound.js';

/** One peer as a sender sees it: where it lives (shard, slot), what it opened, what it speaks. */
export interface SendTarget {
  readonly peerId: number;
  readonly shard: number;
  readonly slot: number;
  /** Channels the peer opened (ENet drops a packet on a channel the peer lacks). */
  readonly channels: number;
  readonly format: PacketFormat;
}

/** One ENet host this thread sends through: its outbound ring, and its budget per peer slot. */
export interface SendRoute {
  readonly host: number;
  readonly out: OutboundWriter;
  /** maxQueuedBytesPerPeer (src/server-common/queue-budget.ts); none for a client. */
  readonly queueBudget?: { take(slot: number, bytes: number): boolean };
}

export interface SendEngineOptions {
  /** Indexed by SendTarget.shard. */
  routes: readonly SendRoute[];
  limits: CodecLimits & { maxPacketSize: number };
  /** Channels the host has: a group send on a channel at or past it is ERR_INVALID_PARAMETER. */
  maxChannels: number;
  /** A target's current format (a routed peer's is learned by its actor); default `target.format`. */
  formatOf?: (target: SendTarget) => PacketFormat;
  /** Where a failure that has no caller to answer goes (a kick's reason that cannot be encoded). */
  report?: (error: unknown) => void;
}

const FORMATS = [PacketFormat.MSGPACK, PacketFormat.GODOT] as const;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof Map);

/** NodeSyncFlags bits: 1, 2, 4, 8. */
export const isNodeFlags = (flags: unknown): flags is number => Number.isInteger(flags) && (flags as number) >= 0 && (flags as number) <= 15;

/** triggerEvent's packet, or undefined for a bad name or payload (ERR_INVALID_PARAMETER). */
export function eventPacket(name: unknown, payload: unknown): Record<string, unknown> | undefined {
  if (typeof name !== 'string' || name === '' || !(payload == null || isPlainObject(payload))) return undefined;
  return makeEvent(name, (payload ?? {}) as Record<string, unknown>);
}

/** sendNodeState's bytes, or undefined when the node cannot be encoded (ERR_INVALID_DATA). */
export function nodeBytes(node: NetworkNode, flags: number): Uint8Array | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  try {
    return encodeNode(node, flags);
  } catch {
    return undefined;
  }
}

export class SendEngine {
  /** Targets group sends left out because too much was queued to them (maxQueuedBytesPerPeer). */
  busySkipped = 0;
  private readonly routes: readonly SendRoute[];
  private readonly limits: CodecLimits & { maxPacketSize: number };
  private readonly maxChannels: number;
  private readonly formatOf: (target: SendTarget) => PacketFormat;
  private readonly report: (error: unknown) => void;

  constructor(options: SendEngineOptions) {
    this.routes = options.routes;
    this.limits = options.limits;
    this.maxChannels = options.maxChannels;
    this.formatOf = options.formatOf ?? ((target) => target.format);
    this.report = options.report ?? (() => {});
  }

  /** A value to one peer, encoded in the peer's format. */
  send(target: SendTarget, packet: unknown, channel: number, reliable: boolean): Err {
    const bytes = this.encode(target, packet);
    return bytes ? this.sendBytes(target, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
  }

  /** Bytes as they are (sendRawPacket). */
  sendRaw(target: SendTarget, bytes: unknown, channel: number, reliable: boolean): Err {
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    return this.sendBytes(target, bytes, channel, reliable);
  }

  /**
   * Bytes to one peer: ERR_INVALID_PARAMETER on a channel it did not open, ERR_INVALID_DATA past
   * maxPacketSize, ERR_BUSY when its queue budget or the ring is full.
   */
  sendBytes(target: SendTarget, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const checked = this.check(target, bytes, channel);
    if (checked !== Err.OK) return checked;
    const route = this.routes[target.shard];
    if (route.queueBudget && !route.queueBudget.take(target.slot, bytes.length)) return Err.ERR_BUSY;
    return route.out.send(route.host, target.slot, target.peerId, channel, reliable !== false, bytes) ? Err.OK : Err.ERR_BUSY;
  }

  /** What sendBytes would refuse before queueing (a sender that holds packets for later checks them now). */
  check(target: SendTarget, bytes: Uint8Array, channel: number): Err {
    if (!Number.isInteger(channel) || channel < 0 || channel >= target.channels) return Err.ERR_INVALID_PARAMETER;
    if (bytes.length > this.limits.maxPacketSize) return Err.ERR_INVALID_DATA;
    return Err.OK;
  }

  /** Encodes a value in the target's format; undefined when it cannot be (ERR_INVALID_DATA). */
  encode(target: SendTarget, packet: unknown): Uint8Array | undefined {
    try {
      return encodePacket(packet, this.formatOf(target), this.limits);
    } catch {
      return undefined;
    }
  }

  /** A value to a group: encoded once per format present among the targets. */
  sendToGroup(targets: readonly SendTarget[], packet: unknown, channel: number, reliable: boolean): Err {
    return this.sendInFormats(targets, (format) => encodePacket(packet, format, this.limits), channel, reliable);
  }

  /**
   * Each format present among the targets gets its bytes once (`bytesFor`: encoding, or a fleet
   * packet's pre-encoded copy), queued once to all of them. A throw is ERR_INVALID_DATA at once;
   * null skips that format's peers (ERR_INVALID_DATA, the others are still sent to).
   */
  sendInFormats(targets: readonly SendTarget[], bytesFor: (format: PacketFormat) => Uint8Array | null, channel: number, reliable: boolean): Err {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.maxChannels) return Err.ERR_INVALID_PARAMETER;
    let result = Err.OK;
    for (const format of FORMATS) {
      const group = targets.filter((target) => this.formatOf(target) === format);
      if (group.length === 0) continue;
      let bytes: Uint8Array | null;
      try {
        bytes = bytesFor(format);
      } catch {
        return Err.ERR_INVALID_DATA;
      }
      const sent = bytes ? this.sendBytesToGroup(group, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
      if (sent !== Err.OK) result = sent;
    }
    return result;
  }

  /** The same bytes to every target: one record (one ENet packet) per shard with targets. */
  sendBytesToGroup(targets: readonly SendTarget[], bytes: Uint8Array, channel: number, reliable: boolean): Err {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.maxChannels) return Err.ERR_INVALID_PARAMETER;
    if (bytes.length > this.limits.maxPacketSize) return Err.ERR_INVALID_DATA;
    if (targets.length === 0) return Err.OK;
    const routes = this.routes;
    const lists = routes.map(() => new Uint32Array(targets.length * 2));
    const counts = new Array<number>(routes.length).fill(0);
    for (const target of targets) {
      // A peer that opened fewer channels is left out of a group send on a channel it lacks (ENet
      // would drop it; refusing the whole send would let one such client block every broadcast).
      if (channel >= target.channels) continue;
      const budget = routes[target.shard].queueBudget;
      if (budget && !budget.take(target.slot, bytes.length)) {
        this.busySkipped++;
        continue;
      }
      const list = lists[target.shard];
      list[counts[target.shard]++] = target.slot;
      list[counts[target.shard]++] = target.peerId;
    }
    // Nobody could take it: no target opened that channel (or every one was over its budget).
    if (counts.every((n) => n === 0)) return Err.ERR_INVALID_PARAMETER;
    let result = Err.OK;
    for (let shard = 0; shard < routes.length; shard++) {
      const n = counts[shard];
      const route = routes[shard];
      if (n > 0 && !route.out.sendMulti(route.host, channel, reliable !== false, lists[shard].subarray(0, n), bytes)) result = Err.ERR_BUSY;
    }
    return result;
  }

  /**
   * A packet that must not be lost (a notice before a disconnect): queued even when the ring is
   * full, in order with the disconnect that follows. False when it cannot be encoded.
   */
  sendNotice(target: SendTarget, notice: Record<string, unknown>, uncounted = false): boolean {
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(notice, this.formatOf(target), this.limits);
    } catch {
      return false;
    }
    const route = this.routes[target.shard];
    route.out.sendControlPacket(route.host, target.slot, target.peerId, 0, bytes, uncounted);
    return true;
  }

  /**
   * Disconnects a peer with a reason: ENet carries only a number with a disconnect, so a reason
   * travels just before it as a reserved event (docs/protocol.md "Disconnect reasons").
   */
  disconnect(target: SendTarget, reason: string, mode: number): void {
    if (reason !== '' && !this.sendNotice(target, makeEvent(DISCONNECT_REASON_EVENT, { reason }))) {
      this.report(new Error(`the reason of peer ${target.peerId}'s disconnect cannot be encoded; it is disconnected without it`));
    }
    const route = this.routes[target.shard];
    route.out.disconnect(route.host, target.slot, target.peerId, mode, DISCONNECT_DATA_BY_SERVER, reason);
  }
}
