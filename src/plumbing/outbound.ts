// Runs on any thread that produces records for a net actor: the main thread (supervisor, ENetClient)
// and every game actor. One writer per outbound ring (rings are single-producer). It writes the
// outbound records of docs/protocol.md, publishes them, and sends them at once from this thread when
// the net actor is not inside a pass (flushOutbound), else wakes it.
import type { NativeAddon } from './native.js';
import { RingProducer } from './ring.js';
import type { Doorbells } from './doorbells.js';
import {
  FLAG_RELIABLE,
  FLAG_UNCOUNTED,
  OUT_BAN,
  OUT_CONNECT,
  OUT_DESTROY_HOST,
  OUT_DISCONNECT,
  OUT_FORWARD,
  OUT_RELAY,
  OUT_ROUTE,
  OUT_ROUTE_DONE,
  OUT_SEND,
  OUT_SEND_MULTI,
  OUT_SESSION_END,
  OUT_SESSION_EXPORT,
  OUT_SESSION_RESUME,
  OUT_SET_COMPRESSION,
  OUT_SET_TIMEOUT,
  RECORD_HEADER_BYTES,
  R_BODY,
  R_CHANNEL,
  R_FLAGS,
  R_HOST,
  R_KIND,
  R_PEER_ID,
  R_SLOT,
  SERVICE_NOTIFY_INBOUND,
} from '../wire/protocol.js';

const utf8 = new TextEncoder();

export class OutboundWriter {
  readonly ring: RingProducer;
  /** Control records that found the ring full: kept in order and retried, never dropped. */
  private readonly pendingControl: Uint8Array[] = [];
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * `doorbells`: of every inbound ring of the reactor. A pass run from this thread may publish to
   * any of them; their sleeping consumers are notified from here.
   */
  constructor(
    private readonly native: NativeAddon,
    private readonly reactorId: number,
    buffer: SharedArrayBuffer,
    private readonly doorbells: Doorbells,
  ) {
    this.ring = new RingProducer(buffer);
  }

  /** Queues one packet to one peer. False when the ring is full (backpressure). */
  send(host: number, slot: number, peerId: number, channel: number, reliable: boolean, data: Uint8Array): boolean {
    const at = this.ring.reserve(RECORD_HEADER_BYTES + data.length);
    if (at < 0) return false;
    this.writeHeader(at, OUT_SEND, channel, reliable ? FLAG_RELIABLE : 0, host, slot, peerId);
    this.ring.bytes.set(data, at + R_BODY);
    this.commit();
    return true;
  }

  /** Queues one packet, created once, to every target (`targets` = slot, peerId pairs). */
  sendMulti(host: number, channel: number, reliable: boolean, targets: Uint32Array, data: Uint8Array): boolean {
    const listBytes = 4 + targets.length * 4;
    const at = this.ring.reserve(RECORD_HEADER_BYTES + listBytes + data.length);
    if (at < 0) return false;
    this.writeHeader(at, OUT_SEND_MULTI, channel, reliable ? FLAG_RELIABLE : 0, host, 0, 0);
    const view = this.ring.view;
    view.setUint32(at + R_BODY, targets.length / 2, true);
    for (let i = 0; i < targets.length; i++) view.setUint32(at + R_BODY + 4 + i * 4, targets[i], true);
    this.ring.bytes.set(data, at + R_BODY + listBytes);
    this.commit();
    return true;
  }

  /**
   * Passes an inbound record on to the supervisor (a game actor's OUT_RELAY). False when the ring is
   * full: the caller keeps the record in its inbound ring and retries.
   */
  relay(record: Uint8Array): boolean {
    const at = this.ring.reserve(RECORD_HEADER_BYTES + record.length);
    if (at < 0) return false;
    this.writeHeader(at, OUT_RELAY, 0, 0, 0, 0, 0);
    this.ring.bytes.set(record, at + R_BODY);
    this.commit();
    return true;
  }

