// Runs on the main thread: the seed's ENetServer. It owns the peer table, authentication, the
// signals, and the net actor (through its link). Inbound records arrive in batches from the
// inbound ring; everything sent goes out through the outbound ring, published once per turn.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import pidusage from 'pidusage';
import { closeShards, openShards, type Shard } from './shards.js';
import { GameActors } from '../game-actor/owner.js';
import { PeerDirectory } from '../server-common/directory.js';
import { encodeAttach, type ActorMessage, type ClusterCall, type SupervisorMessage } from '../game-actor/control.js';
import {
  AuthMode,
  AuthState,
  CompressionMode,
  ConnectionState,
  Err,
  PacketFormat,
  PacketType,
} from '../wire/enums.js';
import { ENetError, GameHandlerError, PlacementError, SetAsideError } from '../wire/errors.js';
import {
  DEFAULT_AUTH_TIMEOUT_S,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_MAX_PEERS,
  DEFAULT_POLL_RATE_MS,
  STOP_GRACE_MS,
} from '../wire/defaults.js';
import {
  C_BYTES_IN,
  C_BYTES_OUT,
  C_WIRE_BYTES_IN,
  C_WIRE_BYTES_OUT,
  C_INBOUND_STALLS,
  C_PACKETS_IN,
  C_PACKETS_OUT,
  CAUSE_LOCAL,
  DISCONNECT_LATER,
  DISCONNECT_NOW,
  FLAG_RELAYED,
  IN_CONNECT,
  IN_DISCONNECT,
  IN_ERROR,
  IN_RECEIVE,
  IN_ROUTED,
  IN_KICK_REQUEST,
  KICK_PACKET_TOO_LARGE,
  C_PENDING_CONNECTS,
  C_REFUSED_RATE,
  C_REFUSED_PENDING,
  C_REFUSED_PER_ADDRESS,
  C_REFUSED_PEERS_PER_ADDRESS,
  C_REFUSED_FULL,
  C_REFUSED_BANNED,
  C_RATE_LIMITED,
  C_QUEUED_BYTES,
  C_BANNED_ADDRESSES,
  ipv4ToBytes,
  R_BODY,
  R_CHANNEL,
  R_FLAGS,
  R_PEER_ID,
  R_SLOT,
  ipv4ToString,
} from '../wire/protocol.js';
import {
  decodePacket,
  encodeNode,
  encodePacket,
  makeEvent,
  splitEvent,
  type CodecLimits,
  type NetworkNode,
} from '../wire/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, DISCONNECT_REASON_EVENT, REDIRECT_EVENT } from '../wire/conventions.js';
import type { ClusterMember, ClusterHost } from '../cluster/member.js';
import { fleetBytes } from '../cluster/encode.js';
import { ENetServerPeer } from './peer.js';
import { kAuthenticate, kDisconnect, kRedirect, kReject, kSend, kSendRaw, kSetIdentity, type PeerOwner } from './symbols.js';
import type { ResolvedServerOptions, ServerOptions } from './options.js';
import {
  checkAuthMode,
  checkAuthTimeout,
  checkCompression,
  checkPollRate,
  checkServerArgs,
  isInt,
  resolveServerOptions,
  shardSlots,
} from '../server-common/options.js';
import type { ServerEvents, CustomAuthenticator, EventCallback, ServerMetrics, ActorMetrics } from './events.js';

const REASON_CONNECTION_LOST = 'Connection lost';
const REASON_SERVER_STOPPED = 'Server stopped';
const REASON_AUTH_FAILED = 'Authentication failed';
const REASON_AUTH_TIMEOUT = 'Authentication timeout';
const REASON_BAD_LOGIN = 'Invalid authentication packet format';
const REASON_SERVER_ERROR = 'Server error';
const REASON_PACKET_TOO_LARGE = 'Packet too large';
const REASON_RATE_LIMIT = 'Rate limit exceeded';
const REASON_SERVER_FULL = 'Server full';
/** Addresses whose recent authentication failures are remembered (oldest forgotten first). */
const AUTH_FAILURE_ADDRESSES = 10_000;

/** The counters of every shard, added up (docs/protocol.md "Counters"). */
function sumCounters(shards: readonly Shard[]): Float64Array {
  const total = new Float64Array(shards[0]?.link.counters.length ?? 0);
  for (const shard of shards) {
    const counters = shard.link.counters;
    for (let i = 0; i < total.length; i++) total[i] += counters[i];
  }
  return total;
}

function refused(counters: Float64Array | undefined, fullHere: number): ServerMetrics['refusedConnects'] {
  const rate = counters?.[C_REFUSED_RATE] ?? 0;
  const pending = counters?.[C_REFUSED_PENDING] ?? 0;
  const perAddress = (counters?.[C_REFUSED_PER_ADDRESS] ?? 0) + (counters?.[C_REFUSED_PEERS_PER_ADDRESS] ?? 0);
  const banned = counters?.[C_REFUSED_BANNED] ?? 0;
  const full = (counters?.[C_REFUSED_FULL] ?? 0) + fullHere;
  return { rate, pending, perAddress, banned, full, total: rate + pending + perAddress + banned + full };
}
const utf8 = new TextDecoder();
/** How often the process's CPU and memory are sampled (pidusage) while a server runs. */
const USAGE_SAMPLE_MS = 1000;

interface Running {
  /** One per net actor (ENet host); peers are on exactly one. */
  shards: Shard[];
  port: number;
  maxPeers: number;
  maxChannels: number;
  options: ResolvedServerOptions;
  limits: CodecLimits;
  /** Game actors, when options.gameLogic is set. */
  actors: GameActors | undefined;
  directory: PeerDirectory | undefined;
}


