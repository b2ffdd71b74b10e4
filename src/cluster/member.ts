// Runs on the main thread, beside the supervisor: this server's membership of a fleet coordinated
// through Redis (docs/cluster.md). Two connections: one for
// commands, one subscribed to this server's channel, the broadcast channel and the topics. Redis
// being down never reaches local serving: calls reject with ENetError ERR_UNAVAILABLE meanwhile,
// and presence, identities and subscriptions are restored when it is back.
import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { Redis, ReplyError } from 'ioredis';
import { Err } from '../wire/enums.js';
import { ENetError } from '../wire/errors.js';
import type { CodecLimits } from '../wire/codec/index.js';
import { encodeForFleet, type ClusterCall, type EncodedPacket } from './encode.js';
import type { DuplicateLoginPolicy, Logger, ResolvedClusterOptions } from '../server-common/options.js';
import {
  CHANNEL_ALL,
  CHANNEL_SERVER_PREFIX,
  CHANNEL_TOPIC_PREFIX,
  CLAIM,
  HEARTBEAT,
  KEY_IDENTITY_PREFIX,
  KEY_SERVERS,
  KEY_SERVER_PREFIX,
  LEAVE,
  RELEASE,
  ROUTE,
  SERVERS,
} from './scripts.js';

export const REASON_LOGGED_IN_ELSEWHERE = 'Logged in elsewhere';

/** A live server of the fleet, as `cluster.servers()` lists it. */
export interface ServerInfo {
  serverId: string;
  /** What clients should dial (options.cluster.advertise). */
  address: string;
  port: number;
  peers: number;
  maxPeers: number;
  /** peers / maxPeers. */
  load: number;
  /** ms since the epoch. */
  startedAt: number;
}

export type { EncodedPacket } from './encode.js';

/** What the member needs of its server (the supervisor), and nothing more. */
export interface ClusterPeer {
  readonly peerId: number;
  identity: string | undefined;
}

export interface ClusterHost<Peer extends ClusterPeer> {
  peers(): Iterable<Peer>;
  peerCount(): number;
  readonly maxPeers: number;
  readonly limits: CodecLimits;
  readonly logger: Logger;
  /** Still connected and not disconnecting. */
  isLive(peer: Peer): boolean;
  sendEncoded(peer: Peer, packet: EncodedPacket, channel: number, reliable: boolean): Err;
  broadcastEncoded(packet: EncodedPacket, channel: number, reliable: boolean, excludePeerIds: number[]): void;
  /** Disconnects (an authenticated peer) or rejects (one still logging in) with `reason`. */
  kick(peer: Peer, reason: string): void;
  onDown(error: Error): void;
  onUp(): void;
  report(error: unknown): void;
}

/** Messages between servers (v8.serialize'd: the structured-clone algorithm, as postMessage). */
type Envelope =
  | { t: 'send'; id: number; from: string; identity: string; channel: number; reliable: boolean; m: Uint8Array | null; g: Uint8Array | null }
  | { t: 'ack'; id: number; err: Err }
  | { t: 'kick'; identity: string; by: string }
  | { t: 'bcast'; from: string; channel: number; reliable: boolean; m: Uint8Array | null; g: Uint8Array | null; x: string[] }
  | { t: 'topic'; from: string; message: unknown };

