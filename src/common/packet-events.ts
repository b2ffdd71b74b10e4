// Runs on the thread of a server's supervisor or of an ENetClient: the one packet-events
// dispatcher. It holds the registered custom events and turns one received packet into the signals
// in the order docs/protocol.md "Signal order" gives (the same on server and client):
// rawPacketReceived (always) → malformed (nothing else) | a registered event's callback then
// customEventReceived | unknownEventReceived then packetReceived | packetReceived.
import { ENetError } from '../wire/errors.js';
import { Err, PacketType } from '../wire/enums.js';
import { decodePacket, splitEvent, type CodecLimits } from '../wire/codec/index.js';
import { isThenable } from './error-reporter.js';

/** How the owner emits: `lead` (the server's peer, nothing for a client) goes before each signal's arguments. */
export interface PacketSignals<Lead extends unknown[]> {
  emit(event: 'rawPacketReceived' | 'customEventReceived' | 'unknownEventReceived' | 'packetReceived', ...args: [...Lead, ...unknown[]]): void;
  /** The packet did not decode (after rawPacketReceived). */
  malformed(error: unknown): void;
  report(error: unknown, where: string): void;
  /** The packet was Godot-encoded (VARIANT/DICTIONARY): the sender speaks Godot; answer it so. Before any handler runs. */
  speaksGodot(): void;
  /** A reserved event (`_` names of docs/protocol.md) the owner takes itself: true = nothing is emitted. */
  reserved?(name: string, payload: Record<string, unknown>): boolean;
}

export type EventHandler<Lead extends unknown[]> = (...args: [...Lead, payload: Record<string, unknown>, channel: number]) => unknown;

export class PacketEvents<Lead extends unknown[]> {
  private readonly handlers = new Map<string, EventHandler<Lead>>();

  register(name: string, callback: EventHandler<Lead>): void {
    if (typeof name !== 'string' || name === '') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'event name must be a non-empty string');
    if (typeof callback !== 'function') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'event callback must be a function');
    this.handlers.set(name, callback);
  }

  unregister(name: string): void {
    this.handlers.delete(name);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /** One received packet, to the signals. */
  dispatch(lead: Lead, data: Buffer, channel: number, limits: CodecLimits, signals: PacketSignals<Lead>): void {
    let value: unknown;
    let failure: unknown;
    let decoded = true;
    try {
      value = decodePacket(data, limits);
    } catch (error) {
      decoded = false;
      failure = error;
    }
    const event = decoded ? splitEvent(value) : undefined;
    if (event && signals.reserved?.(event.name, event.payload)) return;
    signals.emit('rawPacketReceived', ...lead, data, channel);
    if (!decoded) {
      signals.malformed(failure);
      return;
    }
    if (data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) signals.speaksGodot();
    if (event) {
      const handler = this.handlers.get(event.name);
      if (handler) {
        const where = `event '${event.name}'`;
        try {
          const result = handler(...lead, event.payload, channel);
          if (isThenable(result)) result.then(undefined, (error: unknown) => signals.report(error, where));
        } catch (error) {
          signals.report(error, where);
        }
        signals.emit('customEventReceived', ...lead, event.name, event.payload, channel);
        return;
      }
      signals.emit('unknownEventReceived', ...lead, event.name, event.payload, channel);
    }
    signals.emit('packetReceived', ...lead, value, channel);
  }
}
