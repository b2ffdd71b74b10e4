// Runs on the main thread: the seed's ENetServer — the public ENetServerSupervisor, a thin front that
// checks arguments and runs the lifecycle (createServer, stopServer) and hands every role to a part of
// its own: the peer table (peer-table.ts), who gets in (admission.ts), the records from the net
// actors (inbound.ts), the game actors (game-bridge.ts), metrics (metrics.ts), the fleet (fleet.ts),
// and every send through the one send engine (src/common/send-engine.ts).
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { closeShards, openShards, type Shard } from './shards.js';
import { GameActors } from '../game-actor/owner.js';
import { PeerDirectory } from '../server-common/directory.js';
import { AuthMode, CompressionMode, ConnectionState, Err } from '../wire/enums.js';
import { ENetError } from '../wire/errors.js';
import { DEFAULT_MAX_CHANNELS, DEFAULT_MAX_PEERS, DEFAULT_POLL_RATE_MS, STOP_GRACE_MS } from '../wire/defaults.js';
import { DISCONNECT_LATER, DISCONNECT_NOW } from '../wire/protocol.js';
import { makeEvent, type NetworkNode } from '../wire/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, REDIRECT_EVENT } from '../wire/conventions.js';
import { SendEngine, eventPacket, isNodeFlags, nodeBytes } from '../common/send-engine.js';
import { ErrorReporter } from '../common/error-reporter.js';
import { PacketEvents } from '../common/packet-events.js';
import { isInt, peerTimeoutOf } from '../common/checks.js';
import { checkAuthMode, checkAuthTimeout, checkCompression, checkPollRate, checkServerArgs, resolveServerOptions, hostSlots } from '../server-common/options.js';
import type { ClusterMember } from '../cluster/member.js';
import { ENetServerPeer } from './peer.js';
import { PeerTable } from './peer-table.js';
import { Admission } from './admission.js';
import { Inbound } from './inbound.js';
import { GameBridge } from './game-bridge.js';
import { ProcessUsage, buildMetrics, peerTransport } from './metrics.js';
import { createFleetMember } from './fleet.js';
import { Sessions } from './sessions.js';
import { kAuthenticate, kDisconnect, kRedirect, kReject, kSend, kSendRaw, kSetIdentity, kSetTimeout, type PeerOwner } from './symbols.js';
import type { Running, ServerCore } from './core.js';
import type { ServerOptions } from './options.js';
import type { ServerEvents, CustomAuthenticator, EventCallback, PeerTransport, ServerMetrics } from './events.js';
import type { AdminHandle, AdminOptions } from '../admin/options.js';

const REASON_SERVER_STOPPED = 'Server stopped';

export class ENetServerSupervisor extends EventEmitter<ServerEvents> implements PeerOwner {
  constructor() {
    // A rejected promise of an async listener comes to [Symbol.for('nodejs.rejection')] below
    // instead of ending the process as an unhandled rejection.
    super({ captureRejections: true });
  }

  private running: Running | undefined;
  private starting = false;
  private stopping: Promise<void> | undefined;
  private pollRate = DEFAULT_POLL_RATE_MS;
  private compression = CompressionMode.COMPRESS_NONE;
  private actorRestarts = 0;
  private clusterMember: ClusterMember<ENetServerPeer> | null = null;
  private readonly peers = new PeerTable();
  private readonly errors = new ErrorReporter(this, () => this.running?.options.logger ?? console, 'enet-actor-server');
  private readonly events = new PacketEvents<[ENetServerPeer]>();
  private readonly usage = new ProcessUsage();
  /** What the parts share of this server (src/supervisor/core.ts). */
  private readonly core: ServerCore = this.makeCore();
  private readonly sessions = new Sessions(this.core);
  private readonly bridge = new GameBridge(this.core, (peer, reason) => this[kReject](peer, reason), () => this.clusterMember);
  private readonly admission = new Admission(this.core, this, (peer) => this.bridge.place(peer));
  private readonly inbound = new Inbound(this.core, this.admission, this.events);