/** The same error from the same place is logged once per this many ms (the rest are counted). */
const LOG_REPEAT_MS = 10_000;
/** Causes remembered for that (oldest forgotten first). */
const LOG_CAUSES = 256;

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';

/** NodeSyncFlags bits: 1, 2, 4, 8. */
const isNodeFlags = (flags: unknown): flags is number => isInt(flags, 0, 15);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof Map);

export class ENetServerSupervisor extends EventEmitter<ServerEvents> implements PeerOwner {
  constructor() {
    // A rejected promise of an async listener comes to [Symbol.for('nodejs.rejection')] below
    // instead of ending the process as an unhandled rejection.
    super({ captureRejections: true });
  }

  private running: Running | undefined;
  private starting = false;
  private stopping: Promise<void> | undefined;
  private readonly peers = new Map<number, ENetServerPeer>();
  private readonly events = new Map<string, EventCallback>();
  private pollRate = DEFAULT_POLL_RATE_MS;
  private compression = CompressionMode.COMPRESS_NONE;
  private authMode = AuthMode.AUTH_NONE;
  private authTimeout = DEFAULT_AUTH_TIMEOUT_S;
  private authenticator: CustomAuthenticator | undefined;
  private malformed = 0;
  private actorRestarts = 0;
  private droppedUnauthenticated = 0;
  private setAside = 0;
  private kicked = { packetTooLarge: 0, rateLimit: 0 };
  /** Peers past maxPeers that a shard with free slots let in (several shards), sent away. */
  private refusedFull = 0;
  /** Targets group sends left out because too much was queued to them (maxQueuedBytesPerPeer). */
  private busySkipped = 0;
  /** Recent authentication failures by address (authFailureLimit). */
  private readonly authFailures = new Map<string, number[]>();
  private readonly logged = new Map<string, { at: number; suppressed: number }>();
  private whenPeersGone: (() => void) | undefined;
  private usage = { cpuPercent: 0, memoryRss: process.memoryUsage.rss() };
  private usageTimer: NodeJS.Timeout | undefined;
  private clusterMember: ClusterMember<ENetServerPeer> | null = null;

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
    const slots = shardSlots(maxPeers, netActors);

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
          onRecord: this.onRecord,
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
      this.malformed = 0;
      this.droppedUnauthenticated = 0;
      this.setAside = 0;
      this.kicked = { packetTooLarge: 0, rateLimit: 0 };
      this.refusedFull = 0;
      this.busySkipped = 0;
      this.authFailures.clear();
      const limits = { maxPacketSize: resolved.maxPacketSize, maxDepth: resolved.maxDepth };
      const directory = gameLogic === undefined ? undefined : PeerDirectory.create(netActors, slots);
      const running: Running = {
        shards,
        port: shards[0].port,
        maxPeers,
        maxChannels,
        options: resolved,
        limits,
        actors: undefined,
        directory,
      };
      if (gameLogic !== undefined && directory) {
        running.actors = new GameActors({
          gameLogic,
          count: gameActors,
          shards,
          directory,
          limits,
          maxQueuedBytesPerPeer: resolved.maxQueuedBytesPerPeer,
          restartPolicy: resolved.restartPolicy,
          restartOnHandlerError: resolved.restartOnHandlerError,
          resourceLimits: resolved.actorResourceLimits,
          peersOf: (id) => this.attachViewsOf(id),
          onMessage: this.onActorMessage,
          onRestart: (id, reason) => {
            this.actorRestarts++;
            this.safeEmit('actorRestarted', 'game', id, reason);
          },
          onGiveUp: (error) => this.giveUp(error),
          onSetAside: (id, record, peerId) => this.onSetAside(id, record, peerId),
        });
        try {
          await running.actors.start();
        } catch (error) {
          throw new ENetError(Err.ERR_CANT_CREATE, `the game actors could not start (${gameLogic}): ${(error as Error).message}`, { cause: error });
        }
      }
      this.running = running;
      this.startUsageSampler();
    } catch (error) {
      await closeShards(shards);
      throw error;
    } finally {
      this.starting = false;
    }
    this.clusterMember = null;
    if (resolved.cluster) await this.joinCluster(this.running, maxPeers);
    this.safeEmit('serverStarted', this.running.port);
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
      if (this.peers.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, STOP_GRACE_MS);
          this.whenPeersGone = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.whenPeersGone = undefined;
      }
      // Peers that did not acknowledge in time are told at once (unacknowledged) and dropped.
      for (const peer of [...this.peers.values()]) {
        const shard = running.shards[peer.shard];
        shard.link.out.disconnect(shard.host, peer.slot, peer.peerId, DISCONNECT_NOW, DISCONNECT_DATA_BY_SERVER, REASON_SERVER_STOPPED);
        this.removePeer(peer, peer.pendingReason ?? REASON_SERVER_STOPPED);
      }
      for (const shard of running.shards) shard.link.out.flush();
      await running.actors?.stop();
      await closeShards(running.shards);
      this.running = undefined;
      this.stopUsageSampler();
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
    let count = 0;
    for (const peer of this.peers.values()) if (peer.state === ConnectionState.STATE_AUTHENTICATED) count++;
    return count;
  }

  kickPeer(peerId: number, reason = ''): void {
    const peer = this.peers.get(peerId);
    if (peer) this.disconnect(peer, reason, DISCONNECT_LATER);
  }

  // ---- sending ------------------------------------------------------------------------------

  sendPacket(peerId: number, packet: unknown, channel = 0, reliable = true): Err {
    const peer = this.peers.get(peerId);
    if (!peer) return Err.ERR_INVALID_PARAMETER;
    return this[kSend](peer, packet, channel, reliable);
  }

  sendPacketToAll(packet: unknown, channel = 0, reliable = true, exclude: readonly number[] = []): Err {
    if (!Array.isArray(exclude)) return Err.ERR_INVALID_PARAMETER;
    return this.sendToPeers(this.authenticatedPeers(exclude), packet, channel, reliable);
  }

  sendPacketToMultiple(peerIds: readonly number[], packet: unknown, channel = 0, reliable = true): Err {
    if (!Array.isArray(peerIds)) return Err.ERR_INVALID_PARAMETER;
    const targets: ENetServerPeer[] = [];
    for (const id of new Set(peerIds)) {
      const peer = this.peers.get(id);
      if (peer && peer.state !== ConnectionState.STATE_DISCONNECTING) targets.push(peer);
    }
    return this.sendToPeers(targets, packet, channel, reliable);
  }

  broadcastPacket(packet: unknown, channel = 0, reliable = true): Err {
    return this.sendPacketToAll(packet, channel, reliable);
  }

  sendNodeState(peerId: number, node: NetworkNode, flags: number, channel = 0): Err {
    const peer = this.peers.get(peerId);
    if (!peer || !isNodeFlags(flags)) return Err.ERR_INVALID_PARAMETER;
    const bytes = this.encodeNodeOrNull(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA;
    return this.sendBytes(peer, bytes, channel, true);
  }

  sendNodeToAll(node: NetworkNode, flags: number, channel = 0): Err {
    if (!this.running) return Err.ERR_UNCONFIGURED;
    if (!isNodeFlags(flags)) return Err.ERR_INVALID_PARAMETER;
    const bytes = this.encodeNodeOrNull(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA;
    return this.sendBytesToPeers(this.authenticatedPeers([]), bytes, channel, true);
  }

  // ---- authentication -----------------------------------------------------------------------

  setAuthenticationMode(mode: AuthMode): void {
    this.authMode = checkAuthMode(mode);
  }

  getAuthenticationMode(): AuthMode {
    return this.authMode;
  }

  /** Seconds a peer may take to be approved; 0 or less disables the limit; at most LIMITS.authTimeout. */
  setAuthenticationTimeout(seconds: number): void {
    this.authTimeout = checkAuthTimeout(seconds);
  }

  getAuthenticationTimeout(): number {
    return this.authTimeout;
  }

  setCustomAuthenticator(authenticator: CustomAuthenticator | null | undefined): void {
    if (authenticator != null && typeof authenticator !== 'function') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'the authenticator must be a function');
    this.authenticator = authenticator ?? undefined;
  }

  // ---- custom events ------------------------------------------------------------------------

  registerEvent(name: string, callback: EventCallback): void {
    if (typeof name !== 'string' || name === '') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'event name must be a non-empty string');
    if (typeof callback !== 'function') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'event callback must be a function');
    this.events.set(name, callback);
  }

  unregisterEvent(name: string): void {
    this.events.delete(name);
  }

  hasEvent(name: string): boolean {
    return this.events.has(name);
  }

  triggerEvent(peerId: number, name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true): Err {
    const event = this.eventOrNull(name, payload);
    if (!event) return Err.ERR_INVALID_PARAMETER;
    return this.sendPacket(peerId, event, channel, reliable);
  }

  triggerEventToAll(name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true, exclude: readonly number[] = []): Err {
    const event = this.eventOrNull(name, payload);
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

  // ---- metrics ------------------------------------------------------------------------------

  getMetrics(): ServerMetrics {
    const running = this.running;
    const counters = running ? sumCounters(running.shards) : undefined;
    const actors: ActorMetrics[] = [];
    let actorStalls = 0;
    if (running) {
      const peersOn = new Array<number>(running.shards.length).fill(0);
      for (const peer of this.peers.values()) peersOn[peer.shard]++;
      for (const shard of running.shards) {
        const link = shard.link;
        actors.push({
          kind: 'net',
          id: shard.id,
          restarts: link.restarts,
          handled: link.counters[C_PACKETS_IN],
          inboundDepth: link.inbound.depth,
          outboundDepth: link.out.ring.capacity - link.out.ring.freeBytes,
          peers: peersOn[shard.id],
        });
        actorStalls += link.out.ring.stalls;
      }
      for (const { outboundStalls, ...row } of running.actors?.rows() ?? []) {
        actors.push({ ...row, peers: this.countPeersOf(row.id) });
        actorStalls += outboundStalls;
      }
    }
    return {
      peers: this.peers.size,
      authenticatedPeers: this.getAuthenticatedPeerCount(),
      packetsIn: counters?.[C_PACKETS_IN] ?? 0,
      packetsOut: counters?.[C_PACKETS_OUT] ?? 0,
      bytesIn: counters?.[C_BYTES_IN] ?? 0,
      bytesOut: counters?.[C_BYTES_OUT] ?? 0,
      wireBytesIn: counters?.[C_WIRE_BYTES_IN] ?? 0,
      wireBytesOut: counters?.[C_WIRE_BYTES_OUT] ?? 0,
      malformedPackets: this.malformed,
      droppedUnauthenticated: this.droppedUnauthenticated,
      actorRestarts: this.actorRestarts,
      setAside: this.setAside,
      pendingConnects: counters?.[C_PENDING_CONNECTS] ?? 0,
      refusedConnects: refused(counters, this.refusedFull),
      rateLimited: counters?.[C_RATE_LIMITED] ?? 0,
      kicked: { ...this.kicked },
      queuedBytes: counters?.[C_QUEUED_BYTES] ?? 0,
      busySkipped: this.busySkipped,
      bannedAddresses: counters?.[C_BANNED_ADDRESSES] ?? 0,
      ringStalls: (counters?.[C_INBOUND_STALLS] ?? 0) + actorStalls,
      cpuPercent: this.usage.cpuPercent,
      memoryRss: this.usage.memoryRss,
      actors,
    };
  }

  // ---- PeerOwner (called by ENetServerPeer) -------------------------------------------------

  [kSend](peer: ENetServerPeer, packet: unknown, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(packet, this.formatOf(peer), running.limits);
    } catch {
      return Err.ERR_INVALID_DATA;
    }
    return this.sendBytes(peer, bytes, channel, reliable);
  }

  [kSendRaw](peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    return this.sendBytes(peer, bytes, channel, reliable);
  }

  [kDisconnect](peer: ENetServerPeer, reason: string): void {
    this.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
  }

  [kReject](peer: ENetServerPeer, reason: string): void {
    if (peer.state === ConnectionState.STATE_DISCONNECTING) return;
    if (peer.state !== ConnectionState.STATE_AUTHENTICATED) this.countAuthFailure(peer);
    peer.authState = AuthState.AUTH_REJECTED;
    this.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
  }

  [kAuthenticate](peer: ENetServerPeer): void {
    if (peer.state !== ConnectionState.STATE_CONNECTING && peer.state !== ConnectionState.STATE_PRELOGIN) return;
    if (this.peers.get(peer.peerId) !== peer) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    const running = this.running;
    if (running?.actors && !this.routeToActor(peer, running)) return;
    peer.state = ConnectionState.STATE_AUTHENTICATED;
    peer.authState = AuthState.AUTH_APPROVED;
    this.safeEmit('peerAuthenticated', peer);
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
    if (this.peers.get(peer.peerId) !== peer || peer.state === ConnectionState.STATE_DISCONNECTING) return Err.ERR_INVALID_PARAMETER;
    try {
      const notice = encodePacket(makeEvent(REDIRECT_EVENT, { address, port, reason: String(reason ?? '') }), this.formatOf(peer), running.limits);
      const shard = running.shards[peer.shard];
      shard.link.out.sendControlPacket(shard.host, peer.slot, peer.peerId, 0, notice);
    } catch {
      return Err.ERR_INVALID_DATA;
    }
    this.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
    return Err.OK;
  }

  // ---- inbound records ----------------------------------------------------------------------

  private readonly onRecord = (shard: Shard, bytes: Uint8Array, offset: number, length: number): void => {
    const running = this.running;
    if (!running) return;
    const view = shard.link.inbound.view;
    const peerId = view.getUint32(offset + R_PEER_ID, true);
    try {
      switch (bytes[offset]) {
        case IN_RECEIVE: {
          const peer = this.peers.get(peerId);
          if (!peer) return;
          const flags = view.getUint16(offset + R_FLAGS, true);
          if (peer.routing && !(flags & FLAG_RELAYED)) {
            // It reached us before its route took effect: it goes on to its actor, in order.
            shard.link.out.forward(shard.host, peer.slot, peerId, bytes[offset + R_CHANNEL], flags, bytes.subarray(offset + R_BODY, offset + length));
            return;
          }
          // Each packet gets its own copy: the ring's bytes are reused as soon as the batch ends.
          const data = Buffer.allocUnsafe(length - R_BODY);
          data.set(bytes.subarray(offset + R_BODY, offset + length));
          if (flags & FLAG_RELAYED) {
            // Its actor did not handle it: the signals, as in main-thread mode.
            if (peer.state === ConnectionState.STATE_AUTHENTICATED) this.onGamePacket(peer, data, bytes[offset + R_CHANNEL]);
            return;
          }
          this.onPacket(peer, data, bytes[offset + R_CHANNEL]);
          return;
        }
        case IN_ROUTED: {
          // Everything of this peer that reached us first is forwarded: its held records may follow.
          shard.link.out.routeDone(shard.host, view.getUint32(offset + R_SLOT, true), peerId);
          const peer = this.peers.get(peerId);
          if (peer) peer.routing = false;
          return;
        }
        case IN_CONNECT: {
          const data = view.getUint32(offset + R_BODY, true);
          const address = ipv4ToString(bytes, offset + R_BODY + 4);
          const port = view.getUint16(offset + R_BODY + 8, true);
          const channels = view.getUint16(offset + R_BODY + 10, true);
          this.onConnect(shard, peerId, view.getUint32(offset + R_SLOT, true), channels, data, address, port, running);
          return;
        }
        case IN_DISCONNECT: {
          const peer = this.peers.get(peerId);
          if (!peer) return;
          this.removePeer(peer, this.disconnectReason(peer, bytes, offset, length));
          return;
        }
        case IN_KICK_REQUEST: {
          const peer = this.peers.get(peerId);
          if (peer) this.kickAbusive(peer, view.getUint32(offset + R_BODY, true));
          return;
        }
        case IN_ERROR:
          running.options.logger.error(`enet-actor-server: ENet host service failed (code ${view.getInt32(offset + R_BODY, true)})`);
          return;
      }
    } catch (error) {
      this.reportError(error);
    }
  };

  private onConnect(shard: Shard, peerId: number, slot: number, channels: number, data: number, address: string, port: number, running: Running): void {
    const peer = new ENetServerPeer(this, peerId, shard.id, slot, channels, address, port, shard.stats, running.options.packetFormat);
    if (this.peers.size >= running.maxPeers) {
      // Shards have room beyond their share (the kernel spreads peers unevenly): maxPeers holds here.
      this.refusedFull++;
      this.disconnect(peer, REASON_SERVER_FULL, DISCONNECT_LATER);
      return;
    }
    this.peers.set(peerId, peer);
    this.safeEmit('peerConnecting', peer, data);
    if (peer.state !== ConnectionState.STATE_CONNECTING) return; // rejected or approved by a handler
    if (this.authMode === AuthMode.AUTH_NONE) {
      this[kAuthenticate](peer);
      return;
    }
    peer.state = ConnectionState.STATE_PRELOGIN;
    if (this.authTimeout > 0) {
      peer.authTimer = setTimeout(() => {
        peer.authTimer = undefined;
        if (peer.authState === AuthState.AUTH_PENDING && peer.state === ConnectionState.STATE_PRELOGIN) {
          this[kReject](peer, REASON_AUTH_TIMEOUT);
        }
      }, this.authTimeout * 1000);
      peer.authTimer.unref();
    }
  }

  private onPacket(peer: ENetServerPeer, data: Buffer, channel: number): void {
    if (peer.state === ConnectionState.STATE_AUTHENTICATED) {
      this.onGamePacket(peer, data, channel);
    } else if (peer.state === ConnectionState.STATE_PRELOGIN && !peer.loginReceived) {
      this.onLoginPacket(peer, data);
    } else {
      this.droppedUnauthenticated++;
    }
  }

  private onGamePacket(peer: ENetServerPeer, data: Buffer, channel: number): void {
    const running = this.running!;
    this.safeEmit('rawPacketReceived', peer, data, channel);
    let value: unknown;
    try {
      value = decodePacket(data, running.limits);
    } catch (error) {
      this.countMalformed(peer, error);
      return;
    }
    if (data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) peer.format = PacketFormat.GODOT;
    const event = splitEvent(value);
    if (event) {
      const handler = this.events.get(event.name);
      if (handler) {
        try {
          const result: unknown = handler(peer, event.payload, channel);
          if (isThenable(result)) result.then(undefined, (error: unknown) => this.reportError(error, `event '${event.name}'`));
        } catch (error) {
          this.reportError(error, `event '${event.name}'`);
        }
        this.safeEmit('customEventReceived', peer, event.name, event.payload, channel);
        return;
      }
      this.safeEmit('unknownEventReceived', peer, event.name, event.payload, channel);
    }
    this.safeEmit('packetReceived', peer, value, channel);
  }

  private onLoginPacket(peer: ENetServerPeer, data: Buffer): void {
    peer.loginReceived = true;
    let login: unknown;
    try {
      login = decodePacket(data, this.running!.limits);
    } catch {
      login = undefined;
    }
    if (!isPlainObject(login)) {
      this[kReject](peer, REASON_BAD_LOGIN);
      return;
    }
    if (data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) peer.format = PacketFormat.GODOT;
    const authenticator = this.authenticator;
    if (this.authMode !== AuthMode.AUTH_CUSTOM || !authenticator) {
      this.safeEmit('peerPrelogin', peer, login);
      return;
    }
    let verdict: unknown;
    try {
      verdict = authenticator(peer, login);
    } catch (error) {
      this.reportError(error, 'the authenticator');
      verdict = false;
    }
    if (verdict !== null && typeof verdict === 'object' && typeof (verdict as PromiseLike<unknown>).then === 'function') {
      (verdict as PromiseLike<unknown>).then(
        (result) => this.applyVerdict(peer, result),
        (error: unknown) => {
          this.reportError(error, 'the authenticator');
          this.applyVerdict(peer, false);
        },
      );
    } else {
      this.applyVerdict(peer, verdict);
    }
  }

  /** `true` approves, `false` rejects, `undefined` leaves it to the authenticator's own calls. */
  private applyVerdict(peer: ENetServerPeer, verdict: unknown): void {
    if (peer.authState !== AuthState.AUTH_PENDING || peer.state !== ConnectionState.STATE_PRELOGIN) return;
    if (verdict === true) this[kAuthenticate](peer);
    else if (verdict === undefined) return;
    else {
      if (verdict !== false) this.running?.options.logger.warn(`enet-actor-server: the authenticator returned ${typeof verdict}; expected true, false or undefined — rejecting peer ${peer.peerId}`);
      this[kReject](peer, REASON_AUTH_FAILED);
    }
  }

  private removePeer(peer: ENetServerPeer, reason: string): void {
    if (this.peers.get(peer.peerId) !== peer) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    peer.state = ConnectionState.STATE_DISCONNECTING;
    this.peers.delete(peer.peerId);
    this.clusterMember?.forget(peer);
    if (peer.actor >= 0) this.running?.directory?.clear(peer.shard, peer.slot, peer.peerId);
    this.safeEmit('peerDisconnected', peer, reason);
    if (this.peers.size === 0) this.whenPeersGone?.();
  }

  // ---- helpers ------------------------------------------------------------------------------

  private disconnect(peer: ENetServerPeer, reason: string, mode: number): void {
    const running = this.running;
    if (!running || peer.state === ConnectionState.STATE_DISCONNECTING) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    peer.state = ConnectionState.STATE_DISCONNECTING;
    peer.pendingReason = reason;
    const shard = running.shards[peer.shard];
    if (reason !== '') {
      // ENet carries only a number with a disconnect: the reason travels just before it, as an event.
      try {
        const notice = encodePacket(makeEvent(DISCONNECT_REASON_EVENT, { reason }), this.formatOf(peer), running.limits);
        shard.link.out.sendControlPacket(shard.host, peer.slot, peer.peerId, 0, notice);
      } catch (error) {
        this.reportError(error);
      }
    }
    shard.link.out.disconnect(shard.host, peer.slot, peer.peerId, mode, DISCONNECT_DATA_BY_SERVER, reason);
  }

  private sendBytes(peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (this.peers.get(peer.peerId) !== peer || peer.state === ConnectionState.STATE_DISCONNECTING) return Err.ERR_INVALID_PARAMETER;
    // ENet would drop a packet on a channel the peer did not open: refused here instead.
    if (!isInt(channel, 0, peer.channels - 1)) return Err.ERR_INVALID_PARAMETER;
    if (bytes.length > running.options.maxPacketSize) return Err.ERR_INVALID_DATA;
    const shard = running.shards[peer.shard];
    if (!shard.queueBudget.take(peer.slot, bytes.length)) return Err.ERR_BUSY;
    return shard.link.out.send(shard.host, peer.slot, peer.peerId, channel, reliable !== false, bytes) ? Err.OK : Err.ERR_BUSY;
  }

  private sendToPeers(targets: readonly ENetServerPeer[], packet: unknown, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    return this.sendInFormats(targets, (format) => encodePacket(packet, format, running.limits), channel, reliable);
  }

  /**
   * Each format present among the targets gets its bytes once (`bytesFor`: encoding, or a fleet
   * packet's pre-encoded copy), queued once to all of them. A throw is ERR_INVALID_DATA at once;
   * null skips that format's peers (ERR_INVALID_DATA, the others are still sent to).
   */
  private sendInFormats(targets: readonly ENetServerPeer[], bytesFor: (format: PacketFormat) => Uint8Array | null, channel: number, reliable: boolean): Err {
    let result = Err.OK;
    for (const format of [PacketFormat.MSGPACK, PacketFormat.GODOT]) {
      const group = targets.filter((peer) => this.formatOf(peer) === format);
      if (group.length === 0) continue;
      let bytes: Uint8Array | null;
      try {
        bytes = bytesFor(format);
      } catch {
        return Err.ERR_INVALID_DATA;
      }
      const sent = bytes ? this.sendBytesToPeers(group, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
      if (sent !== Err.OK) result = sent;
    }
    return result;
  }

  private sendBytesToPeers(targets: readonly ENetServerPeer[], bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const running = this.running;
    if (!running) return Err.ERR_UNCONFIGURED;
    if (!isInt(channel, 0, running.maxChannels - 1)) return Err.ERR_INVALID_PARAMETER;
    if (bytes.length > running.options.maxPacketSize) return Err.ERR_INVALID_DATA;
    // A peer that opened fewer channels is left out of a group send on a channel it lacks (ENet
    // would drop it; refusing the whole send would let one such client block every broadcast).
    if (targets.length === 0) return Err.OK;
    // One record per shard with its targets, all carrying the same encoded bytes.
    const shards = running.shards;
    const lists = shards.map(() => new Uint32Array(targets.length * 2));
    const counts = new Array<number>(shards.length).fill(0);
    for (const peer of targets) {
      if (channel >= peer.channels) continue;
      if (!shards[peer.shard].queueBudget.take(peer.slot, bytes.length)) {
        this.busySkipped++;
        continue;
      }
      const list = lists[peer.shard];
      list[counts[peer.shard]++] = peer.slot;
      list[counts[peer.shard]++] = peer.peerId;
    }
    if (counts.every((n) => n === 0)) return Err.ERR_INVALID_PARAMETER;
    let result = Err.OK;
    for (const shard of shards) {
      const n = counts[shard.id];
      if (n > 0 && !shard.link.out.sendMulti(shard.host, channel, reliable !== false, lists[shard.id].subarray(0, n), bytes)) result = Err.ERR_BUSY;
    }
    return result;
  }

  private authenticatedPeers(exclude: readonly number[]): ENetServerPeer[] {
    const excluded = exclude.length > 0 ? new Set(exclude) : undefined;
    const result: ENetServerPeer[] = [];
    for (const peer of this.peers.values()) {
      if (peer.state === ConnectionState.STATE_AUTHENTICATED && !excluded?.has(peer.peerId)) result.push(peer);
    }
    return result;
  }

  private encodeNodeOrNull(node: NetworkNode, flags: number): Uint8Array | undefined {
    if (node === null || typeof node !== 'object') return undefined;
    try {
      return encodeNode(node, flags);
    } catch {
      return undefined;
    }
  }

  private eventOrNull(name: string, payload: Record<string, unknown>): Record<string, unknown> | undefined {
    if (typeof name !== 'string' || name === '' || !isPlainObject(payload ?? {})) return undefined;
    return makeEvent(name, payload ?? {});
  }

  // ---- defences ----------------------------------------------------------------------------

  /** The native guard found a peer sending a packet over maxPacketSize or over its rate limit. */
  private kickAbusive(peer: ENetServerPeer, cause: number): void {
    const tooLarge = cause === KICK_PACKET_TOO_LARGE;
    const reason = tooLarge ? REASON_PACKET_TOO_LARGE : REASON_RATE_LIMIT;
    if (tooLarge) this.kicked.packetTooLarge++;
    else this.kicked.rateLimit++;
    this.logError(new Error(`peer ${peer.peerId} (${peer.getRemoteAddress()}:${peer.getRemotePort()}) disconnected: ${reason}`), 'the guard');
    // A flooder's acknowledgements drown with its flood (its datagrams are dropped): waiting for
    // them (DISCONNECT_LATER) could take seconds. It is dropped at once instead.
    this.disconnect(peer, reason, tooLarge ? DISCONNECT_LATER : DISCONNECT_NOW);
  }

  /** authFailureLimit: an address whose peers keep failing authentication is refused for a while. */
  private countAuthFailure(peer: ENetServerPeer): void {
    const running = this.running;
    const limit = running?.options.authFailureLimit;
    if (!running || !limit) return;
    const address = peer.getRemoteAddress();
    const now = Date.now();
    const recent = (this.authFailures.get(address) ?? []).filter((at) => now - at < limit.windowMs);
    recent.push(now);
    if (recent.length < limit.failures) {
      if (!this.authFailures.has(address) && this.authFailures.size >= AUTH_FAILURE_ADDRESSES) {
        this.authFailures.delete(this.authFailures.keys().next().value!);
      }
      this.authFailures.set(address, recent);
      return;
    }
    this.authFailures.delete(address);
    for (const shard of running.shards) shard.link.out.ban(shard.host, ipv4ToBytes(address), limit.banMs);
    this.logError(new Error(`${address}: ${recent.length} failed logins within ${limit.windowMs} ms, refused for ${limit.banMs} ms`), 'authFailureLimit');
  }


  // ---- game actors -------------------------------------------------------------------------

  /** Places the peer on an actor and routes its records there. False: it was rejected instead. */
  private routeToActor(peer: ENetServerPeer, running: Running): boolean {
    const actors = running.actors!;
    let actor: number;
    try {
      actor = running.options.placePeer ? running.options.placePeer(peer) : peer.peerId % actors.count;
      if (!isInt(actor, 0, actors.count - 1)) throw new Error(`returned ${String(actor)}, not an actor index 0–${actors.count - 1}`);
    } catch (error) {
      this.reportError(new PlacementError(peer.peerId, (error as Error)?.message ?? String(error), { cause: error }));
      this[kReject](peer, REASON_SERVER_ERROR);
      return false;
    }
    const view = {
      peerId: peer.peerId,
      shard: peer.shard,
      slot: peer.slot,
      channels: peer.channels,
      format: peer.format,
      remoteAddress: peer.getRemoteAddress(),
      remotePort: peer.getRemotePort(),
      customData: peer.getCustomData(),
    };
    let attach: Uint8Array;
    try {
      attach = encodeAttach(view);
    } catch (error) {
      this.reportError(new PlacementError(peer.peerId, `its custom data cannot be cloned to game actor ${actor} (${(error as Error).message}); the actor sees customData null`, { cause: error }));
      attach = encodeAttach({ ...view, customData: null });
    }
    peer.actor = actor;
    peer.routing = true;
    peer.attach = attach;
    running.directory!.set({ shard: peer.shard, slot: peer.slot, peerId: peer.peerId, channels: peer.channels, format: peer.format, actor });
    const shard = running.shards[peer.shard];
    shard.link.out.route(shard.host, peer.slot, peer.peerId, actor + 1, attach);
    return true;
  }

  /** What a replacement of actor `id` restores: the peers placed there. */
  private attachViewsOf(id: number): Uint8Array[] {
    const views: Uint8Array[] = [];
    for (const peer of this.peers.values()) {
      if (peer.actor === id && peer.attach && peer.state === ConnectionState.STATE_AUTHENTICATED) views.push(peer.attach);
    }
    return views;
  }

  private countPeersOf(id: number): number {
    let count = 0;
    for (const peer of this.peers.values()) if (peer.actor === id) count++;
    return count;
  }

  private readonly onActorMessage = (id: number, message: ActorMessage): void => {
    switch (message.type) {
      case 'post':
        this.safeEmit('actorMessage', id, message.message);
        return;
      case 'handlerError':
        this.reportError(new GameHandlerError(id, message.handler, message.peerId, message.message, message.stack));
        return;
      case 'log': {
        const logger = this.running?.options.logger ?? console;
        if (message.level === 'warn') logger.warn(`enet-actor-server: ${message.message}`);
        else logger.error(`enet-actor-server: ${message.message}`);
        return;
      }
      case 'ready':
        return;
      case 'cluster':
        void this.onActorClusterCall(id, message.id, message.call);
        return;
    }
  };

  /** ctx.cluster: run on the main thread's cluster member, answered to the actor. */
  private async onActorClusterCall(actorId: number, callId: number, call: ClusterCall): Promise<void> {
    let reply: SupervisorMessage;
    try {
      const cluster = this.clusterMember;
      if (!cluster) throw new ENetError(Err.ERR_UNCONFIGURED, 'ctx.cluster needs a server started with options.cluster');
      reply = { type: 'clusterReply', id: callId, err: await cluster.runActorCall(call) };
    } catch (error) {
      const code = error instanceof ENetError ? error.code : Err.FAILED;
      reply = { type: 'clusterReply', id: callId, error: { code, message: (error as Error)?.message ?? String(error) } };
    }
    this.running?.actors?.postTo(actorId, reply);
  }

  private onSetAside(id: number, record: Uint8Array, peerId: number): void {
    this.setAside++;
    const kind = record[0];
    const error = new SetAsideError(id, peerId, kind);
    (this.running?.options.logger ?? console).error(`enet-actor-server: ${error.message}`);
    this.reportError(error);
    // A disconnect its actor never passed on: the supervisor learns of it here.
    if (kind === IN_DISCONNECT) {
      const peer = this.peers.get(peerId);
      if (peer) this.removePeer(peer, this.disconnectReason(peer, record, 0, record.length));
    }
  }

  private disconnectReason(peer: ENetServerPeer, bytes: Uint8Array, offset: number, length: number): string {
    if (peer.pendingReason !== undefined) return peer.pendingReason;
    if (length > R_BODY + 8) return utf8.decode(bytes.subarray(offset + R_BODY + 8, offset + length));
    const cause = new DataView(bytes.buffer, bytes.byteOffset + offset).getUint32(R_BODY + 4, true);
    return cause === CAUSE_LOCAL ? '' : REASON_CONNECTION_LOST;
  }

  /** A routed peer's format as its actor last saw it (Godot peers are learned there). */
  private formatOf(peer: ENetServerPeer): PacketFormat {
    const directory = this.running?.directory;
    if (directory && peer.actor >= 0) peer.format = directory.format(peer.shard, peer.slot, peer.peerId, peer.format);
    return peer.format;
  }

  private startUsageSampler(): void {
    const sample = (): void => {
      pidusage(process.pid, (error, stats) => {
        if (error || !stats) return;
        this.usage = { cpuPercent: stats.cpu, memoryRss: stats.memory };
      });
    };
    sample();
    this.usageTimer = setInterval(sample, USAGE_SAMPLE_MS);
    this.usageTimer.unref();
  }

  private stopUsageSampler(): void {
    clearInterval(this.usageTimer);
    this.usageTimer = undefined;
  }

  private countMalformed(peer: ENetServerPeer, error: unknown): void {
    this.malformed++;
    if (peer.malformedReported) return;
    peer.malformedReported = true;
    this.running?.options.logger.warn(
      `enet-actor-server: dropped a malformed packet from peer ${peer.peerId} (${peer.getRemoteAddress()}:${peer.getRemotePort()}): ${(error as Error)?.message ?? error}; further ones from this peer are counted silently`,
    );
  }

  /** Emits without letting an application handler's exception reach the inbound pump. */
  private safeEmit<K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: ServerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.reportError(error, `'${event}' listener`);
    }
  }

  /** EventEmitter's captureRejections: an async listener's promise rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown, event: string | symbol): void {
    if (event === 'error') this.logError(error, "an 'error' listener");
    else this.reportError(error, `'${String(event)}' listener`);
  }

  /** Through 'error' if anyone listens (a listener that throws is logged), else the logger. */
  private reportError(error: unknown, where = 'a handler'): void {
    if (this.listenerCount('error') === 0) {
      this.logError(error, where);
      return;
    }
    try {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    } catch (thrown) {
      this.logError(thrown, "an 'error' listener");
    }
  }

  /** Logged at most once per cause every LOG_REPEAT_MS, with how many were left out meanwhile. */
  private logError(error: unknown, where: string): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const key = `${where}|${text.slice(0, 200)}`;
    const now = Date.now();
    const seen = this.logged.get(key);
    if (seen && now - seen.at < LOG_REPEAT_MS) {
      seen.suppressed++;
      return;
    }
    if (!seen && this.logged.size >= LOG_CAUSES) this.logged.delete(this.logged.keys().next().value!);
    const suppressed = seen?.suppressed ?? 0;
    this.logged.set(key, { at: now, suppressed: 0 });
    const detail = seen ? text : ((error as Error)?.stack ?? text);
    const more = suppressed > 0 ? ` (${suppressed} more like it in the last ${LOG_REPEAT_MS / 1000} s)` : '';
    try {
      (this.running?.options.logger ?? console).error(`enet-actor-server: ${where} failed: ${detail}${more}`);
    } catch {
      // A logger that throws has nowhere left to report to.
    }
  }

  // ---- cluster ------------------------------------------------------------------------------

  /** The member's view of this server (src/cluster/member.ts ClusterHost). */
  private async joinCluster(running: Running, maxPeers: number): Promise<void> {
    const host: ClusterHost<ENetServerPeer> = {
      peers: () => this.peers.values(),
      peerCount: () => this.peers.size,
      maxPeers,
      limits: running.limits,
      logger: running.options.logger,
      isLive: (peer) => this.peers.get(peer.peerId) === peer && peer.state !== ConnectionState.STATE_DISCONNECTING,
      sendEncoded: (peer, packet, channel, reliable) => {
        const bytes = fleetBytes(packet, this.formatOf(peer));
        return bytes ? this.sendBytes(peer, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
      },
      broadcastEncoded: (packet, channel, reliable, excludePeerIds) => {
        this.sendInFormats(this.authenticatedPeers(excludePeerIds), (format) => fleetBytes(packet, format), channel, reliable);
      },
      kick: (peer, reason) => {
        if (peer.state === ConnectionState.STATE_AUTHENTICATED) this.disconnect(peer, reason, DISCONNECT_LATER);
        else this[kReject](peer, reason);
      },
      onDown: (error) => {
        running.options.logger.warn(`enet-actor-server: ${error.message}; serving this server's peers only until it is back`);
        this.safeEmit('clusterDown', error);
      },
      onUp: () => this.safeEmit('clusterUp'),
      report: (error) => this.reportError(error, 'the cluster'),
    };
    // Loaded only when asked for: ioredis stays off a lone server's start-up, and off every game
    // actor thread (their modules import this package).
    const { ClusterMember } = await import('../cluster/member.js');
    if (this.running !== running || this.stopping) return;  // stopServer() came first
    const member = new ClusterMember(host, running.options.cluster!, { address: running.options.bindAddress, port: running.port });
    this.clusterMember = member;
    await member.start();
  }

  private giveUp(error: Error): void {
    this.reportError(error);
    void this.stopServer();
  }
}