interface Commands {
  enetHeartbeat(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  enetServers(key: string, prefix: string): Promise<string[]>;
  enetClaim(key: string, value: string, ttl: number, policy: string, prefix: string, notice: Buffer, serverId: string): Promise<[number, string]>;
  enetRelease(key: string, value: string): Promise<number>;
  enetRoute(key: string, prefix: string, request: Buffer, serverId: string): Promise<[string, number] | null>;
  enetLeave(servers: string, server: string, serverId: string): Promise<number>;
}
type CommandConnection = Redis & Commands;

/**
 * A command not answered in this long counts as Redis unavailable. Only a hung Redis gets this far:
 * one that is down closes the connection, and calls then fail at once.
 */
const COMMAND_TIMEOUT_MS = 2000;
/** createServer waits at most this long for the first registration (it goes on without, and keeps trying). */
const START_WAIT_MS = 10_000;
/** Reconnection attempts back off to at most this: Redis back means working again within it (+ a round trip). */
const MAX_RETRY_DELAY_MS = 250;
/** Identities refreshed per heartbeat script call: a long script blocks every other Redis client. */
const HEARTBEAT_BATCH = 500;
const MAX_IDENTITY_LENGTH = 512;

type TopicHandler = (message: unknown, fromServerId: string) => void;

export class ClusterMember<Peer extends ClusterPeer = ClusterPeer> {
  readonly serverId: string;
  readonly address: string;
  readonly port: number;
  readonly startedAt = Date.now();
  readonly duplicateLogin: DuplicateLoginPolicy;
  /** Tells this run apart from an earlier one under the same serverId (their peer ids overlap). */
  private readonly instance = randomBytes(6).toString('hex');
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly commands: CommandConnection;
  private readonly subscriber: Redis;
  private readonly ownChannel: string;
  private readonly identities = new Map<string, { peer: Peer; value: string }>();
  private readonly topics = new Map<string, Set<TopicHandler>>();
  private readonly pending = new Map<number, { resolve: (err: Err) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private nextRequest = 1;
  private commandsReady = false;
  private subscriberReady = false;
  private up = false;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeating: Promise<void> | undefined;
  private lastError: Error | undefined;
  /** 'clusterDown' said for this outage (or for a first connection that failed). */
  private downReported = false;
  /** start() waiting for the first registration. */
  private whenUp: (() => void) | undefined;

  constructor(
    private readonly host: ClusterHost<Peer>,
    options: ResolvedClusterOptions,
    bound: { address: string; port: number },
  ) {
    this.serverId = options.serverId ?? `${hostname()}:${bound.port}`;
    this.address = options.advertise?.address ?? dialable(bound.address);
    this.port = options.advertise?.port ?? bound.port;
    this.ttlMs = options.ttlMs;
    this.heartbeatMs = options.heartbeatMs;
    this.duplicateLogin = options.duplicateLogin;
    this.ownChannel = CHANNEL_SERVER_PREFIX + this.serverId;
    // CLIENT SETNAME takes no spaces or special characters: what CLIENT LIST shows an operator.
    const name = `enet-server:${this.serverId.replace(/[^\w.:-]/g, '_')}`;
    const connection = {
      lazyConnect: true,
      // Calls fail at once while Redis is away instead of queueing for it (the caller decides).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 5000,
      retryStrategy: (times: number) => Math.min(times * 50, MAX_RETRY_DELAY_MS),
      connectionName: name,
    };
    this.commands = new Redis(options.redis, connection) as CommandConnection;
    this.subscriber = new Redis(options.redis, { ...connection, connectionName: `${name}:subscriber` });
    this.commands.defineCommand('enetHeartbeat', { lua: HEARTBEAT });
    this.commands.defineCommand('enetServers', { numberOfKeys: 1, lua: SERVERS });
    this.commands.defineCommand('enetClaim', { numberOfKeys: 1, lua: CLAIM });
    this.commands.defineCommand('enetRelease', { numberOfKeys: 1, lua: RELEASE });
    this.commands.defineCommand('enetRoute', { numberOfKeys: 1, lua: ROUTE });
    this.commands.defineCommand('enetLeave', { numberOfKeys: 2, lua: LEAVE });
    for (const redis of [this.commands, this.subscriber]) {
      // ioredis emits 'error' on every failed (re)connection: without a listener it would throw.
      redis.on('error', (error: Error) => {
        this.lastError = error;
      });
    }
    this.commands.on('ready', () => {
      this.commandsReady = true;
      this.refreshState();
    });
    this.commands.on('close', () => {
      this.commandsReady = false;
      this.refreshState();
    });
    this.subscriber.on('ready', () => void this.onSubscriberReady());
    this.subscriber.on('close', () => {
      this.subscriberReady = false;
      this.refreshState();
    });
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message));
  }

