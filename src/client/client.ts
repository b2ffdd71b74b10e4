// Runs on the thread that creates it (usually the main thread). A headless ENet client with the
// server's packet conventions; clients share a client network (one net actor, ./network.ts): the
// process's shared one, or one made by createClientNetwork() and given as `network`.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { lookup } from 'node:dns/promises';
import { ClientStatus, CompressionMode, Err, PacketFormat, PeerStatistic } from '../wire/enums.js';
import { REASON_CONNECTION_LOST, readDisconnect, recordBody, recordChannel, recordKind, recordSlot } from '../wire/records.js';
import { ENetError } from '../wire/errors.js';
import { DEFAULT_MAX_DEPTH, ENET_MAX_CHANNELS } from '../wire/defaults.js';
import { InvalidOptionError, LIMITS, checkPollRate, isInt, type Logger } from '../common/checks.js';
import {
  CAUSE_CONNECT_FAILED,
  CAUSE_LOCAL,
  DISCONNECT_LATER,
  DISCONNECT_RESET,
  IN_CONNECT,
  IN_DISCONNECT,
  IN_RECEIVE,
  STATS_FIRST,
  STATS_PEER_ID,
  STATS_ROW,
  STATS_STATISTICS,
} from '../wire/protocol.js';
import type { CodecLimits, NetworkNode } from '../wire/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, DISCONNECT_REASON_EVENT, REDIRECT_EVENT, invalidCompressionMessage, isSupportedCompression } from '../wire/conventions.js';
import { ClientNetwork, clientNetwork, type ClientEndpoint } from './network.js';
import { ErrorReporter } from '../common/error-reporter.js';
import { PacketEvents, type PacketSignals } from '../common/packet-events.js';
import { SendEngine, eventPacket, nodeBytes, type SendTarget } from '../common/send-engine.js';
import type { NetActorLink } from '../net-actor/owner.js';

export interface ClientEvents {
  connectedToServer: [];
  disconnectedFromServer: [reason: string];
  connectionFailed: [reason: string];
  packetReceived: [packet: unknown, channel: number];
  rawPacketReceived: [data: Buffer, channel: number];
  customEventReceived: [name: string, payload: Record<string, unknown>, channel: number];
  unknownEventReceived: [name: string, payload: Record<string, unknown>, channel: number];
  /** The server sent us elsewhere (peer.redirect); after 'disconnectedFromServer', before following it. */
  redirected: [address: string, port: number, reason: string];
  error: [error: Error];
}

export interface ClientOptions {
  /** Give up connecting after this long (ENet's own limit is 5–30 s). Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Largest packet (type byte included) this client sends or accepts; default its network's. More
   * than the network holds makes connectToServer() return `ERR_INVALID_PARAMETER`.
   */
  maxPacketSize?: number;
  maxDepth?: number;
  /** The client network whose thread services this client (createClientNetwork()); default the shared one. */
  network?: ClientNetwork;
  /**
   * Where a handler's exception is reported when the client has no 'error' listener (each cause at
   * most once every 10 s, with a count of the ones left out); default `console`.
   */
  logger?: Logger;
  /** Connect where a server redirects us (peer.redirect); default true. */
  followRedirects?: boolean;
}

export type ClientEventCallback = (payload: Record<string, unknown>, channel: number) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
let nextClientId = 1;

interface Connection extends ClientEndpoint {
  link: NetActorLink;
  /** This connection's send path (src/common/send-engine.ts): one route, the server as the one target. */
  engine: SendEngine;
  target: SendTarget & { slot: number; format: PacketFormat };
  host: number;
  stats: Uint32Array;
  slot: number;
  channels: number;
  /** Set once we asked to disconnect: the reason we report when ENet confirms. */
  localReason: string | undefined;
  /** The reason the server sent before disconnecting us. */
  serverReason: string | undefined;
  /** Where the server sent us before disconnecting us. */
  redirect: { address: string; port: number; reason: string } | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  pollRate: number | undefined;
  /** Its host is destroyed (by us, or by the network's close()). */
  closed: boolean;
  /** Detached from the network and its hold released (once). */
  released: boolean;
}

