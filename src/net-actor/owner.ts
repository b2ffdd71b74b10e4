// Runs on the thread that owns a net actor (the main thread, for the supervisor and for ENetClient).
// It owns the actor's shared memory, starts and restarts its worker, pumps the inbound ring into a
// record handler, and writes outbound records. The ENet hosts themselves live in native memory
// (the reactor), so a restarted worker picks up the same hosts and connected peers stay connected.
import { Worker } from 'node:worker_threads';
import { loadNative, type HostOptions, type NativeAddon } from '../plumbing/native.js';
import { H_DOORBELL, RingConsumer, createRingBuffer, ringCapacityFor, type RecordHandler } from '../plumbing/ring.js';
import { OutboundWriter } from '../plumbing/outbound.js';
import { Doorbells } from '../plumbing/doorbells.js';
import { COUNTERS_SLOTS, RECORD_HEADER_BYTES, SERVICE_NOTIFY_INBOUND, STATS_ROW } from '../wire/protocol.js';
import { CONTROL_FAULT, CONTROL_POLL_RATE, CONTROL_SLOTS, type NetActorData } from './control.js';
import type { RestartPolicy } from '../supervision/restart-policy.js';
import { ChildSupervisor } from '../supervision/child.js';

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
  /**
   * Rings for game actors besides the supervisor's own (ring 0): one inbound and one outbound per
   * entry, whose consumer sleeps on that wake word (createWakeWord; one per actor, shared by every
   * shard's ring of that actor).
   */
  actorWakes?: readonly SharedArrayBuffer[];
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

/** The shared memory of one game actor's pair of rings. */
export interface ActorRings {
  /** Net actor → game actor. */
  inbound: SharedArrayBuffer;
  /** Game actor → net actor. */
  outbound: SharedArrayBuffer;
}

/** What a thread other than the link's needs to produce records for this reactor. */
export interface ReactorAccess {
  reactorId: number;
  /** Every inbound ring, ring 0 first, and the consumers' wake words (see Doorbells). */
  inbound: SharedArrayBuffer[];
  wakes: (SharedArrayBuffer | undefined)[];
}

export class NetActorLink {
  readonly reactorId: number;
  /** Float64 counters written by native (docs/protocol.md). */
  readonly counters: Float64Array;
  /** Ring 0: the supervisor's (or the client network's) inbound ring. */
  readonly inbound: RingConsumer;
  /** This thread's records to the net actor (outbound ring 0). */
  readonly out: OutboundWriter;
  /** Every inbound ring's buffer, ring 0 first, and its consumer's wake word (Doorbells). */
  readonly inboundBuffers: SharedArrayBuffer[];
  readonly wakes: (SharedArrayBuffer | undefined)[];
  readonly actorRings: ActorRings[] = [];
  private readonly outboundBuffers: SharedArrayBuffer[];
  private readonly native: NativeAddon;
  private readonly control: Int32Array;
  private readonly data: NetActorData;
  private readonly child: ChildSupervisor;
  private worker: Worker | undefined;
  private closed = false;
  private pumping: Promise<void> | undefined;
  private referenced = true;
  private readonly inlineHosts: number[] = [];

  constructor(private readonly options: NetActorLinkOptions) {
    this.native = loadNative();
    const capacity = ringCapacityFor(RECORD_HEADER_BYTES + options.maxPacketSize + 8 + 4096, options.ringBytes);
    const rings = 1 + (options.actorWakes?.length ?? 0);
    this.wakes = [undefined, ...(options.actorWakes ?? [])];
    this.inboundBuffers = Array.from({ length: rings }, () => createRingBuffer(capacity));
    this.outboundBuffers = Array.from({ length: rings }, () => createRingBuffer(capacity));
    for (let k = 1; k < rings; k++) this.actorRings.push({ inbound: this.inboundBuffers[k], outbound: this.outboundBuffers[k] });
    const countersBuffer = new SharedArrayBuffer(COUNTERS_SLOTS * 8);
    const controlBuffer = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    this.inbound = new RingConsumer(this.inboundBuffers[0]);
    this.counters = new Float64Array(countersBuffer);
    this.control = new Int32Array(controlBuffer);
    this.setPollRate(options.pollRate);
    this.reactorId = this.native.reactorCreate(this.inboundBuffers, this.outboundBuffers, countersBuffer);
    this.out = new OutboundWriter(this.native, this.reactorId, this.outboundBuffers[0], new Doorbells(this.inboundBuffers, this.wakes));
    this.data = { reactorId: this.reactorId, inbound: this.inboundBuffers, wakes: this.wakes, control: controlBuffer };
    this.child = new ChildSupervisor({
      kind: 'net',
      id: 0,
      policy: options.restartPolicy,
      start: () => this.runWorker(),
      onRestart: (reason) => options.onRestart?.(reason),
      onGiveUp: (error) => options.onGiveUp?.(error),
    });
  }

  /** For producers on other threads (game actors). */
  get access(): ReactorAccess {
    return { reactorId: this.reactorId, inbound: this.inboundBuffers, wakes: this.wakes };
  }

  /** Restarts of the net actor so far. */
  get restarts(): number {
    return this.child.restarts;
  }

  /** Wakes the net actor (e.g. after a game actor's replacement published records). */
  wake(): void {
    this.native.wake(this.reactorId);
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
    this.child.start();
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

  /** Stops watching the host's socket here, then has the net actor flush and destroy it. */
  destroyHost(host: number): void {
    this.detachInline(host);
    this.out.destroyHost(host);
  }

  /** Stops the worker and destroys the hosts (flushing what they have queued). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.out.flush();
    this.closed = true;
    this.out.close();
    const workerGone = this.child.close();
    for (const host of [...this.inlineHosts]) this.detachInline(host);
    this.native.reactorDestroy(this.reactorId);
    // Unblock a pump waiting on the doorbell.
    Atomics.add(this.inbound.header, H_DOORBELL, 1);
    Atomics.notify(this.inbound.header, H_DOORBELL);
    await workerGone;
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
  private readonly onInlinePass = (bits: number): void => {
    if (this.closed) return;
    if (bits & SERVICE_NOTIFY_INBOUND) this.out.notifyInbound(); // game actors' rings
    this.drainInbound();
  };

  private drainInbound(): void {
    this.inbound.drain(this.options.onRecord, PUMP_BATCH);
    if (this.inbound.takeProducerWaiting()) this.native.wake(this.reactorId);
    this.out.flush();
  }

  /** One incarnation of the worker: resolves when it exits (rejects: it died, unless closing). */
  private runWorker(): Promise<void> {
    const worker = new Worker(WORKER_URL, { workerData: this.data, name: `enet-net-actor-${this.reactorId}` });
    if (!this.referenced) worker.unref();
    this.worker = worker;
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    return new Promise((resolve, reject) => {
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (this.closed) resolve();
        else reject(failure ?? new Error(`exited with code ${code}`));
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