  /** Connects and registers; resolves once registered, or once the first attempt failed (it keeps trying). */
  async start(): Promise<void> {
    const settled = new Promise<void>((resolve) => {
      // A refused connection ends the wait at once (an 'error'); only a slow Redis or machine waits this long.
      const timer = setTimeout(resolve, START_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.commands.off('error', done);
        this.subscriber.off('error', done);
        this.whenUp = undefined;
        resolve();
      };
      this.whenUp = done;
      this.commands.once('error', done);
      this.subscriber.once('error', done);
    });
    this.commands.connect().catch(() => {});
    this.subscriber.connect().catch(() => {});
    await settled;
    if (this.stopped) return;  // stopServer() came first
    if (!this.up) this.goDown();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Leaves the fleet: presence and identities removed (when Redis is reachable), connections closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new ENetError(Err.ERR_UNCONFIGURED, 'the cluster member stopped'));
      this.pending.delete(id);
    }
    if (this.up) {
      const pipeline = this.commands.pipeline() as unknown as Commands & { exec(): Promise<unknown> };
      pipeline.enetLeave(KEY_SERVERS, KEY_SERVER_PREFIX + this.serverId, this.serverId);
      for (const [identity, { value }] of this.identities) pipeline.enetRelease(KEY_IDENTITY_PREFIX + identity, value);
      await pipeline.exec().catch(() => {});
    }
    this.identities.clear();
    this.topics.clear();
    this.up = false;
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  /** Whether Redis is reachable now (both connections ready and subscribed). */
  isUp(): boolean {
    return this.up && !this.stopped;
  }

  // ---- presence -----------------------------------------------------------------------------

  async servers(): Promise<ServerInfo[]> {
    const rows = await this.call(() => this.commands.enetServers(KEY_SERVERS, KEY_SERVER_PREFIX));
    const servers: ServerInfo[] = [];
    for (const row of rows) {
      try {
        servers.push(JSON.parse(row) as ServerInfo);
      } catch {
        // Not written by a cluster member: not a server.
      }
    }
    return servers;
  }

  /** The least loaded live server (fewest peers on a tie), or null. */
  async pickServer(): Promise<ServerInfo | null> {
    const servers = await this.servers();
    servers.sort((a, b) => a.load - b.load || a.peers - b.peers || (a.serverId < b.serverId ? -1 : 1));
    return servers[0] ?? null;
  }

  // ---- identities ---------------------------------------------------------------------------

  /**
   * Names `peer` fleet-wide. OK, or ERR_ALREADY_IN_USE when 'reject-new' refused it (the peer is
   * then rejected with "Logged in elsewhere"), ERR_INVALID_PARAMETER for a bad key or a peer that
   * is gone. Rejects with ENetError ERR_UNAVAILABLE while Redis is down (the identity is not set).
   */
  async setIdentity(peer: Peer, identity: string): Promise<Err> {
    if (typeof identity !== 'string' || identity === '' || identity.length > MAX_IDENTITY_LENGTH) return Err.ERR_INVALID_PARAMETER;
    if (!this.host.isLive(peer)) return Err.ERR_INVALID_PARAMETER;
    if (peer.identity === identity && this.identities.get(identity)?.peer === peer) return Err.OK;
    const value = `${this.serverId}\n${this.instance}\n${peer.peerId}`;
    const notice = serialize({ t: 'kick', identity, by: value } satisfies Envelope);
    const [claimed, previous] = await this.call(() =>
      this.commands.enetClaim(KEY_IDENTITY_PREFIX + identity, value, this.ttlMs, this.duplicateLogin, CHANNEL_SERVER_PREFIX, notice, this.serverId),
    );
    if (!claimed) {
      this.host.kick(peer, REASON_LOGGED_IN_ELSEWHERE);
      return Err.ERR_ALREADY_IN_USE;
    }
    const local = this.identities.get(identity);
    if (!this.host.isLive(peer)) {
      // It left during the round trip: its claim must not outlive it.
      this.commands.enetRelease(KEY_IDENTITY_PREFIX + identity, value).catch(() => {});
      return Err.ERR_INVALID_PARAMETER;
    }
    // The old name is let go only now: a claim that failed leaves the peer as it was.
    if (peer.identity !== undefined) this.forget(peer);
    peer.identity = identity;
    this.identities.set(identity, { peer, value });
    if (this.duplicateLogin === 'kick-old' && local && local.peer !== peer && local.value === previous) this.host.kick(local.peer, REASON_LOGGED_IN_ELSEWHERE);
    return Err.OK;
  }

  /** The peer left (or changes identity): its identity is released if it still names it. */
  forget(peer: Peer): void {
    const identity = peer.identity;
    if (identity === undefined) return;
    peer.identity = undefined;
    const entry = this.identities.get(identity);
    if (entry?.peer !== peer) return;
    this.identities.delete(identity);
    if (this.up && !this.stopped) this.commands.enetRelease(KEY_IDENTITY_PREFIX + identity, entry.value).catch(() => {});
  }

  async locate(identity: string): Promise<{ serverId: string; peerId: number } | null> {
    if (typeof identity !== 'string' || identity === '') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'identity must be a non-empty string');
    const value = await this.call(() => this.commands.get(KEY_IDENTITY_PREFIX + identity));
    return value === null ? null : parseValue(value);
  }

  // ---- messaging ----------------------------------------------------------------------------

  /**
   * OK once the owning server queued it to its peer (its sendPacket's Err otherwise);
   * ERR_DOES_NOT_EXIST when no live server holds the identity; ERR_UNAVAILABLE when the owner did
   * not answer within ttlMs. Rejects with ENetError ERR_UNAVAILABLE while Redis is down.
   */
  async sendTo(identity: string, packet: unknown, channel = 0, reliable = true): Promise<Err> {
    if (typeof identity !== 'string' || identity === '' || !Number.isInteger(channel) || channel < 0) return Err.ERR_INVALID_PARAMETER;
    const encoded = encodeForFleet(packet, this.host.limits);
    if (!encoded) return Err.ERR_INVALID_DATA;
    return this.sendEncoded(identity, encoded, channel, reliable);
  }

  /** ctx.cluster in game actors: they encode the packet themselves (src/cluster/encode.ts). */
  async runActorCall(call: ClusterCall): Promise<Err> {
    switch (call.op) {
      case 'sendTo':
        if (typeof call.identity !== 'string' || call.identity === '' || !Number.isInteger(call.channel) || call.channel < 0) return Err.ERR_INVALID_PARAMETER;
        return this.sendEncoded(call.identity, call, call.channel, call.reliable);
      case 'broadcast':
        await this.broadcastEncoded(call, call.channel, call.reliable, call.exclude);
        return Err.OK;
      case 'publish':
        await this.publish(call.topic, call.message);
        return Err.OK;
    }
  }

  private async sendEncoded(identity: string, encoded: EncodedPacket, channel: number, reliable: boolean): Promise<Err> {
    this.usable();
    const id = this.nextRequest++;
    const request = serialize({ t: 'send', id, from: this.serverId, identity, channel, reliable: reliable !== false, m: encoded.msgpack ?? null, g: encoded.godot ?? null } satisfies Envelope);
    // Registered first: the owner's answer may arrive before the script's reply.
    const answer = new Promise<Err>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(Err.ERR_UNAVAILABLE);
      }, this.ttlMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    let routed: [string, number] | null;
    try {
      routed = await this.call(() => this.commands.enetRoute(KEY_IDENTITY_PREFIX + identity, CHANNEL_SERVER_PREFIX, request, this.serverId));
    } catch (error) {
      this.settle(id);
      throw error;
    }
    if (routed === null || routed[1] === 0) {
      this.settle(id);
      return Err.ERR_DOES_NOT_EXIST;
    }
    if (parseValue(routed[0]).serverId === this.serverId) {
      this.settle(id);
      return this.deliver(identity, encoded, channel, reliable !== false);
    }
    return answer;
  }

  /** Every authenticated peer of every live server except those named in `excludeIdentities`; at most once. */
  async broadcast(packet: unknown, channel = 0, reliable = true, excludeIdentities: readonly string[] = []): Promise<void> {
    checkBroadcastArguments(channel, excludeIdentities);
    const encoded = encodeForFleet(packet, this.host.limits);
    if (!encoded) throw new ENetError(Err.ERR_INVALID_DATA, 'the packet cannot be encoded');
    return this.broadcastEncoded(encoded, channel, reliable, excludeIdentities);
  }

  /** broadcast() and ctx.cluster.broadcast (whose arguments come from an actor: checked here). */
  private async broadcastEncoded(encoded: EncodedPacket, channel: number, reliable: boolean, excludeIdentities: readonly string[]): Promise<void> {
    checkBroadcastArguments(channel, excludeIdentities);
    const message = serialize({ t: 'bcast', from: this.serverId, channel, reliable: reliable !== false, m: encoded.msgpack ?? null, g: encoded.godot ?? null, x: [...excludeIdentities] } satisfies Envelope);
    await this.call(() => this.commands.publish(CHANNEL_ALL, message));
  }

  /** Fire and forget: every server subscribed to `topic` now (this one included) gets it once. */
  async publish(topic: string, message: unknown): Promise<void> {
    checkTopic(topic);
    let bytes: Buffer;
    try {
      bytes = serialize({ t: 'topic', from: this.serverId, message } satisfies Envelope);
    } catch (error) {
      throw new ENetError(Err.ERR_INVALID_DATA, `the message cannot be cloned: ${(error as Error).message}`, { cause: error });
    }
    await this.call(() => this.commands.publish(CHANNEL_TOPIC_PREFIX + topic, bytes));
  }

  async subscribe(topic: string, handler: TopicHandler): Promise<void> {
    checkTopic(topic);
    if (typeof handler !== 'function') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'the handler must be a function');
    const handlers = this.topics.get(topic);
    if (handlers) {
      handlers.add(handler);
      return;
    }
    this.usable();
    this.topics.set(topic, new Set([handler]));
    try {
      await this.call(() => this.subscriber.subscribe(CHANNEL_TOPIC_PREFIX + topic));
    } catch (error) {
      this.topics.delete(topic);
      throw error;
    }
  }

  /** Every handler of `topic` removed. */
  async unsubscribe(topic: string): Promise<void> {
    checkTopic(topic);
    if (!this.topics.delete(topic)) return;
    // While Redis is down the handlers are gone at once; ioredis would subscribe it again on
    // reconnection, and its messages find no handler.
    if (this.up) await this.subscriber.unsubscribe(CHANNEL_TOPIC_PREFIX + topic).catch(() => {});
  }

  // ---- internals ----------------------------------------------------------------------------

  private deliver(identity: string, packet: EncodedPacket, channel: number, reliable: boolean): Err {
    const entry = this.identities.get(identity);
    if (!entry || !this.host.isLive(entry.peer)) return Err.ERR_DOES_NOT_EXIST;
    return this.host.sendEncoded(entry.peer, packet, channel, reliable);
  }

  private onMessage(channel: string, bytes: Buffer): void {
    if (this.stopped) return;
    let message: Envelope;
    try {
      message = deserialize(bytes) as Envelope;
    } catch (error) {
      this.host.report(new ENetError(Err.ERR_INVALID_DATA, `cluster: a message on ${channel} could not be read: ${(error as Error).message}`));
      return;
    }
    try {
      if (channel === this.ownChannel) this.onServerMessage(message);
      else if (channel === CHANNEL_ALL && message.t === 'bcast') this.onBroadcast(message);
      else if (channel.startsWith(CHANNEL_TOPIC_PREFIX) && message.t === 'topic') this.onTopic(channel.slice(CHANNEL_TOPIC_PREFIX.length), message);
    } catch (error) {
      this.host.report(error);
    }
  }

  private onServerMessage(message: Envelope): void {
    switch (message.t) {
      case 'send': {
        const err = this.deliver(message.identity, { msgpack: message.m, godot: message.g }, message.channel, message.reliable);
        const ack = serialize({ t: 'ack', id: message.id, err } satisfies Envelope);
        this.commands.publish(CHANNEL_SERVER_PREFIX + message.from, ack).catch(() => {});
        return;
      }
      case 'ack':
        this.settle(message.id, message.err);
        return;
      case 'kick': {
        const entry = this.identities.get(message.identity);
        if (!entry || entry.value === message.by) return;
        this.identities.delete(message.identity);
        this.host.kick(entry.peer, REASON_LOGGED_IN_ELSEWHERE);
        return;
      }
    }
  }

  private onBroadcast(message: Extract<Envelope, { t: 'bcast' }>): void {
    const exclude: number[] = [];
    if (message.x.length > 0) {
      const names = new Set(message.x);
      for (const peer of this.host.peers()) if (peer.identity !== undefined && names.has(peer.identity)) exclude.push(peer.peerId);
    }
    this.host.broadcastEncoded({ msgpack: message.m, godot: message.g }, message.channel, message.reliable, exclude);
  }

  private onTopic(topic: string, message: Extract<Envelope, { t: 'topic' }>): void {
    for (const handler of this.topics.get(topic) ?? []) {
      try {
        handler(message.message, message.from);
      } catch (error) {
        this.host.report(error);
      }
    }
  }

  private settle(id: number, err?: Err): void {
    const request = this.pending.get(id);
    if (!request) return;
    clearTimeout(request.timer);
    this.pending.delete(id);
    if (err !== undefined) request.resolve(err);
  }

  private async onSubscriberReady(): Promise<void> {
    // Subscribed again here rather than trusting ioredis' autoResubscribe alone: up means every
    // channel is confirmed (SUBSCRIBE to a channel already subscribed is harmless).
    const channels = [this.ownChannel, CHANNEL_ALL, ...[...this.topics.keys()].map((topic) => CHANNEL_TOPIC_PREFIX + topic)];
    try {
      await this.subscriber.subscribe(...channels);
    } catch (error) {
      this.lastError = error as Error;
      return;  // the connection is going away again; its next 'ready' retries
    }
    this.subscriberReady = this.subscriber.status === 'ready';
    this.refreshState();
  }

  private refreshState(): void {
    if (this.stopped) return;
    const up = this.commandsReady && this.subscriberReady;
    if (up === this.up) return;
    if (up) {
      this.up = true;
      this.downReported = false;
      // Registered again and identities re-announced before anyone hears it is back.
      void this.heartbeat().then(() => {
        if (!this.up) return;
        this.whenUp?.();
        this.host.onUp();
      });
    } else {
      this.goDown();
    }
  }

  private goDown(): void {
    if (this.stopped) return;
    const wasUp = this.up;
    this.up = false;
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new ENetError(Err.ERR_UNAVAILABLE, 'Redis became unavailable before the owning server answered'));
      this.pending.delete(id);
    }
    if (wasUp || !this.downReported) {
      this.downReported = true;
      const cause = this.lastError;
      this.host.onDown(new ENetError(Err.ERR_UNAVAILABLE, `cluster: Redis unavailable${cause ? ` (${cause.message})` : ''}`, { cause }));
    }
  }

  private async heartbeat(): Promise<void> {
    if (!this.up || this.stopped || this.heartbeating) return this.heartbeating;
    const run = async (): Promise<void> => {
      const info: ServerInfo = {
        serverId: this.serverId,
        address: this.address,
        port: this.port,
        peers: this.host.peerCount(),
        maxPeers: this.host.maxPeers,
        load: this.host.peerCount() / this.host.maxPeers,
        startedAt: this.startedAt,
      };
      const entries = [...this.identities];
      const presence = [KEY_SERVERS, KEY_SERVER_PREFIX + this.serverId];
      const args = [this.serverId, JSON.stringify(info), this.ttlMs];
      for (let start = 0; start === 0 || start < entries.length; start += HEARTBEAT_BATCH) {
        const batch = entries.slice(start, start + HEARTBEAT_BATCH);
        const lost = await this.commands.enetHeartbeat(
          presence.length + batch.length,
          ...presence,
          ...batch.map(([identity]) => KEY_IDENTITY_PREFIX + identity),
          ...args,
          ...batch.map(([, entry]) => entry.value),
        );
        for (const index of lost) this.lost(batch[index - 1]![0], batch[index - 1]![1]);
      }
    };
    this.heartbeating = run()
      .catch((error: unknown) => {
        this.lastError = error as Error;
      })
      .finally(() => {
        this.heartbeating = undefined;
      });
    return this.heartbeating;
  }

  /** Another server took the identity while this one could not see it (Redis restarted, or this process stalled past the TTL). */
  private lost(identity: string, entry: { peer: Peer; value: string }): void {
    if (this.identities.get(identity) !== entry) return;
    this.identities.delete(identity);
    if (this.duplicateLogin !== 'allow') this.host.kick(entry.peer, REASON_LOGGED_IN_ELSEWHERE);
  }

  private usable(): void {
    if (this.stopped) throw new ENetError(Err.ERR_UNCONFIGURED, 'the cluster member is stopped (the server is not running)');
    if (!this.up) throw new ENetError(Err.ERR_UNAVAILABLE, `cluster: Redis is unavailable${this.lastError ? ` (${this.lastError.message})` : ''}`);
  }

  /** One Redis call: ENetError ERR_UNAVAILABLE when Redis is down or does not answer, FAILED when it refuses. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    this.usable();
    try {
      return await command();
    } catch (error) {
      if (error instanceof ReplyError) throw new ENetError(Err.FAILED, `cluster: Redis refused: ${(error as Error).message}`, { cause: error });
      throw new ENetError(Err.ERR_UNAVAILABLE, `cluster: Redis unavailable (${(error as Error).message})`, { cause: error });
    }
  }
}

function parseValue(value: string): { serverId: string; peerId: number } {
  const [serverId = '', , peerId = '0'] = value.split('\n');
  return { serverId, peerId: Number(peerId) };
}

function checkBroadcastArguments(channel: unknown, excludeIdentities: unknown): void {
  if (!Number.isInteger(channel) || (channel as number) < 0) throw new ENetError(Err.ERR_INVALID_PARAMETER, `channel must be an integer ≥ 0, got ${String(channel)}`);
  if (!Array.isArray(excludeIdentities) || !excludeIdentities.every((x) => typeof x === 'string')) {
    throw new ENetError(Err.ERR_INVALID_PARAMETER, 'excludeIdentities must be an array of strings');
  }
}

function checkTopic(topic: unknown): void {
  if (typeof topic !== 'string' || topic === '') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'topic must be a non-empty string');
}

/** A bound address clients can dial: for 0.0.0.0, this machine's first external IPv4 address. */
function dialable(address: string): string {
  if (address !== '0.0.0.0') return address;
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}