export class ENetClient extends EventEmitter<ClientEvents> {
  private readonly clientId = nextClientId++;
  private status = ClientStatus.STATUS_DISCONNECTED;
  /** The connection in use (connecting or connected). */
  private connection: Connection | undefined;
  /**
   * The connection disconnectFromServer() let go of, until ENet confirms: its 'disconnectedFromServer'
   * follows then, unless connectToServer() was called again first.
   */
  private closing: Connection | undefined;
  private address = '';
  private port = 0;
  private compression = CompressionMode.COMPRESS_NONE;
  private format = PacketFormat.MSGPACK;
  private readonly events = new PacketEvents<[]>();
  private readonly limits: CodecLimits & { maxPacketSize: number };
  private readonly connectTimeoutMs: number;
  private readonly followRedirects: boolean;
  private readonly network: ClientNetwork;
  private readonly logger: Logger;
  /** The poll rate set with setPollRate(); undefined: the network's. */
  private ownPollRate: number | undefined;
  private readonly errors = new ErrorReporter(this, () => this.logger, 'enet-actor-server client');

  constructor(options: ClientOptions = {}) {
    // An async listener's rejected promise comes back to [Symbol.for('nodejs.rejection')].
    super({ captureRejections: true });
    const network = options.network ?? clientNetwork;
    if (!(network instanceof ClientNetwork)) throw new InvalidOptionError('network', 'network must come from createClientNetwork()');
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!isInt(connectTimeoutMs, 1, 2 ** 31 - 1)) throw new InvalidOptionError('connectTimeoutMs', `connectTimeoutMs must be an integer 1–${2 ** 31 - 1}, got ${String(connectTimeoutMs)}`);
    const maxPacketSize = options.maxPacketSize ?? network.maxPacketSize;
    if (!isInt(maxPacketSize, LIMITS.maxPacketSize[0], LIMITS.maxPacketSize[1])) {
      throw new InvalidOptionError('maxPacketSize', `maxPacketSize must be an integer ${LIMITS.maxPacketSize[0]}–${LIMITS.maxPacketSize[1]}, got ${String(maxPacketSize)}`);
    }
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!isInt(maxDepth, LIMITS.maxDepth[0], LIMITS.maxDepth[1])) {
      throw new InvalidOptionError('maxDepth', `maxDepth must be an integer ${LIMITS.maxDepth[0]}–${LIMITS.maxDepth[1]}, got ${String(maxDepth)}`);
    }
    const followRedirects = options.followRedirects ?? true;
    if (typeof followRedirects !== 'boolean') throw new InvalidOptionError('followRedirects', 'followRedirects must be a boolean');
    this.followRedirects = followRedirects;
    this.network = network;
    this.logger = options.logger ?? console;
    this.connectTimeoutMs = connectTimeoutMs;
    this.limits = { maxPacketSize, maxDepth };
  }

  /** The client network this client uses. */
  getNetwork(): ClientNetwork {
    return this.network;
  }

  // ---- connection ---------------------------------------------------------------------------

  /**
   * Starts connecting; 'connectedToServer' or 'connectionFailed' follows. `ERR_ALREADY_IN_USE` while
   * connecting or connected; `ERR_INVALID_PARAMETER` for a bad address, port or channel count, or a
   * `maxPacketSize` larger than the client's network holds; `ERR_CANT_CREATE` when no ENet host can
   * be created. A connection still closing after disconnectFromServer() does not stand in the way.
   */
  connectToServer(address: string, port: number, channels = 2): Err {
    if (this.status !== ClientStatus.STATUS_DISCONNECTED) return Err.ERR_ALREADY_IN_USE;
    if (typeof address !== 'string' || address === '') return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(channels) || channels < 1 || channels > ENET_MAX_CHANNELS) return Err.ERR_INVALID_PARAMETER;
    if (this.limits.maxPacketSize > this.network.maxPacketSize) return Err.ERR_INVALID_PARAMETER;
    const link = this.network.get();
    let created: { host: number; stats: Uint32Array };
    try {
      created = link.createHost({ peers: 1, channels, compression: this.compression });
    } catch {
      return Err.ERR_CANT_CREATE;
    }
    const target = { peerId: this.clientId, shard: 0, slot: 0, channels, format: this.format };
    const connection: Connection = {
      link,
      engine: new SendEngine({ routes: [{ host: created.host, out: link.out }], limits: this.limits, maxChannels: channels, formatOf: () => this.format }),
      target,
      host: created.host,
      stats: created.stats,
      slot: 0,
      channels,
      localReason: undefined,
      serverReason: undefined,
      redirect: undefined,
      connectTimer: undefined,
      closed: false,
      released: false,
      pollRate: this.ownPollRate,
      onRecord: (bytes, offset, length) => this.onRecord(connection, bytes, offset, length),
      onNetworkClosed: () => this.onNetworkClosed(connection),
    };
    this.connection = connection;
    this.closing = undefined; // superseded: its disconnect is not reported any more
    this.address = address;
    this.port = port;
    this.status = ClientStatus.STATUS_CONNECTING;
    this.network.attach(created.host, connection);
    this.network.hold();
    connection.connectTimer = setTimeout(() => this.failConnect(connection, `Connection to ${address}:${port} timed out; is the server up, and do both sides use the same compression mode?`), this.connectTimeoutMs);
    const ip = address === 'localhost' ? '127.0.0.1' : address;
    if (isIPv4(ip)) {
      link.out.connect(created.host, this.clientId, ipv4Bytes(ip), port, channels, 0);
    } else {
      lookup(address, { family: 4 }).then(
        ({ address: resolved }) => {
          if (this.connection === connection) link.out.connect(created.host, this.clientId, ipv4Bytes(resolved), port, channels, 0);
        },
        (error: Error) => this.failConnect(connection, `Cannot resolve ${address}: ${error.message}`),
      );
    }
    return Err.OK;
  }

  /**
   * Disconnects after what is queued has gone out. From this call on the client is disconnected
   * (isConnectedToServer() false, sends refused with ERR_UNCONFIGURED, connectToServer() allowed);
   * 'disconnectedFromServer'(reason) follows once the server acknowledged (or ENet gave up on it),
   * unless connectToServer() was called again first. While connecting, it cancels the attempt:
   * 'connectionFailed'(reason or "Connection cancelled") at once.
   */
  disconnectFromServer(reason = ''): void {
    const connection = this.connection;
    if (!connection || connection.localReason !== undefined) return;
    connection.localReason = String(reason);
    if (this.status === ClientStatus.STATUS_CONNECTING) {
      this.failConnect(connection, connection.localReason || 'Connection cancelled');
      return;
    }
    this.connection = undefined;
    this.closing = connection;
    this.status = ClientStatus.STATUS_DISCONNECTED;
    connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_LATER, 0);
  }

  isConnectedToServer(): boolean {
    return this.status === ClientStatus.STATUS_CONNECTED;
  }

  getConnectionStatus(): ClientStatus {
    return this.status;
  }

  getServerAddress(): string {
    return this.address;
  }

  getServerPort(): number {
    return this.port;
  }

  getPing(): number {
    return this.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME);
  }

  getStatistic(stat: PeerStatistic): number {
    const connection = this.connection;
    if (!connection || !Number.isInteger(stat) || stat < 0 || stat >= STATS_STATISTICS) return 0;
    const row = connection.slot * STATS_ROW;
    if (connection.stats[row + STATS_PEER_ID] !== this.clientId) return 0;
    return connection.stats[row + STATS_FIRST + stat];
  }

  /**
   * Any `CompressionMode` (0..4); takes effect for the next connection and at once on a live one.
   * ENet has no negotiation: both ends must use the same mode. Anything else throws `ENetError`
   * `ERR_INVALID_PARAMETER`.
   */
  setCompressionMode(mode: CompressionMode): void {
    if (!isSupportedCompression(mode)) throw new ENetError(Err.ERR_INVALID_PARAMETER, invalidCompressionMessage(mode));
    this.compression = mode;
    if (this.connection) this.connection.link.out.setCompression(this.connection.host, mode);
  }

  getCompressionMode(): CompressionMode {
    return this.compression;
  }

  /**
   * The clients of a network share its thread: it waits at most the smallest poll rate any attached
   * client asked for (clients that did not ask count with the network's own, default 10 ms).
   */
  setPollRate(ms: number): void {
    this.ownPollRate = checkPollRate(ms);
    const connection = this.connection ?? this.closing;
    if (connection) {
      connection.pollRate = this.ownPollRate;
      this.network.refreshPollRate(connection);
    }
  }

  getPollRate(): number {
    return this.ownPollRate ?? this.network.pollRate;
  }

  setPacketFormat(format: PacketFormat): void {
    if (format !== PacketFormat.MSGPACK && format !== PacketFormat.GODOT) throw new ENetError(Err.ERR_INVALID_PARAMETER, `unknown packet format ${format}`);
    this.format = format;
  }

  getPacketFormat(): PacketFormat {
    return this.format;
  }

  // ---- sending ------------------------------------------------------------------------------

  sendPacket(packet: unknown, channel = 0, reliable = true): Err {
    const connection = this.sendable();
    if (!connection) return Err.ERR_UNCONFIGURED;
    return connection.engine.send(connection.target, packet, channel, reliable);
  }

  sendRawPacket(bytes: Uint8Array, channel = 0, reliable = true): Err {
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    const connection = this.sendable();
    if (!connection) return Err.ERR_UNCONFIGURED;
    return connection.engine.sendRaw(connection.target, bytes, channel, reliable);
  }

  sendNodeState(node: NetworkNode, flags: number, channel = 0): Err {
    const bytes = nodeBytes(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA; // as the server's
    const connection = this.sendable();
    if (!connection) return Err.ERR_UNCONFIGURED;
    return connection.engine.sendBytes(connection.target, bytes, channel, true);
  }

  // ---- custom events ------------------------------------------------------------------------

  registerEvent(name: string, callback: ClientEventCallback): void {
    this.events.register(name, callback);
  }

  unregisterEvent(name: string): void {
    this.events.unregister(name);
  }

  hasEvent(name: string): boolean {
    return this.events.has(name);
  }

  triggerEvent(name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true): Err {
    if (payload === null) return Err.ERR_INVALID_PARAMETER;
    const event = eventPacket(name, payload);
    if (!event) return Err.ERR_INVALID_PARAMETER;
    return this.sendPacket(event, channel, reliable);
  }

  // ---- records from the network (ClientEndpoint) --------------------------------------------

  private onRecord(connection: Connection, bytes: Uint8Array, offset: number, length: number): void {
    const view = connection.link.inbound.view;
    const current = connection === this.connection;
    switch (recordKind(bytes, offset)) {
      case IN_RECEIVE: {
        if (!current) return; // we let go of this connection: nothing more is delivered
        this.onPacket(connection, Buffer.from(recordBody(bytes, offset, length)), recordChannel(bytes, offset));
        return;
      }
      case IN_CONNECT:
        if (!current) return;
        connection.slot = recordSlot(view, offset);
        connection.target.slot = connection.slot;
        clearTimeout(connection.connectTimer);
        this.status = ClientStatus.STATUS_CONNECTED;
        this.safeEmit('connectedToServer');
        return;
      case IN_DISCONNECT: {
        const { data, cause } = readDisconnect(bytes, view, offset, length);
        if (current && (this.status === ClientStatus.STATUS_CONNECTING || cause === CAUSE_CONNECT_FAILED)) {
          this.failConnect(connection, `Could not connect to ${this.address}:${this.port}`);
          return;
        }
        let reason: string;
        if (cause === CAUSE_LOCAL) reason = connection.localReason ?? '';
        else if (data === DISCONNECT_DATA_BY_SERVER) reason = connection.serverReason ?? '';  // the server's reason, even an empty one
        else reason = REASON_CONNECTION_LOST;
        const report = current || connection === this.closing;
        this.close(connection);
        if (report) this.safeEmit('disconnectedFromServer', reason);
        const redirect = data === DISCONNECT_DATA_BY_SERVER && current ? connection.redirect : undefined;
        if (redirect) {
          this.safeEmit('redirected', redirect.address, redirect.port, redirect.reason);
          // Unless a listener already connected somewhere itself.
          if (this.followRedirects && this.status === ClientStatus.STATUS_DISCONNECTED) {
            const err = this.connectToServer(redirect.address, redirect.port, connection.channels);
            if (err !== Err.OK) this.safeEmit('connectionFailed', `Cannot follow the redirect to ${redirect.address}:${redirect.port} (error ${err})`);
          }
        }
        return;
      }
    }
  }

  private onNetworkClosed(connection: Connection): void {
    const current = connection === this.connection;
    const report = current || connection === this.closing;
    const connecting = current && this.status === ClientStatus.STATUS_CONNECTING;
    connection.closed = true; // reactorDestroy took the host
    this.close(connection);
    if (!report) return;
    if (connecting) this.safeEmit('connectionFailed', 'Network closed');
    else this.safeEmit('disconnectedFromServer', 'Network closed');
  }

  // ---- internals ----------------------------------------------------------------------------

  private onPacket(connection: Connection, data: Buffer, channel: number): void {
    this.receiving = connection;
    this.events.dispatch([], data, channel, this.limits, this.signals);
  }

  /** The connection whose packet is being dispatched (its reserved events are taken here). */
  private receiving: Connection | undefined;
  private readonly signals: PacketSignals<[]> = {
    emit: (event, ...args) => (this.safeEmit as (event: string, ...args: unknown[]) => void)(event, ...args),
    malformed: () => {},
    report: (error, where) => this.errors.report(error, where),
    speaksGodot: () => {
      this.format = PacketFormat.GODOT;
    },
    reserved: (name, payload) => {
      const connection = this.receiving!;
      if (name === DISCONNECT_REASON_EVENT) {
        connection.serverReason = String(payload.reason ?? '');
        return true;
      }
      if (name === REDIRECT_EVENT) {
        const { address, port, reason } = payload;
        if (typeof address === 'string' && Number.isInteger(port)) connection.redirect = { address, port: port as number, reason: String(reason ?? '') };
        return true;
      }
      return false;
    },
  };

  /** The connection sends may use now, or undefined (not connected, or disconnecting). */
  private sendable(): Connection | undefined {
    const connection = this.connection;
    if (!connection || this.status !== ClientStatus.STATUS_CONNECTED || connection.localReason !== undefined) return undefined;
    return connection;
  }

  private failConnect(connection: Connection, reason: string): void {
    if (this.connection !== connection) return;
    if (!connection.closed) connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
    this.close(connection);
    this.safeEmit('connectionFailed', reason);
  }

  /** Forgets the connection and destroys its ENet host (once). */
  private close(connection: Connection): void {
    if (this.connection === connection) {
      this.connection = undefined;
      this.status = ClientStatus.STATUS_DISCONNECTED;
    }
    if (this.closing === connection) this.closing = undefined;
    clearTimeout(connection.connectTimer);
    if (connection.released) return;
    connection.released = true;
    this.network.detach(connection.host);
    if (!connection.closed) connection.link.destroyHost(connection.host);
    connection.closed = true;
    this.network.release();
  }

  /** Emits without letting an application handler's exception reach the network loop. */
  private safeEmit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: ClientEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.reportError(error, `'${event}' listener`);
    }
  }

  /** EventEmitter's captureRejections: an async listener's promise rejected. */
  [Symbol.for('nodejs.rejection')](error: unknown, event: string | symbol): void {
    this.errors.onRejection(error, event);
  }

  /** As the server does (src/common/error-reporter.ts). */
  private reportError(error: unknown, where: string): void {
    this.errors.report(error, where);
  }
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}
