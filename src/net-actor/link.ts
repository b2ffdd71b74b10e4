// Runs on the thread that owns a net actor (the main thread, for the supervisor and for ENetClient).
// It owns the actor's shared memory, starts and restarts its worker, pumps the inbound ring into a
// record handler, and writes outbound records. The ENet hosts themselves live in native memory
// (the reactor), so a restarted worker picks up the same hosts and connected peers stay connected.
import { Worker } from 'node:worker_threads';
import { loadNative, type HostOptions, type NativeAddon } from '../shared/native.js';
import { H_DOORBELL, RingConsumer, RingProducer, createRingBuffer, ringCapacityFor, type RecordHandler } from '../shared/ring.js';
import {
  COUNTERS_SLOTS,
  OUT_CONNECT,
  OUT_DESTROY_HOST,
  OUT_DISCONNECT,
  OUT_SEND,
  OUT_SEND_MULTI,
  OUT_SET_COMPRESSION,
  RECORD_HEADER_BYTES,
  R_BODY,
  R_CHANNEL,
  R_FLAGS,
  R_HOST,
  R_KIND,
  R_PEER_ID,
  R_SLOT,
  STATS_ROW,
  FLAG_RELIABLE,
  SERVICE_NOTIFY_INBOUND,
} from '../shared/protocol.js';
import { CONTROL_FAULT, CONTROL_POLL_RATE, CONTROL_SLOTS, type NetActorData } from './control.js';
import { RestartTracker, type RestartPolicy } from '../shared/restart-policy.js';

export interface NetActorLinkOptions {
  maxPacketSize: number;
  ringBytes: number;
  pollRate: number;
  restartPolicy: RestartPolicy;
  /**
   * Service the hosts' sockets on this thread while its event loop is idle (one wake-up per burst,
   * as in a single-threaded server); the worker keeps ENet's timers every pollRate ms and carries
   * the traffic whenever this thread is busy.
   */
  serviceInline?: boolean;
  /** Called for each inbound record, on this thread. Must not throw. */
  onRecord: RecordHandler;
  /** The worker died and was restarted (reason = its error). */
  onRestart?: (reason: string) => void;
  /** The worker died more often than the policy allows; the link is closed. */
  onGiveUp?: (error: Error) => void;
}

/** Records handled per pump turn before yielding to the event loop (timers, I/O). */
const PUMP_BATCH = 4096;
const WORKER_URL = new URL('./worker.js', import.meta.url);

export class NetActorLink {
  readonly reactorId: number;
  /** Float64 counters written by native (docs/protocol.md). */
  readonly counters: Float64Array;
  readonly inbound: RingConsumer;
  readonly outbound: RingProducer;
  /** Control records that found the ring full: kept in order and retried, never dropped. */
  private readonly pendingControl: Uint8Array[] = [];
  private readonly native: NativeAddon;
  private readonly control: Int32Array;
  private readonly data: NetActorData;
  private readonly restarts: RestartTracker;
  private worker: Worker | undefined;
  private workerExit: Promise<void> = Promise.resolve();
  private closed = false;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private referenced = true;
  private readonly inlineHosts: number[] = [];

  constructor(private readonly options: NetActorLinkOptions) {
    this.native = loadNative();
    const capacity = ringCapacityFor(RECORD_HEADER_BYTES + options.maxPacketSize + 8 + 4096, options.ringBytes);
    const inboundBuffer = createRingBuffer(capacity);
    const outboundBuffer = createRingBuffer(capacity);
    const countersBuffer = new SharedArrayBuffer(COUNTERS_SLOTS * 8);
    const controlBuffer = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    this.inbound = new RingConsumer(inboundBuffer);
    this.outbound = new RingProducer(outboundBuffer);
    this.counters = new Float64Array(countersBuffer);
    this.control = new Int32Array(controlBuffer);
    this.setPollRate(options.pollRate);
    this.reactorId = this.native.reactorCreate(inboundBuffer, outboundBuffer, countersBuffer);
    this.data = { reactorId: this.reactorId, inbound: inboundBuffer, control: controlBuffer };
    this.restarts = new RestartTracker(options.restartPolicy);
  }

  /** Creates an ENet host in this reactor. Throws what native throws (`code` = Err name). */
  createHost(options: Omit<HostOptions, 'stats' | 'maxPacketSize'>): { host: number; port: number; stats: Uint32Array } {
    const stats = new SharedArrayBuffer(options.peers * STATS_ROW * 4);
    const { host, port } = this.native.hostCreate(this.reactorId, {
      ...options,
      maxPacketSize: this.options.maxPacketSize,
      stats,
    });
    if (this.options.serviceInline) {
      this.native.attachInline(this.reactorId, host, this.onInlinePass);
      this.inlineHosts.push(host);
      if (!this.referenced) this.native.setInlineReferenced(this.reactorId, false);
    }
    return { host, port, stats: new Uint32Array(stats) };
  }

  /** Starts the worker and the inbound pump. */
  start(): void {
    this.spawnWorker();
    this.pumping = this.pump();
  }

  setPollRate(ms: number): void {
    Atomics.store(this.control, CONTROL_POLL_RATE, ms);
    if (this.worker) this.native.wake(this.reactorId);
  }

  /** Makes the worker fail from the inside (an uncaught exception in its thread). */
  injectFault(): void {
    Atomics.store(this.control, CONTROL_FAULT, 1);
    this.native.wake(this.reactorId);
  }

  /** Whether the worker keeps the process alive. */
  setReferenced(referenced: boolean): void {
    this.referenced = referenced;
    if (this.inlineHosts.length > 0) this.native.setInlineReferenced(this.reactorId, referenced);
    if (!this.worker) return;
    if (referenced) this.worker.ref();
    else this.worker.unref();
  }

