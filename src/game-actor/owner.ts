// Runs on the main thread: the game actors as children of the supervisor. A Piscina pool of N
// threads runs one long task per thread (one actor incarnation); each actor is a ChildSupervisor
// child, restarted on the same rings when its thread dies. A record an actor had in hand at three
// deaths is set aside here (the dead actor's ring has no consumer, so this thread may release it).
import { MessageChannel, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { H_READ, H_STALLS, RING_HEADER_BYTES, RingConsumer } from '../plumbing/ring.js';
import { ring } from '../plumbing/doorbells.js';
import type { PeerDirectory } from '../server-common/directory.js';
import { R_PEER_ID } from '../wire/protocol.js';
import type { RestartPolicy } from '../supervision/restart-policy.js';
import type { CodecLimits } from '../wire/codec/index.js';
import { ChildSupervisor } from '../supervision/child.js';
import type { Shard } from '../supervisor/shards.js';
import {
  A_FAULT,
  A_IN_HAND,
  A_STOP,
  CONTROL_BYTES,
  STOP_END,
  STOP_GOODBYE,
  F_ACTIVE_MS,
  F_HANDLED,
  F_HANDLER_ERRORS,
  F_MALFORMED,
  F_BUSY_SKIPPED,
  controlViews,
  type ActorMessage,
  type ActorShard,
  type ActorTask,
  type SupervisorMessage,
} from './control.js';

const WORKER_URL = new URL('../game-actor/worker.js', import.meta.url).href;
/** A record in hand at this many deaths of its actor is set aside. */
export const POISON_DEATHS = 3;
/** How long stopServer() waits for an actor to finish its goodbyes before its thread is ended. */
const STOP_TIMEOUT_MS = 5000;
/** How long createServer() waits for every actor's onStart. */
const START_TIMEOUT_MS = 30_000;

export interface GameActorsOptions {
  /** file: URL of the module. */
  gameLogic: string;
  count: number;
  /** Each actor has a ring pair on every shard. */
  shards: readonly Shard[];
  directory: PeerDirectory;
  limits: CodecLimits & { maxPacketSize: number };
  /** The server's channels (the actors' group sends check against it, as the supervisor's do). */
  maxChannels: number;
  maxQueuedBytesPerPeer: number;
  restartPolicy: RestartPolicy;
  restartOnHandlerError: boolean;
  resourceLimits?: ResourceLimits;
  /** Attach views of the peers placed on actor `id` (a replacement restores them). */
  peersOf(id: number): Uint8Array[];
  onMessage(id: number, message: ActorMessage): void;
  onRestart(id: number, reason: string): void;
  onGiveUp(error: Error): void;
  /** A record was set aside; `record` is a copy of its bytes (header included). */
  onSetAside(id: number, record: Uint8Array, peerId: number): void;
}

export interface ActorRow {
  kind: 'game';
  id: number;
  restarts: number;
  handled: number;
  handlerErrors: number;
  malformed: number;
  inboundDepth: number;
  outboundDepth: number;
  /** Times the actor found its outbound ring full. */
  outboundStalls: number;
  /** Group-send targets left out for maxQueuedBytesPerPeer (added to the server's busySkipped). */
  busySkipped: number;
  /** Share of the last interval its event loop was busy (handlers, decoding), % of one core. */
  cpuPercent: number;
}

class Actor {
  readonly child: ChildSupervisor;
  readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  readonly flags: Int32Array;
  readonly counters: Float64Array;
  /** Per shard. */
  readonly inboundHeaders: Int32Array[];
  readonly outboundHeaders: Int32Array[];
  private readonly wake: SharedArrayBuffer;
  private readonly wakeWord: Int32Array;
  private readonly shards: ActorShard[];
  ready = false;
  private poison = { shard: -1, at: -1, deaths: 0 };
  private cpuMark = { at: performance.now(), activeMs: 0 };
  private startWaiters: { resolve(): void; reject(error: Error): void } | undefined;
  private whenDrained: (() => void) | undefined;
  /** The supervisor's end of the running incarnation's port. */
  private port: MessagePort | undefined;

  constructor(
    readonly id: number,
    private readonly pool: Piscina,
    private readonly options: GameActorsOptions,
  ) {
    ({ flags: this.flags, counters: this.counters } = controlViews(this.control));
    this.shards = options.shards.map((shard) => {
      const { reactorId, inbound, wakes } = shard.link.access;
      const rings = shard.link.actorRings[id];
      return { reactorId, host: shard.host, inbound: rings.inbound, outbound: rings.outbound, allInbound: inbound, wakes, stats: shard.stats.buffer as SharedArrayBuffer };
    });
    this.inboundHeaders = this.shards.map((s) => new Int32Array(s.inbound, 0, RING_HEADER_BYTES / 4));
    this.outboundHeaders = this.shards.map((s) => new Int32Array(s.outbound, 0, RING_HEADER_BYTES / 4));
    // The same word on every shard (shards.ts): the actor sleeps on it for all its rings.
    this.wake = options.shards[0].link.wakes[id + 1]!;
    this.wakeWord = new Int32Array(this.wake);
    this.child = new ChildSupervisor({
      kind: 'game',
      id,
      policy: options.restartPolicy,
      start: () => this.runOnce(),
      onDeath: (reason) => this.onDeath(reason),
      onRestart: (reason) => {
        for (const shard of options.shards) shard.link.wake(); // it may have stalled on this actor's full ring
        options.onRestart(id, reason);
      },
      onGiveUp: (error) => options.onGiveUp(error),
    });
  }

  /** Resolves once the first incarnation's onStart is done; rejects if it dies before. */
  start(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.startWaiters = { resolve, reject };
    });
    this.child.start();
    return started;
  }

  injectFault(): void {
    Atomics.store(this.flags, A_FAULT, 1);
    this.ringDoorbell();
  }

  /** Resolves once the actor ran onPeerDisconnected for all its peers (or is not running). */
  sayGoodbye(): Promise<void> {
    const drained = new Promise<void>((resolve) => {
      this.whenDrained = resolve;
    });
    Atomics.store(this.flags, A_STOP, STOP_GOODBYE);
    this.ringDoorbell();
    return drained;
  }

  async stop(): Promise<void> {
    Atomics.store(this.flags, A_STOP, STOP_END);
    this.ringDoorbell();
    await this.child.close();
  }

  row(): ActorRow {
    const now = performance.now();
    const activeMs = this.counters[F_ACTIVE_MS];
    const elapsed = now - this.cpuMark.at;
    const cpuPercent = elapsed > 0 ? Math.max(0, Math.min(100, ((activeMs - this.cpuMark.activeMs) / elapsed) * 100)) : 0;
    this.cpuMark = { at: now, activeMs };
    return {
      kind: 'game',
      id: this.id,
      restarts: this.child.restarts,
      handled: this.counters[F_HANDLED],
      handlerErrors: this.counters[F_HANDLER_ERRORS],
      malformed: this.counters[F_MALFORMED],
      inboundDepth: sum(this.inboundHeaders.map(depth)),
      outboundDepth: sum(this.outboundHeaders.map(depth)),
      outboundStalls: sum(this.outboundHeaders.map((header) => Atomics.load(header, H_STALLS))),
      busySkipped: this.counters[F_BUSY_SKIPPED],
      cpuPercent,
    };
  }

  private ringDoorbell(): void {
    ring(this.wakeWord);
  }

  private runOnce(): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (message: ActorMessage) => {
      if (message.type === 'drained') this.whenDrained?.();
      if (message.type === 'ready' && !this.ready) {
        this.ready = true;
        this.startWaiters?.resolve();
        this.startWaiters = undefined;
      }
      this.options.onMessage(this.id, message);
    });
    const task: ActorTask = {
      actorId: this.id,
      gameLogic: this.options.gameLogic,
      shards: this.shards,
      wake: this.wake,
      control: this.control,
      directory: this.options.directory.buffer,
      slotsPerShard: this.options.directory.slotsPerShard,
      limits: this.options.limits,
      maxChannels: this.options.maxChannels,
      maxQueuedBytesPerPeer: this.options.maxQueuedBytesPerPeer,
      restartOnHandlerError: this.options.restartOnHandlerError,
      replacement: this.ready,
      peers: this.options.peersOf(this.id),
      port: port2,
    };
    // The actor closes its end when it stops (its last messages still arrive); a dead thread's end
    // closes with it. Either way this end never keeps the process alive.
    port1.unref();
    return this.pool.run(task, { transferList: [port2] });
  }

  /** To the running incarnation (a message for a dead one is dropped with its port). */
  post(message: SupervisorMessage): void {
    this.port?.postMessage(message);
  }

  private onDeath(reason: string): void {
    if (!this.ready) {
      this.startWaiters?.reject(new Error(reason));
      this.startWaiters = undefined;
      return;
    }
    const inHand = Atomics.exchange(this.flags, A_IN_HAND, 0);
    if (inHand === 0) return;
    const shard = inHand - 1;
    const at = Atomics.load(this.inboundHeaders[shard], H_READ) >>> 0;
    const same = this.poison.shard === shard && this.poison.at === at;
    this.poison = { shard, at, deaths: same ? this.poison.deaths + 1 : 1 };
    if (this.poison.deaths < POISON_DEATHS) return;
    this.poison = { shard: -1, at: -1, deaths: 0 };
    // The actor is dead: nobody else consumes its ring until the replacement starts.
    const ring = new RingConsumer(this.shards[shard].inbound);
    ring.drain((bytes, offset, length) => {
      const record = bytes.slice(offset, offset + length);
      this.options.onSetAside(this.id, record, new DataView(record.buffer).getUint32(R_PEER_ID, true));
    }, 1);
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const depth = (header: Int32Array): number => ((Atomics.load(header, 0) >>> 0) - (Atomics.load(header, H_READ) >>> 0)) >>> 0;

export class GameActors {
  private readonly pool: Piscina;
  private readonly actors: Actor[];

  constructor(options: GameActorsOptions) {
    this.pool = new Piscina({
      filename: WORKER_URL,
      minThreads: options.count,
      maxThreads: options.count,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // Actors sleep in Atomics.waitAsync and use timers: a thread must never be frozen between tasks.
      atomics: 'disabled',
      resourceLimits: options.resourceLimits,
    });
    // A replacement thread that fails at once is reported here rather than crashing the process.
    this.pool.on('error', (error: Error) => options.onMessage(-1, { type: 'log', level: 'error', message: `game actor pool: ${error.message}` }));
    this.actors = Array.from({ length: options.count }, (_, id) => new Actor(id, this.pool, options));
  }

  get count(): number {
    return this.actors.length;
  }

  /** Starts every actor; resolves when all have run onStart. Rejects (and stops them) otherwise. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`game actors did not finish onStart within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(this.actors.map((actor) => actor.start())), timeout]);
    } catch (error) {
      await this.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  injectFault(id: number): void {
    this.actors[id].injectFault();
  }

  restarts(id: number): number {
    return this.actors[id].child.restarts;
  }

  postTo(id: number, message: SupervisorMessage): void {
    this.actors[id]?.post(message);
  }

  rows(): ActorRow[] {
    return this.actors.map((actor) => actor.row());
  }

  /**
   * Asks every actor to drain its ring and run onPeerDisconnected for each of its peers, while they
   * are still connected (a dead actor's goodbye is not waited for past STOP_TIMEOUT_MS).
   */
  async sayGoodbye(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    await Promise.race([Promise.all(this.actors.map((actor) => actor.sayGoodbye())), late]);
    clearTimeout(timer);
  }

  /** Drains what is left, ends every actor, then the pool. */
  async stop(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    await Promise.race([Promise.all(this.actors.map((actor) => actor.stop())), late]);
    clearTimeout(timer);
    await this.destroy();
  }

  private async destroy(): Promise<void> {
    const closed = Promise.all(this.actors.map((actor) => actor.child.close())); // no more restarts
    await this.pool.destroy().catch(() => undefined); // ends tasks still running
    await closed;
  }
}