  /**
   * Packets that must not be lost (a kick's reason before its disconnect): reliable, queued if the ring
   * is full. `uncounted`: a session's own control packet (`_session`, `_resumed`), left out of the
   * peer's session numbering (FLAG_UNCOUNTED).
   */
  sendControlPacket(host: number, slot: number, peerId: number, channel: number, data: Uint8Array, uncounted = false): void {
    const flags = uncounted ? FLAG_RELIABLE | FLAG_UNCOUNTED : FLAG_RELIABLE;
    const record = this.makeRecord(OUT_SEND, channel, flags, host, slot, peerId, data.length);
    record.set(data, R_BODY);
    this.pushControl(record);
  }

  /** `reason` travels with the record and comes back in the peer's IN_DISCONNECT. */
  disconnect(host: number, slot: number, peerId: number, mode: number, data: number, reason = ''): void {
    const text = reason === '' ? undefined : utf8.encode(reason);
    const record = this.makeRecord(OUT_DISCONNECT, 0, mode, host, slot, peerId, 4 + (text?.length ?? 0));
    new DataView(record.buffer).setUint32(R_BODY, data, true);
    if (text) record.set(text, R_BODY + 4);
    this.pushControl(record);
  }

  connect(host: number, peerId: number, ipv4: Uint8Array, port: number, channels: number, data: number): void {
    const record = this.makeRecord(OUT_CONNECT, 0, 0, host, 0, peerId, 12);
    const view = new DataView(record.buffer);
    record.set(ipv4, R_BODY);
    view.setUint16(R_BODY + 4, port, true);
    view.setUint16(R_BODY + 6, channels, true);
    view.setUint32(R_BODY + 8, data, true);
    this.pushControl(record);
  }

  setCompression(host: number, mode: number): void {
    const record = this.makeRecord(OUT_SET_COMPRESSION, 0, 0, host, 0, 0, 4);
    new DataView(record.buffer).setUint32(R_BODY, mode, true);
    this.pushControl(record);
  }

  destroyHost(host: number): void {
    this.pushControl(this.makeRecord(OUT_DESTROY_HOST, 0, 0, host, 0, 0, 0));
  }

  /** Routes an authenticated peer to inbound ring `ring` (its game actor); `attach` becomes IN_ATTACH. */
  route(host: number, slot: number, peerId: number, ring: number, attach: Uint8Array): void {
    const record = this.makeRecord(OUT_ROUTE, 0, 0, host, slot, peerId, 4 + attach.length);
    new DataView(record.buffer).setUint32(R_BODY, ring, true);
    record.set(attach, R_BODY + 4);
    this.pushControl(record);
  }

  /** A packet of a peer being routed that reached the supervisor first: it goes on to the actor. */
  forward(host: number, slot: number, peerId: number, channel: number, flags: number, data: Uint8Array): void {
    const record = this.makeRecord(OUT_FORWARD, channel, flags, host, slot, peerId, data.length);
    record.set(data, R_BODY);
    this.pushControl(record);
  }

  /** Everything the supervisor had of a routed peer is forwarded: its held records may follow. */
  routeDone(host: number, slot: number, peerId: number): void {
    this.pushControl(this.makeRecord(OUT_ROUTE_DONE, 0, 0, host, slot, peerId, 0));
  }

  /** Refuses the address's CONNECTs for `durationMs` (the guard of server host `host`). */
  ban(host: number, ipv4: Uint8Array, durationMs: number): void {
    const record = this.makeRecord(OUT_BAN, 0, 0, host, 0, 0, 8);
    record.set(ipv4, R_BODY);
    new DataView(record.buffer).setUint32(R_BODY + 4, durationMs, true);
    this.pushControl(record);
  }

  /** Frees a session (docs/protocol.md "Sessions"); a detached one's IN_DISCONNECT follows. */
  sessionEnd(host: number, slot: number, peerId: number): void {
    this.pushControl(this.makeRecord(OUT_SESSION_END, 0, 0, host, slot, peerId, 0));
  }

  /** Takes a session out of this shard into the parking map (its old connection, if any, is reset): IN_SESSION_EXPORTED. */
  sessionExport(host: number, slot: number, peerId: number): void {
    this.pushControl(this.makeRecord(OUT_SESSION_EXPORT, 0, 0, host, slot, peerId, 0));
  }