  get maxPacketSize(): number {
    return this.options.maxPacketSize;
  }

  // ---- outbound records ----------------------------------------------------------------------

  /** Queues one packet to one peer. False when the ring is full (backpressure). */
  send(host: number, slot: number, peerId: number, channel: number, reliable: boolean, data: Uint8Array): boolean {
    const at = this.outbound.reserve(RECORD_HEADER_BYTES + data.length);
    if (at < 0) return false;
    this.writeHeader(at, OUT_SEND, channel, reliable ? FLAG_RELIABLE : 0, host, slot, peerId);
    this.outbound.bytes.set(data, at + R_BODY);
    this.commit();
    return true;
  }

  /** Queues one packet, created once, to every target (`targets` = slot, peerId pairs). */
  sendMulti(host: number, channel: number, reliable: boolean, targets: Uint32Array, data: Uint8Array): boolean {
    const listBytes = 4 + targets.length * 4;
    const at = this.outbound.reserve(RECORD_HEADER_BYTES + listBytes + data.length);
    if (at < 0) return false;
    this.writeHeader(at, OUT_SEND_MULTI, channel, reliable ? FLAG_RELIABLE : 0, host, 0, 0);
    const view = this.outbound.view;
    view.setUint32(at + R_BODY, targets.length / 2, true);
    for (let i = 0; i < targets.length; i++) view.setUint32(at + R_BODY + 4 + i * 4, targets[i], true);
    this.outbound.bytes.set(data, at + R_BODY + listBytes);
    this.commit();
    return true;
  }

  /** Packets that must not be lost (a kick's reason before its disconnect): queued if the ring is full. */
  sendControlPacket(host: number, slot: number, peerId: number, channel: number, data: Uint8Array): void {
    const record = this.makeRecord(OUT_SEND, channel, FLAG_RELIABLE, host, slot, peerId, data.length);
    record.set(data, R_BODY);
    this.pushControl(record);
  }

  disconnect(host: number, slot: number, peerId: number, mode: number, data: number): void {
    const record = this.makeRecord(OUT_DISCONNECT, 0, mode, host, slot, peerId, 4);
    new DataView(record.buffer).setUint32(R_BODY, data, true);
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
    this.detachInline(host);
    this.pushControl(this.makeRecord(OUT_DESTROY_HOST, 0, 0, host, 0, 0, 0));
  }

  /** Publishes what was written and wakes the net actor if it sleeps. Runs once per microtask turn. */
  flush = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    while (this.pendingControl.length > 0 && this.outbound.push(this.pendingControl[0])) this.pendingControl.shift();
    if (this.pendingControl.length > 0 && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.flush();
      }, 1);
    }
    if (!this.outbound.publishQuietly()) return;
    // Sending from this thread when the net actor is not inside service() spares it a wake-up per
    // batch; when it is busy, it will see the records itself (or is woken if it went to sleep).
    const flags = this.native.flushOutbound(this.reactorId);
    if (flags < 0) {
      if (this.outbound.takeConsumerSleeping()) this.native.wake(this.reactorId);
    } else if (flags & SERVICE_NOTIFY_INBOUND) {
      Atomics.notify(this.inbound.header, H_DOORBELL); // native already moved DOORBELL
    }
  };

  /** Stops the worker and destroys the hosts (flushing what they have queued). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const host of [...this.inlineHosts]) this.detachInline(host);
    this.native.reactorDestroy(this.reactorId);
    // Unblock a pump waiting on the doorbell.
    Atomics.add(this.inbound.header, H_DOORBELL, 1);
    Atomics.notify(this.inbound.header, H_DOORBELL);
    await this.workerExit;
    await this.pumping;
  }

  // ---- internals -----------------------------------------------------------------------------

  private detachInline(host: number): void {
    const at = this.inlineHosts.indexOf(host);
    if (at < 0) return;
    this.inlineHosts.splice(at, 1);
    this.native.detachInline(this.reactorId, host);
  }

  /** An inline pass ran on this thread: its records are in the ring, handled now. */
  private readonly onInlinePass = (): void => {
    if (this.closed) return;
    this.drainInbound();
  };

  private drainInbound(): void {
    this.inbound.drain(this.options.onRecord, PUMP_BATCH);
    if (this.inbound.takeProducerWaiting()) this.native.wake(this.reactorId);
    if (this.flushScheduled) this.flush();
  }

  private commit(): void {
    this.outbound.commit();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private pushControl(record: Uint8Array): void {
    if (this.pendingControl.length > 0 || !this.outbound.push(record)) this.pendingControl.push(record);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private writeHeader(at: number, kind: number, channel: number, flags: number, host: number, slot: number, peerId: number): void {
    const view = this.outbound.view;
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

  private spawnWorker(): void {
    const worker = new Worker(WORKER_URL, { workerData: this.data, name: `enet-net-actor-${this.reactorId}` });
    if (!this.referenced) worker.unref();
    this.worker = worker;
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    this.workerExit = new Promise((resolve) => {
      worker.once('exit', (code) => {
        resolve();
        if (this.closed || this.worker !== worker) return;
        this.worker = undefined;
        const reason = failure ? failure.message : `exited with code ${code}`;
        const delay = this.restarts.recordFailure();
        if (delay < 0) {
          this.options.onGiveUp?.(new Error(`net actor failed too often, last: ${reason}`));
          return;
        }
        setTimeout(() => {
          if (this.closed) return;
          this.spawnWorker();
          this.options.onRestart?.(reason);
        }, delay).unref();
      });
    });
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      this.drainInbound();
      // Sleep as soon as the ring is empty (the doorbell wakes us as a macrotask); while records
      // keep coming, yield to timers and I/O between batches.
      if (!this.inbound.hasData) await this.inbound.wait();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
