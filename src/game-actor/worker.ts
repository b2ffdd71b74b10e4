// Runs in a game actor: one thread of the Piscina pool, running one long task (runGameActor) until
// the server stops. It consumes its own inbound ring (records the native layer routed to it), runs
// the user's game-logic module, and writes straight into its own outbound ring: the main thread is
// not on the path. A record is released only after it was handled and what its handler sent was
// published, so a replacement handles again whatever this thread had not finished (at-least-once).
import { performance } from 'node:perf_hooks';
import { loadNative } from '../plumbing/native.js';
import { RingConsumer } from '../plumbing/ring.js';
import { OutboundWriter } from '../plumbing/outbound.js';
import { Doorbells, waitForAny, waitForWakeOrTime } from '../plumbing/doorbells.js';
import { PeerDirectory } from '../server-common/directory.js';
import { QueueBudget } from '../server-common/queue-budget.js';
import { Err, PacketFormat, PacketType } from '../wire/enums.js';
import {
  DISCONNECT_LATER,
  IN_ATTACH,
  IN_DISCONNECT,
  IN_DROPPED,
  IN_RECEIVE,
  IN_RESUMED,
  STATS_PEER_ID,
  STATS_ROW,
} from '../wire/protocol.js';
import { decodePacket, splitEvent, type CodecLimits } from '../wire/codec/index.js';
import { readDisconnect, recordBody, recordChannel, recordKind, recordPeerId, recordSlot, serverDisconnectReason } from '../wire/records.js';
import { SendEngine, eventPacket, type SendTarget } from '../common/send-engine.js';
import {
  A_FAULT,
  A_IN_HAND,
  A_STOP,
  STOP_END,
  STOP_GOODBYE,
  F_ACTIVE_MS,
  F_HANDLED,
  F_HANDLER_ERRORS,
  F_MALFORMED,
  F_BUSY_SKIPPED,
  controlViews,
  decodeAttach,
  type ActorMessage,
  type ActorTask,
  type AttachView,
  type ClusterCall,
  type SupervisorMessage,
} from './control.js';
import { ENetError } from '../wire/errors.js';
import { encodeForFleet } from '../cluster/encode.js';
import { checkGameLogicModule, startGameLogic, type GameContext, type GameLogic, type GamePeer } from './define.js';

const REASON_SERVER_STOPPED = 'Server stopped';
/** Records handled before the actor looks at its flags, ticks and the event loop again. */
const BATCH = 1024;
/** deliverAtTick: at most this many BATCH rounds per tick, so a flood cannot hold the tick back for ever. */
const AT_TICK_ROUNDS = 16;

interface LocalPeer {
  view: GamePeer;
  shard: number;
  slot: number;
  channels: number;
  format: PacketFormat;
}

type Target = SendTarget;

/** One shard as this actor uses it: its ring pair there, and this thread's send budget for its peers. */
interface ShardLink {
  reactorId: number;
  host: number;
  inbound: RingConsumer;
  out: OutboundWriter;
  stats: Uint32Array;
  queueBudget: QueueBudget;
}

class GameActor {
  /** Indexed by shard id: a peer's records all come through its shard's ring, in order. */
  private readonly shards: ShardLink[];
  private readonly rings: RingConsumer[];
  private readonly wake: Int32Array;
  private readonly directory: PeerDirectory;
  private readonly flags: Int32Array;
  private readonly counters: Float64Array;
  private readonly peers = new Map<number, LocalPeer>();
  private readonly limits: CodecLimits;
  /** This thread's send path (src/common/send-engine.ts), over every shard's outbound ring. */
  private readonly engine: SendEngine;
  private readonly ctx: GameContext;
  private logic: GameLogic = {};
  private saidGoodbye = false;
  /** A flag the supervisor set (fault, stop) that this loop has not acted on yet. */
  private readonly flagged = (): boolean =>
    Atomics.load(this.flags, A_FAULT) !== 0 || Atomics.load(this.flags, A_STOP) > (this.saidGoodbye ? STOP_GOODBYE : 0);

  private readonly native = loadNative();