  private makeCore(): ServerCore {
    const sessions = (): Sessions => this.sessions;
    return {
    running: undefined,
    peers: this.peers,
    errors: this.errors,
    get sessions(): Sessions {
      return sessions();
    },
    emit: (event, ...args) => this.safeEmit(event, ...args),
    disconnect: (peer, reason, mode) => this.disconnect(peer, reason, mode),
    removePeer: (peer, reason) => this.removePeer(peer, reason),
    sendBytes: (peer, bytes, channel, reliable) => this.sendBytes(peer, bytes, channel, reliable),
    formatOf: (peer) => this.formatOf(peer),
    };
  }

  /** The fleet this server is part of (options.cluster), or null. */
  get cluster(): ClusterMember<ENetServerPeer> | null {
    return this.clusterMember;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async createServer(port: number, maxPeers = DEFAULT_MAX_PEERS, maxChannels = DEFAULT_MAX_CHANNELS, options: ServerOptions = {}): Promise<void> {
    if (this.running || this.starting || this.stopping) throw new ENetError(Err.ERR_ALREADY_IN_USE, 'the server is already active');
    checkServerArgs(port, maxPeers, maxChannels);
    const resolved = resolveServerOptions(options, availableParallelism(), maxPeers);
    const { gameLogic, gameActors, netActors } = resolved;
    const slots = hostSlots(maxPeers, netActors, resolved.resume.windowMs > 0);

    this.starting = true;
    let shards: Shard[] = [];
    try {
      try {
        shards = await openShards({
          count: netActors,
          slots,
          address: resolved.bindAddress,
          port,
          channels: maxChannels,
          compression: this.compression,
          guard: resolved.guard,
          maxQueuedBytesPerPeer: resolved.maxQueuedBytesPerPeer,
          sessionOutboxBytes: resolved.resume.windowMs > 0 ? resolved.resume.outboxBytes : 0,
          peerTimeout: resolved.peerTimeout,
          link: {
            maxPacketSize: resolved.maxPacketSize,
            ringBytes: resolved.ringBytes,
            pollRate: this.pollRate,
            restartPolicy: resolved.restartPolicy,
            // The main thread services the socket itself only as the one consumer of one shard:
            // with game actors or several shards, net actors carry the traffic.
            serviceInline: gameActors === 0 && netActors === 1,
          },
          gameActors,
          onRecord: this.inbound.onRecord,
          onRestart: (shard, reason) => {
            this.actorRestarts++;
            this.safeEmit('actorRestarted', 'net', shard, reason);
          },
          onGiveUp: (error) => this.giveUp(error),
        });
      } catch (error) {
        // Native's reason is kept: a bad argument stays ERR_INVALID_PARAMETER; binding fails as ERR_CANT_CREATE.
        const code = (error as { code?: string }).code === 'ERR_INVALID_PARAMETER' ? Err.ERR_INVALID_PARAMETER : Err.ERR_CANT_CREATE;
        throw new ENetError(code, `cannot create the server on ${resolved.bindAddress}:${port}: ${(error as Error).message}`, { cause: error });
      }
      this.inbound.reset();
      this.admission.reset();
      this.sessions.reset();
      this.bridge.setAside = 0;
      const limits = { maxPacketSize: resolved.maxPacketSize, maxDepth: resolved.maxDepth };
      const directory = gameLogic === undefined ? undefined : PeerDirectory.create(netActors, slots);
      const engine = new SendEngine({
        routes: shards.map((shard) => ({ host: shard.host, out: shard.link.out, queueBudget: shard.queueBudget })),
        limits,
        maxChannels,
        formatOf: (peer) => this.formatOf(peer as ENetServerPeer),
        report: (error) => this.errors.report(error, 'a handler'),
      });
      const running: Running = { shards, port: shards[0].port, maxPeers, maxChannels, options: resolved, limits, engine, actors: undefined, directory };
      if (gameLogic !== undefined && directory) {
        running.actors = new GameActors({
          gameLogic,
          count: gameActors,
          shards,
          directory,
          limits,
          maxChannels,
          maxQueuedBytesPerPeer: resolved.maxQueuedBytesPerPeer,
          restartPolicy: resolved.restartPolicy,
          restartOnHandlerError: resolved.restartOnHandlerError,
          resourceLimits: resolved.actorResourceLimits,
          peersOf: (id) => this.bridge.attachViewsOf(id),
          onMessage: this.bridge.onActorMessage,
          onRestart: (id, reason) => {
            this.actorRestarts++;
            this.safeEmit('actorRestarted', 'game', id, reason);
          },
          onGiveUp: (error) => this.giveUp(error),
          onSetAside: (id, record, peerId) => this.bridge.onSetAside(id, record, peerId),
        });
        try {
          await running.actors.start();
        } catch (error) {
          throw new ENetError(Err.ERR_CANT_CREATE, `the game actors could not start (${gameLogic}): ${(error as Error).message}`, { cause: error });
        }
      }
      this.setRunning(running);
      this.usage.start();
    } catch (error) {
      await closeShards(shards);
      throw error;
    } finally {
      this.starting = false;
    }
    this.clusterMember = null;
    if (resolved.cluster) {
      const running = this.running!;
      const member = await createFleetMember(this.core, running, (peer, reason) => this[kReject](peer, reason), () => this.running === running && !this.stopping);
      if (member) {
        this.clusterMember = member;
        await member.start();
      }
    }
    this.safeEmit('serverStarted', this.running!.port);
  }

  async stopServer(): Promise<void> {
    if (this.stopping) return this.stopping;
    const running = this.running;
    if (!running) return;
    this.stopping = (async () => {
      // Out of the fleet first: nothing is routed here any more while the peers are let go.
      await this.clusterMember?.stop();
      // Game actors first drain their rings and say goodbye (onPeerDisconnected) while the peers can
      // still be sent to; then the peers are disconnected.
      await running.actors?.sayGoodbye();
      for (const peer of this.peers.values()) this.disconnect(peer, REASON_SERVER_STOPPED, DISCONNECT_LATER);
      await this.peers.emptied(STOP_GRACE_MS);
      // Peers that did not acknowledge in time are told at once (unacknowledged) and dropped.
      for (const peer of [...this.peers.values()]) {
        const shard = running.shards[peer.shard];
        shard.link.out.disconnect(shard.host, peer.slot, peer.peerId, DISCONNECT_NOW, DISCONNECT_DATA_BY_SERVER, REASON_SERVER_STOPPED);
        this.removePeer(peer, peer.pendingReason ?? REASON_SERVER_STOPPED);
      }
      for (const shard of running.shards) shard.link.out.flush();
      await running.actors?.stop();
      await closeShards(running.shards);
      this.setRunning(undefined);
      this.usage.stop();
      this.safeEmit('serverStopped');
    })();
    try {
      await this.stopping;
    } finally {
      this.stopping = undefined;
    }
  }

  isServerActive(): boolean {
    return this.running !== undefined && !this.stopping;
  }

  getLocalPort(): number {
    return this.running?.port ?? 0;
  }

  setPollRate(ms: number): void {
    this.pollRate = checkPollRate(ms);
    for (const shard of this.running?.shards ?? []) shard.link.setPollRate(this.pollRate);
  }

  getPollRate(): number {
    return this.pollRate;
  }

  /**
   * Any `CompressionMode` (0..4), before `createServer()` or on a running server (new datagrams use the
   * new mode). ENet has no negotiation: every client must use the same mode, or its connection never
   * completes. Anything else throws `ENetError` `ERR_INVALID_PARAMETER`.
   */
  setCompressionMode(mode: CompressionMode): void {
    this.compression = checkCompression(mode);
    for (const shard of this.running?.shards ?? []) shard.link.out.setCompression(shard.host, mode);
  }

  getCompressionMode(): CompressionMode {
    return this.compression;
  }

  // ---- peers --------------------------------------------------------------------------------

  getPeers(): ENetServerPeer[] {
    return [...this.peers.values()];
  }

  getPeer(peerId: number): ENetServerPeer | null {
    return this.peers.get(peerId) ?? null;
  }

  getPeerCount(): number {
    return this.peers.size;
  }

  getAuthenticatedPeerCount(): number {
    return this.peers.authenticatedCount();
  }

  kickPeer(peerId: number, reason = ''): void {
    const peer = this.peers.get(peerId);
    if (peer) this.disconnect(peer, reason, DISCONNECT_LATER);
  }

  // ---- sending (every send goes through the engine) -----------------------------------------

  sendPacket(peerId: number, packet: unknown, channel = 0, reliable = true): Err {
    const peer = this.peers.get(peerId);
    if (!peer) return Err.ERR_INVALID_PARAMETER;
    return this[kSend](peer, packet, channel, reliable);
  }

  sendPacketToAll(packet: unknown, channel = 0, reliable = true, exclude: readonly number[] = []): Err {
    if (!Array.isArray(exclude)) return Err.ERR_INVALID_PARAMETER;
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    return this.sendToGroup(running, this.peers.authenticated(exclude), packet, channel, reliable);
  }

  sendPacketToMultiple(peerIds: readonly number[], packet: unknown, channel = 0, reliable = true): Err {
    if (!Array.isArray(peerIds)) return Err.ERR_INVALID_PARAMETER;
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    const targets: ENetServerPeer[] = [];
    for (const id of new Set(peerIds)) {
      const peer = this.peers.live(id);
      if (peer) targets.push(peer);
    }
    return this.sendToGroup(running, targets, packet, channel, reliable);
  }

  broadcastPacket(packet: unknown, channel = 0, reliable = true): Err {
    return this.sendPacketToAll(packet, channel, reliable);
  }

  sendNodeState(peerId: number, node: NetworkNode, flags: number, channel = 0): Err {
    const peer = this.peers.get(peerId);
    if (!peer || !isNodeFlags(flags)) return Err.ERR_INVALID_PARAMETER;
    const bytes = nodeBytes(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA;
    return this.sendBytes(peer, bytes, channel, true);
  }

  sendNodeToAll(node: NetworkNode, flags: number, channel = 0): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (!isNodeFlags(flags)) return Err.ERR_INVALID_PARAMETER;
    const bytes = nodeBytes(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA;
    const targets = this.peers.authenticated();
    for (const peer of targets) if (peer.resuming) this.hold(running, peer, bytes, channel, true);
    return running.engine.sendBytesToGroup(targets.filter((peer) => !peer.resuming), bytes, channel, true);
  }

  // ---- authentication (admission.ts) --------------------------------------------------------

  setAuthenticationMode(mode: AuthMode): void {
    this.admission.authMode = checkAuthMode(mode);
  }

  getAuthenticationMode(): AuthMode {
    return this.admission.authMode;
  }

  /** Seconds a peer may take to be approved; 0 or less disables the limit; at most LIMITS.authTimeout. */
  setAuthenticationTimeout(seconds: number): void {
    this.admission.authTimeout = checkAuthTimeout(seconds);
  }

  getAuthenticationTimeout(): number {
    return this.admission.authTimeout;
  }

  setCustomAuthenticator(authenticator: CustomAuthenticator | null | undefined): void {
    if (authenticator != null && typeof authenticator !== 'function') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'the authenticator must be a function');
    this.admission.authenticator = authenticator ?? undefined;
  }

  // ---- custom events (src/common/packet-events.ts) -----------------------------------------

  registerEvent(name: string, callback: EventCallback): void {
    this.events.register(name, callback);
  }

  unregisterEvent(name: string): void {
    this.events.unregister(name);
  }

  hasEvent(name: string): boolean {
    return this.events.has(name);
  }

  triggerEvent(peerId: number, name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true): Err {
    const event = eventPacket(name, payload);
    if (!event) return Err.ERR_INVALID_PARAMETER;
    return this.sendPacket(peerId, event, channel, reliable);
  }

  triggerEventToAll(name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true, exclude: readonly number[] = []): Err {
    const event = eventPacket(name, payload);
    if (!event) return Err.ERR_INVALID_PARAMETER;
    return this.sendPacketToAll(event, channel, reliable, exclude);
  }

  // ---- supervision --------------------------------------------------------------------------

  /**
   * Makes an actor's thread fail from the inside (an uncaught exception), for chaos tests and
   * drills: the supervisor restarts it per the restart policy and emits 'actorRestarted'.
   */
  injectFault(kind: 'net' | 'game' = 'net', id = 0): void {
    const running = this.running;
    if (!running) throw new ENetError(Err.ERR_UNCONFIGURED, 'the server is not running');
    if (kind === 'game') {
      const actors = running.actors;
      if (!actors) throw new ENetError(Err.ERR_UNAVAILABLE, 'this server has no game actors (options.gameLogic)');
      if (!isInt(id, 0, actors.count - 1)) throw new ENetError(Err.ERR_INVALID_PARAMETER, `no game actor #${id} (there are ${actors.count}: 0–${actors.count - 1})`);
      actors.injectFault(id);
      return;
    }
    const shards = running.shards.length;
    if (kind !== 'net' || !isInt(id, 0, shards - 1)) {
      throw new ENetError(Err.ERR_INVALID_PARAMETER, `no actor ${String(kind)} #${id} (net actors: 'net', 0–${shards - 1}; game actors: 'game')`);
    }
    running.shards[id].link.injectFault();
  }

  /**
   * The operator panel (docs/panel.md): a web page and a JSON API over HTTP on `address`:`port`
   * (default 127.0.0.1; any other address needs `token`, else InvalidOptionError naming `token`).
   * Resolves once listening, with the bound port and `close()`. Loaded only when called.
   */
  async startAdmin(options: AdminOptions): Promise<AdminHandle> {
    const { startAdmin } = await import('../admin/server.js');
    return startAdmin(this, options, { statsOf: (shard) => this.running?.shards[shard]?.stats });
  }

  getMetrics(): ServerMetrics {
    return buildMetrics(
      this.running,
      this.peers,
      {
        malformedPackets: this.inbound.malformed,
        droppedUnauthenticated: this.inbound.droppedUnauthenticated,
        actorRestarts: this.actorRestarts,
        setAside: this.bridge.setAside,
        refusedFull: this.admission.refusedFull,
        kicked: this.admission.kicked,
        busySkipped: this.running?.engine.busySkipped ?? 0,
        sessions: { held: this.sessions.heldCount(), resumed: this.sessions.resumed, expired: this.sessions.expired, refused: this.sessions.refused },
      },
      this.usage,
    );
  }

  /**
   * ENet's RTT (ms), packet loss and throttle (fractions) of each connected peer, read from the stats
   * tables in one pass (what /metrics builds its histograms from; getMetrics().transport summarizes
   * them). Empty when the server is not running.
   */
  getPeerTransport(): PeerTransport {
    return peerTransport(this.running);
  }

  // ---- PeerOwner (called by ENetServerPeer) -------------------------------------------------

  [kSend](peer: ENetServerPeer, packet: unknown, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (!this.peers.isLive(peer)) return Err.ERR_INVALID_PARAMETER;
    if (peer.resuming) {
      const bytes = running.engine.encode(peer, packet);
      return bytes ? this.hold(running, peer, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
    }
    return running.engine.send(peer, packet, channel, reliable);
  }

  [kSendRaw](peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (!this.peers.isLive(peer)) return Err.ERR_INVALID_PARAMETER;
    if (peer.resuming) return this.hold(running, peer, bytes, channel, reliable);
    return running.engine.sendRaw(peer, bytes, channel, reliable);
  }

  [kDisconnect](peer: ENetServerPeer, reason: string): void {
    this.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
  }

  [kReject](peer: ENetServerPeer, reason: string): void {
    this.admission.reject(peer, reason);
  }

  [kAuthenticate](peer: ENetServerPeer): void {
    this.admission.authenticate(peer);
  }

  [kSetIdentity](peer: ENetServerPeer, identity: string): Promise<Err> {
    const cluster = this.clusterMember;
    if (!cluster || !this.running) return Promise.reject(new ENetError(Err.ERR_UNCONFIGURED, 'setIdentity needs a server started with options.cluster'));
    return cluster.setIdentity(peer, identity);
  }

  [kRedirect](peer: ENetServerPeer, address: string, port: number, reason: string): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (typeof address !== 'string' || address === '' || !isInt(port, 1, 65535)) return Err.ERR_INVALID_PARAMETER;
    if (!this.peers.isLive(peer)) return Err.ERR_INVALID_PARAMETER;
    if (!running.engine.sendNotice(peer, makeEvent(REDIRECT_EVENT, { address, port, reason: String(reason ?? '') }))) return Err.ERR_INVALID_DATA;
    this.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
    return Err.OK;
  }

  [kSetTimeout](peer: ENetServerPeer, limit: number, minimumMs: number, maximumMs: number): Err {
    const timeout = peerTimeoutOf(limit, minimumMs, maximumMs);
    if (!timeout) return Err.ERR_INVALID_PARAMETER;
    if (!this.running) return Err.ERR_UNCONFIGURED;
    if (this.peers.get(peer.peerId) !== peer) return Err.ERR_INVALID_PARAMETER;
    peer.peerTimeout = timeout;
    // A dropped or moving seat has no connection now: Sessions.onResumed applies it to the new one.
    if (!peer.dropped && !peer.resuming) this.sessions.applyTimeout(peer);
    return Err.OK;
  }

  // ---- the parts' shared operations (ServerCore) ---------------------------------------------

  private setRunning(running: Running | undefined): void {
    this.running = running;
    (this.core as { running: Running | undefined }).running = running;
  }

  private sendBytes(peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (!this.peers.isLive(peer)) return Err.ERR_INVALID_PARAMETER;
    if (peer.resuming) return this.hold(running, peer, bytes, channel, reliable);
    return running.engine.sendBytes(peer, bytes, channel, reliable);
  }

  /**
   * A peer whose session is moving to its new connection (possibly another shard) has no address to
   * send to for a moment: what the main thread sends it meanwhile waits here, in order, and goes out
   * on the new connection (Sessions.onResumed). Unreliable packets are dropped, as for a dropped peer.
   */
  private hold(running: Running, peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const checked = running.engine.check(peer, bytes, channel);
    if (checked !== Err.OK || reliable === false) return checked;
    peer.held.push({ bytes, channel });
    return Err.OK;
  }

  /** A group send: resuming peers get theirs held, the others one encoding per format. */
  private sendToGroup(running: Running, targets: ENetServerPeer[], packet: unknown, channel: number, reliable: boolean): Err {
    if (!targets.some((peer) => peer.resuming)) return running.engine.sendToGroup(targets, packet, channel, reliable);
    const moving = targets.filter((peer) => peer.resuming);
    const result = running.engine.sendToGroup(targets.filter((peer) => !peer.resuming), packet, channel, reliable);
    for (const peer of moving) {
      const bytes = running.engine.encode(peer, packet);
      if (bytes) this.hold(running, peer, bytes, channel, reliable);
    }
    return result;
  }

  private disconnect(peer: ENetServerPeer, reason: string, mode: number): void {
    const running = this.running;
    if (!running || peer.state === ConnectionState.STATE_DISCONNECTING) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    peer.state = ConnectionState.STATE_DISCONNECTING;
    peer.pendingReason = reason;
    if (peer.dropped || peer.resuming) {
      // No connection to tell: the held seat ends (its IN_DISCONNECT follows with pendingReason).
      this.sessions.end(peer);
      return;
    }
    this.sessions.forget(peer);
    running.engine.disconnect(peer, reason, mode);
  }

  private removePeer(peer: ENetServerPeer, reason: string): void {
    if (this.peers.get(peer.peerId) !== peer) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    peer.state = ConnectionState.STATE_DISCONNECTING;
    this.clusterMember?.forget(peer);
    this.sessions.forget(peer);
    peer.dropped = false;
    if (peer.actor >= 0) this.running?.directory?.clear(peer.shard, peer.slot, peer.peerId);
    this.peers.delete(peer);
    this.safeEmit('peerDisconnected', peer, reason);
  }

  /** A routed peer's format as its actor last saw it (Godot peers are learned there). */
  private formatOf(peer: ENetServerPeer): number {
    const directory = this.running?.directory;
    if (directory && peer.actor >= 0) peer.format = directory.format(peer.shard, peer.slot, peer.peerId, peer.format);
    return peer.format;
  }

  /** Emits without letting an application handler's exception reach the inbound pump. */
  private safeEmit<K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: ServerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.errors.report(error, `'${event}' listener`);
    }
  }

  /** EventEmitter's captureRejections: an async listener's promise rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown, event: string | symbol): void {
    this.errors.onRejection(error, event);
  }

  private giveUp(error: Error): void {
    this.errors.report(error, 'a handler');
    void this.stopServer();
  }
}