  /**
   * Resumes parked session `sessionPeerId` on the new connection (host, slot, temporaryPeerId):
   * `counts` = what the client received per channel. IN_SESSION_RESUMED (and IN_RESUMED to its actor).
   */
  sessionResume(host: number, slot: number, temporaryPeerId: number, sessionPeerId: number, counts: ArrayLike<number>): void {
    const record = this.makeRecord(OUT_SESSION_RESUME, 0, 0, host, slot, temporaryPeerId, 8 + 4 * counts.length);
    const view = new DataView(record.buffer);
    view.setUint32(R_BODY, sessionPeerId, true);
    view.setUint32(R_BODY + 4, counts.length, true);
    for (let i = 0; i < counts.length; i++) view.setUint32(R_BODY + 8 + 4 * i, counts[i], true);
    this.pushControl(record);
  }

  /**
   * ENet's timeout of one peer (enet_peer_timeout): limit, minimumMs, maximumMs, checked by the
   * caller (checkPeerTimeout). On a client host it also becomes the host's, applied again at CONNECT.
   */
  setPeerTimeout(host: number, slot: number, peerId: number, limit: number, minimumMs: number, maximumMs: number): void {
    const record = this.makeRecord(OUT_SET_TIMEOUT, 0, 0, host, slot, peerId, 12);
    const view = new DataView(record.buffer);
    view.setUint32(R_BODY, limit, true);
    view.setUint32(R_BODY + 4, minimumMs, true);
    view.setUint32(R_BODY + 8, maximumMs, true);
    this.pushControl(record);
  }

  /** Makes what was written visible to the net actor (no syscall). */
  publish(): void {
    this.ring.publishQuietly();
  }

  /** Publishes what was written and sends it from this thread, or wakes the net actor. */
  flush = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    while (this.pendingControl.length > 0 && this.ring.push(this.pendingControl[0])) this.pendingControl.shift();
    if (this.pendingControl.length > 0 && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.flush();
      }, 1);
    }
    if (!this.ring.publishQuietly()) return;
    // Sending from this thread when the net actor is not inside service() spares it a wake-up per
    // batch; when it is busy, it will see the records itself (or is woken if it went to sleep).
    const flags = this.native.flushOutbound(this.reactorId);
    if (flags < 0) {
      if (this.ring.takeConsumerSleeping()) this.native.wake(this.reactorId);
    } else if (flags & SERVICE_NOTIFY_INBOUND) {
      this.notifyInbound(); // native already moved the doorbells
    }
  };

  /** Wakes every JS consumer of the reactor's inbound rings whose doorbell native rang. */
  notifyInbound(): void {
    this.doorbells.notifyRung();
  }

  get hasPendingControl(): boolean {
    return this.pendingControl.length > 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private commit(): void {
    this.ring.commit();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private pushControl(record: Uint8Array): void {
    if (this.pendingControl.length > 0 || !this.ring.push(record)) this.pendingControl.push(record);
    this.scheduleFlush();
  }

  private writeHeader(at: number, kind: number, channel: number, flags: number, host: number, slot: number, peerId: number): void {
    const view = this.ring.view;
    view.setUint8(at + R_KIND, kind);
    view.setUint8(at + R_CHANNEL, channel);
    view.setUint16(at + R_FLAGS, flags, true);
    view.setUint32(at + R_HOST, host, true);
    view.setUint32(at + R_SLOT, slot, true);
    view.setUint32(at + R_PEER_ID, peerId, true);
  }

  private makeRecord(kind: number, channel: number, flags: number, host: number, slot: number, peerId: number, bodyLength: number): Uint8Array {
    const record = new Uint8Array(RECORD_HEADER_BYTES + bodyLength);
    const view = new DataView(record.buffer);
    view.setUint8(R_KIND, kind);
    view.setUint8(R_CHANNEL, channel);
    view.setUint16(R_FLAGS, flags, true);
    view.setUint32(R_HOST, host, true);
    view.setUint32(R_SLOT, slot, true);
    view.setUint32(R_PEER_ID, peerId, true);
    return record;
  }
}