  constructor(private readonly task: ActorTask) {
    const native = this.native;
    this.shards = task.shards.map((shard) => {
      const stats = new Uint32Array(shard.stats);
      return {
        reactorId: shard.reactorId,
        host: shard.host,
        inbound: new RingConsumer(shard.inbound),
        out: new OutboundWriter(native, shard.reactorId, shard.outbound, new Doorbells(shard.allInbound, shard.wakes)),
        stats,
        queueBudget: new QueueBudget(stats, task.maxQueuedBytesPerPeer),
      };
    });
    this.rings = this.shards.map((shard) => shard.inbound);
    this.wake = new Int32Array(task.wake);
    this.directory = new PeerDirectory(task.directory, task.slotsPerShard);
    ({ flags: this.flags, counters: this.counters } = controlViews(task.control));
    this.limits = task.limits;
    this.engine = new SendEngine({
      routes: this.shards,
      limits: task.limits,
      maxChannels: task.maxChannels,
      report: (error) => this.post({ type: 'log', level: 'error', message: `game actor ${task.actorId}: ${(error as Error)?.message ?? String(error)}` }),
    });
    this.ctx = this.makeContext();
    task.port.on('message', (message: SupervisorMessage) => this.onSupervisorMessage(message));
  }

  async run(): Promise<void> {
    // A module that cannot work, or a first onStart that throws, fails createServer() (define.ts).
    this.logic = await checkGameLogicModule(this.task.gameLogic);
    if (this.task.replacement) await this.call('onStart', 0, () => this.logic.onStart?.(this.ctx));
    else await startGameLogic(this.logic, this.ctx, this.task.gameLogic);
    this.post({ type: 'ready' });
    await this.restorePeers();
    this.flush();

    const tickRate = Number(this.logic.tickRate ?? 0);
    const period = tickRate > 0 && typeof this.logic.onTick === 'function' ? 1000 / tickRate : 0;
    // deliverAtTick: records are read only at ticks, and the rings are never marked sleeping, so the
    // net actor does not wake this thread for them (define.ts).
    const atTick = period > 0 && this.logic.deliverAtTick === true;
    let lastTick = performance.now();
    let nextTick = period > 0 ? lastTick + period : Infinity;

    for (;;) {
      if (Atomics.exchange(this.flags, A_FAULT, 0) !== 0) this.fail();
      const stop = Atomics.load(this.flags, A_STOP);
      if (stop === STOP_END) return this.stop();
      if (stop === STOP_GOODBYE && !this.saidGoodbye) await this.sayGoodbye();
      const tickDue = period > 0 && performance.now() >= nextTick;
      let busy: 'done' | 'full' = 'done';
      if (!atTick) busy = await this.drain(BATCH);
      else if (tickDue) {
        // what arrived since the last tick (bounded: records keep arriving while these run)
        for (let round = 0; round < AT_TICK_ROUNDS && busy === 'done' && this.hasData(); round++) busy = await this.drain(BATCH);
      }
      if (tickDue) {
        const now = performance.now();
        const dt = (now - lastTick) / 1000;
        lastTick = now;
        await this.call('onTick', 0, () => this.logic.onTick!(dt, this.ctx));
        this.flush();
        // Drift-free while on time; a slow tick delays the next one instead of piling ticks up.
        nextTick += period;
        if (nextTick < performance.now()) nextTick = performance.now();
      }
      this.counters[F_ACTIVE_MS] = performance.eventLoopUtilization().active;
      if (busy === 'full') {
        await new Promise((resolve) => setTimeout(resolve, 1)); // our outbound ring is full: let the net actor drain it
      } else if (atTick) {
        await waitForWakeOrTime(this.wake, Math.max(0, nextTick - performance.now()), this.flagged);
      } else if (!this.hasData()) {
        const wait = nextTick === Infinity ? Infinity : Math.max(0, nextTick - performance.now());
        // The supervisor rings the wake word after setting a flag: looked at once the word is read.
        await waitForAny(this.rings, this.wake, wait, this.flagged);
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve)); // timers and messages get a turn
      }
    }
  }

  // ---- records --------------------------------------------------------------------------------

  private hasData(): boolean {
    return this.rings.some((ring) => ring.hasData);
  }

  /**
   * Handles up to `limit` records of each shard's ring; 'full' when a record had to wait for room
   * in an outbound ring.
   */
  private async drain(limit: number): Promise<'done' | 'full'> {
    let result: 'done' | 'full' = 'done';
    for (let shard = 0; shard < this.shards.length; shard++) {
      const inbound = this.shards[shard].inbound;
      for (let n = 0; n < limit; n++) {
        const offset = inbound.peek();
        if (offset < 0) break;
        Atomics.store(this.flags, A_IN_HAND, shard + 1);
        const handled = await this.handle(shard, offset, inbound.peekedLength);
        if (!handled) {
          Atomics.store(this.flags, A_IN_HAND, 0);
          result = 'full';
          break;
        }
        this.publish(); // what the handler sent is visible before the record is released
        inbound.release();
        Atomics.store(this.flags, A_IN_HAND, 0);
        this.counters[F_HANDLED]++;
      }
    }
    this.flush();
    for (const shard of this.shards) {
      if (shard.inbound.takeProducerWaiting()) this.native.wake(shard.reactorId); // it stopped reading for want of room here
    }
    return result;
  }

  private publish(): void {
    for (const shard of this.shards) shard.out.publish();
  }

  private flush(): void {
    for (const shard of this.shards) shard.out.flush();
    this.counters[F_BUSY_SKIPPED] = this.engine.busySkipped;
  }

  /** False when the record must be tried again (no room to relay it). */
  private async handle(shard: number, offset: number, length: number): Promise<boolean> {
    const inbound = this.shards[shard].inbound;
    const bytes = inbound.bytes;
    const view = inbound.view;
    const peerId = recordPeerId(view, offset);
    switch (recordKind(bytes, offset)) {
      case IN_ATTACH: {
        if (this.peers.has(peerId)) return true; // a replacement restored it already
        const attach = decodeAttach(recordBody(bytes, offset, length).slice());
        const peer = this.adopt(attach);
        await this.call('onPeerAuthenticated', peerId, () => this.logic.onPeerAuthenticated?.(peer.view, this.ctx));
        return true;
      }
      case IN_RECEIVE:
        return this.onReceive(shard, peerId, offset, length);
      case IN_DISCONNECT: {
        if (!this.relay(shard, offset, length)) return false;
        const peer = this.peers.get(peerId);
        if (!peer) return true;
        this.peers.delete(peerId);
        const reason = serverDisconnectReason(readDisconnect(bytes, view, offset, length));
        await this.call('onPeerDisconnected', peerId, () => this.logic.onPeerDisconnected?.(peer.view, reason, this.ctx));
        return true;
      }
      case IN_DROPPED: {
        // Sessions: the seat is held; the supervisor hears of it too (after this peer's records).
        if (!this.relay(shard, offset, length)) return false;
        const peer = this.peers.get(peerId);
        if (!peer) return true;
        const reason = serverDisconnectReason(readDisconnect(bytes, view, offset, length));
        await this.call('onPeerDropped', peerId, () => this.logic.onPeerDropped?.(peer.view, reason, this.ctx));
        return true;
      }
      case IN_RESUMED: {
        // The session resumed on a new connection: its records now come through this shard's ring, from this slot.
        const peer = this.peers.get(peerId);
        if (!peer) return true;
        peer.shard = shard;
        peer.slot = recordSlot(view, offset);
        await this.call('onPeerResumed', peerId, () => this.logic.onPeerResumed?.(peer.view, this.ctx));
        return true;
      }
      default:
        return this.relay(shard, offset, length);
    }
  }

  private async onReceive(shard: number, peerId: number, offset: number, length: number): Promise<boolean> {
    const peer = this.peers.get(peerId);
    if (!peer) return true; // gone (or said goodbye to, as the server stops): nobody to handle it for
    const bytes = this.shards[shard].inbound.bytes;
    const data = recordBody(bytes, offset, length);
    let value: unknown;
    try {
      value = decodePacket(data, this.limits);
    } catch {
      this.counters[F_MALFORMED]++;
      return this.relay(shard, offset, length); // the supervisor counts it, reports it once, emits rawPacketReceived
    }
    if ((data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) && peer.format !== PacketFormat.GODOT) {
      peer.format = PacketFormat.GODOT;
      this.directory.setFormat(peer.shard, peer.slot, peerId, PacketFormat.GODOT);
    }
    const channel = recordChannel(bytes, offset);
    const event = splitEvent(value);
    if (event) {
      const handler = this.logic.events?.[event.name];
      if (typeof handler !== 'function') return this.relay(shard, offset, length);
      await this.call(`events.${event.name}`, peerId, () => handler(peer.view, event.payload, channel, this.ctx));
      return true;
    }
    const onPacket = this.logic.onPacket;
    if (typeof onPacket !== 'function') return this.relay(shard, offset, length);
    await this.call('onPacket', peerId, () => onPacket(peer.view, value, channel, this.ctx));
    return true;
  }

  /** Passes the record on to the supervisor's signals, through the shard it came from (its order kept). */
  private relay(shard: number, offset: number, length: number): boolean {
    const { inbound, out } = this.shards[shard];
    return out.relay(inbound.bytes.subarray(offset, offset + length));
  }

  private adopt(attach: AttachView): LocalPeer {
    const view: GamePeer = Object.freeze({
      peerId: attach.peerId,
      remoteAddress: attach.remoteAddress,
      remotePort: attach.remotePort,
      customData: attach.customData,
    });
    const peer: LocalPeer = { view, shard: attach.shard, slot: attach.slot, channels: attach.channels, format: attach.format };
    this.peers.set(attach.peerId, peer);
    return peer;
  }

  /** A replacement takes over the peers already placed here (those still connected). */
  private async restorePeers(): Promise<void> {
    for (const bytes of this.task.peers) {
      const attach = decodeAttach(bytes);
      if (this.shards[attach.shard].stats[attach.slot * STATS_ROW + STATS_PEER_ID] !== attach.peerId) continue; // gone meanwhile
      if (this.peers.has(attach.peerId)) continue;
      const peer = this.adopt(attach);
      await this.call('onPeerAuthenticated', attach.peerId, () => this.logic.onPeerAuthenticated?.(peer.view, this.ctx));
    }
  }

  // ---- handlers -------------------------------------------------------------------------------

  /** Runs a handler of the module: its failure is reported (and the actor keeps its state). */
  private async call(handler: string, peerId: number, run: () => unknown): Promise<void> {
    try {
      const result = run();
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') await result;
    } catch (error) {
      this.counters[F_HANDLER_ERRORS]++;
      const e = error instanceof Error ? error : new Error(String(error));
      this.post({ type: 'handlerError', handler, peerId, name: e.name, message: e.message, stack: e.stack });
      if (this.task.restartOnHandlerError) {
        // Erlang-style: the thread ends; the record in hand is not released, so the replacement
        // sees it again (and the supervisor sets it aside after 3 deaths).
        this.flush();
        process.exit(1);
      }
    }
  }

  private post(message: ActorMessage): void {
    try {
      this.task.port.postMessage(message);
    } catch (error) {
      // A message that cannot be cloned (ctx.post of a function…): said once, as a log line.
      this.task.port.postMessage({ type: 'log', level: 'warn', message: `game actor ${this.task.actorId}: could not post a message: ${(error as Error).message}` });
    }
  }

  /** injectFault('game'): an uncaught exception outside any handler ends this thread. */
  private fail(): never {
    this.flush();
    // nextTick, not setImmediate: it runs at the end of this very job, whatever phase the thread's
    // loop is in (a setImmediate was seen to wait for the next wake-up of an idle loop).
    process.nextTick(() => {
      throw new Error(`fault injected into game actor ${this.task.actorId}`);
    });
    // Nothing after this point runs: the thread dies on the next turn of its event loop.
    throw new FaultInjected();
  }

  /** The server stops: every peer hears onPeerDisconnected while it can still be sent to. */
  private async sayGoodbye(): Promise<void> {
    this.saidGoodbye = true;
    await this.drainAll();
    for (const [peerId, peer] of [...this.peers]) {
      this.peers.delete(peerId);
      await this.call('onPeerDisconnected', peerId, () => this.logic.onPeerDisconnected?.(peer.view, REASON_SERVER_STOPPED, this.ctx));
    }
    this.flush();
    this.post({ type: 'drained' });
  }

  private async stop(): Promise<void> {
    await this.drainAll();
    if (!this.saidGoodbye) await this.sayGoodbye();
    this.flush();
    for (const shard of this.shards) shard.out.close();
    this.task.port.close(); // after the messages above were posted: they are delivered first
  }

  private async drainAll(): Promise<void> {
    while (this.hasData()) {
      if ((await this.drain(BATCH)) === 'full') await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  // ---- ctx ------------------------------------------------------------------------------------

  private target(peerId: number): Target | undefined {
    const local = this.peers.get(peerId);
    if (local) return { shard: local.shard, slot: local.slot, peerId, channels: local.channels, format: local.format };
    if (!Number.isInteger(peerId) || peerId <= 0) return undefined;
    return this.directory.find(peerId);
  }

  private sendTo(peerId: number, packet: unknown, channel: number, reliable: boolean): Err {
    const target = this.target(peerId);
    if (!target) return Err.ERR_INVALID_PARAMETER;
    return this.engine.send(target, packet, channel, reliable);
  }

  private everyone(exclude: readonly number[]): Target[] {
    if (!Array.isArray(exclude)) return [];
    const excluded = new Set(exclude);
    const targets: Target[] = [];
    for (const entry of this.directory.entries()) {
      if (excluded.has(entry.peerId)) continue;
      const local = this.peers.get(entry.peerId);
      targets.push(local ? { ...entry, format: local.format } : entry);
    }
    return targets;
  }

  private makeContext(): GameContext {
    return Object.freeze({
      actorId: this.task.actorId,
      send: (peerId: number, packet: unknown, channel = 0, reliable = true) => this.sendTo(peerId, packet, channel, reliable),
      sendRaw: (peerId: number, bytes: Uint8Array, channel = 0, reliable = true) => {
        const target = this.target(peerId);
        if (!target) return Err.ERR_INVALID_PARAMETER;
        return this.engine.sendRaw(target, bytes, channel, reliable);
      },
      sendToAll: (packet: unknown, channel = 0, reliable = true, exclude: readonly number[] = []) => {
        if (!Array.isArray(exclude)) return Err.ERR_INVALID_PARAMETER;
        return this.engine.sendToGroup(this.everyone(exclude), packet, channel, reliable);
      },
      sendToMultiple: (peerIds: readonly number[], packet: unknown, channel = 0, reliable = true) => {
        if (!Array.isArray(peerIds)) return Err.ERR_INVALID_PARAMETER;
        const targets: Target[] = [];
        for (const id of new Set(peerIds)) {
          const target = this.target(id);
          if (target) targets.push(target);
        }
        return this.engine.sendToGroup(targets, packet, channel, reliable);
      },
      triggerEvent: (peerId: number, name: string, payload?: Record<string, unknown>, channel = 0, reliable = true) => {
        const event = eventPacket(name, payload);
        return event ? this.sendTo(peerId, event, channel, reliable) : Err.ERR_INVALID_PARAMETER;
      },
      triggerEventToAll: (name: string, payload?: Record<string, unknown>, channel = 0, reliable = true, exclude: readonly number[] = []) => {
        const event = eventPacket(name, payload);
        if (!event || !Array.isArray(exclude)) return Err.ERR_INVALID_PARAMETER;
        return this.engine.sendToGroup(this.everyone(exclude), event, channel, reliable);
      },
      kick: (peerId: number, reason = '') => {
        const target = this.target(peerId);
        if (!target) return Err.ERR_INVALID_PARAMETER;
        this.engine.disconnect(target, String(reason ?? ''), DISCONNECT_LATER);
        return Err.OK;
      },
      post: (message: unknown) => this.post({ type: 'post', message }),
      peers: () => [...this.peers.keys()],
      cluster: Object.freeze({
        sendTo: async (identity: string, packet: unknown, channel = 0, reliable = true) => {
          const encoded = encodeForFleet(packet, this.limits);
          if (!encoded) return Err.ERR_INVALID_DATA;
          return this.clusterCall({ op: 'sendTo', identity, channel, reliable: reliable !== false, ...encoded });
        },
        broadcast: async (packet: unknown, channel = 0, reliable = true, excludeIdentities: readonly string[] = []) => {
          const encoded = encodeForFleet(packet, this.limits);
          if (!encoded) throw new ENetError(Err.ERR_INVALID_DATA, 'the packet cannot be encoded');
          if (!Array.isArray(excludeIdentities)) throw new ENetError(Err.ERR_INVALID_PARAMETER, 'excludeIdentities must be an array of strings');
          await this.clusterCall({ op: 'broadcast', channel, reliable: reliable !== false, ...encoded, exclude: [...excludeIdentities] });
        },
        publish: async (topic: string, message: unknown) => {
          await this.clusterCall({ op: 'publish', topic, message });
        },
      }),
    });
  }

  private readonly clusterCalls = new Map<number, { resolve(err: Err): void; reject(error: Error): void }>();
  private nextClusterCall = 1;

  private clusterCall(call: ClusterCall): Promise<Err> {
    const id = this.nextClusterCall++;
    return new Promise<Err>((resolve, reject) => {
      this.clusterCalls.set(id, { resolve, reject });
      try {
        this.task.port.postMessage({ type: 'cluster', id, call } satisfies ActorMessage);
      } catch (error) {
        // A publish of something that cannot be cloned.
        this.clusterCalls.delete(id);
        reject(new ENetError(Err.ERR_INVALID_DATA, `the message cannot be cloned: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  private onSupervisorMessage(message: SupervisorMessage): void {
    if (message?.type !== 'clusterReply') return;
    const call = this.clusterCalls.get(message.id);
    if (!call) return;
    this.clusterCalls.delete(message.id);
    if (message.error) call.reject(new ENetError(message.error.code, message.error.message));
    else call.resolve(message.err ?? Err.OK);
  }
}

class FaultInjected extends Error {}

/** The Piscina task: one actor incarnation, until the supervisor asks it to stop. */
export default async function runGameActor(task: ActorTask): Promise<void> {
  const actor = new GameActor(task);
  try {
    await actor.run();
  } catch (error) {
    if (error instanceof FaultInjected) await new Promise(() => {}); // the thread is about to die
    throw error;
  }
}
