// Runs on the thread that creates it (usually the main thread). A headless ENet client with the
// server's packet conventions; clients share a client network (one net actor, ./network.ts): the
// process's shared one, or one made by createClientNetwork() and given as `network`.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { lookup } from 'node:dns/promises';
import { ClientStatus, CompressionMode, Err, PacketFormat, PeerStatistic } from '../wire/enums.js';
import { REASON_CONNECTION_LOST, readDisconnect, recordBody, recordChannel, recordFlags, recordKind, recordSlot } from '../wire/records.js';
import { ENetError } from '../wire/errors.js';
import { DEFAULT_MAX_DEPTH, ENET_MAX_CHANNELS } from '../wire/defaults.js';
import { InvalidOptionError, LIMITS, checkPeerTimeout, checkPollRate, isInt, peerTimeoutOf, type Logger } from '../common/checks.js';
import {
  CAUSE_CONNECT_FAILED,
  CAUSE_LOCAL,
  DISCONNECT_LATER,
  DISCONNECT_RESET,
  IN_CONNECT,
  IN_DISCONNECT,
  IN_RECEIVE,
  FLAG_RELIABLE,
  ACK_INTERVAL_MS,
  APPROVAL_MAGIC,
  RESUME_MAGIC,
  SESSION_CONTROL,
  SESSION_MAGIC,
  STATS_FIRST,
  STATS_LAST_RECEIVE,
  STATS_PEER_ID,
  STATS_ROW,
  STATS_STATISTICS,
} from '../wire/protocol.js';
import type { CodecLimits, NetworkNode } from '../wire/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, DISCONNECT_REASON_EVENT, REDIRECT_EVENT, RESUMED_EVENT, RESUME_EVENT, SESSION_EVENT, SESSION_EXPIRED, invalidCompressionMessage, isSupportedCompression } from '../wire/conventions.js';
import { ClientSession, decodeAck } from './session.js';
import { ClientNetwork, clientNetwork, type ClientEndpoint } from './network.js';
import { ErrorReporter } from '../common/error-reporter.js';
import { PacketEvents, type PacketSignals } from '../common/packet-events.js';
import { SendEngine, eventPacket, nodeBytes, type SendRoute } from '../common/send-engine.js';
import type { NetActorLink } from '../net-actor/owner.js';
import type { PeerTimeout } from '../plumbing/native.js';

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
  /** The server approved us (its `_session` notice; before it, what we send is held when we logged in). */
  authenticated: [];
  /** The connection broke; the client is resuming the session on a new one (still "connected"). */
  connectionInterrupted: [reason: string];
  /** The session resumed: what was missed both ways has been sent again. */
  resumed: [];
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
  /** Resume the session when the connection breaks (docs/protocol.md "Sessions"); default true. */
  resume?: boolean;
  /** Nothing heard from the server (pings included) for this long → resume at once on a new connection. Default 2000. */
  silenceMs?: number;
  /** Resume attempts: backoff doubling from minDelayMs to maxDelayMs, with jitter. */
  reconnect?: { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /** Reliable bytes kept until the server acknowledges them, and queued while interrupted; past it sends are ERR_BUSY. Default 262144 or 2 × maxPacketSize, whichever is larger. */
  outboxBytes?: number;
  /** ENet's timeout of the connection to the server (enet_peer_timeout): when a silent server is given up. */
  peerTimeout?: Partial<PeerTimeout>;
}

export interface ConnectOptions {
  /** The login dictionary, sent first; what the application sends is held until the server approves ('authenticated'). */
  login?: Record<string, unknown>;
}

/** A packet the client holds: before approval (when it logged in), or while the session resumes. */
interface Held {
  bytes: Uint8Array;
  channel: number;
  reliable: boolean;
}

export type ClientEventCallback = (payload: Record<string, unknown>, channel: number) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_SILENCE_MS = 2000;
const DEFAULT_OUTBOX_BYTES = 262_144;
/** How often a session's acknowledgements and silence are looked at. */
const SESSION_TICK_MS = 100;

/**
 * Every connected client's session tick, on one timer for the whole process: a load test runs
 * thousands of clients, and a timer each would be thousands of wake-ups a second.
 */
const sessionTicks = new Set<() => void>();
let sessionTicker: NodeJS.Timeout | undefined;

function tickSessions(): void {
  for (const tick of sessionTicks) tick();
}

function watchSession(tick: () => void): void {
  sessionTicks.add(tick);
  if (sessionTicker) return;
  sessionTicker = setInterval(tickSessions, SESSION_TICK_MS);
  sessionTicker.unref();
}

function unwatchSession(tick: () => void): void {
  sessionTicks.delete(tick);
  if (sessionTicks.size > 0 || !sessionTicker) return;
  clearInterval(sessionTicker);
  sessionTicker = undefined;
}
let nextClientId = 1;

interface Connection extends ClientEndpoint {
  link: NetActorLink;
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
  /** A connection that comes to resume the session (RESUME_MAGIC), not a fresh one. */
  resuming: boolean;
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
  /** The one send path (src/common/send-engine.ts): its route is the current connection's host. */
  private readonly route: SendRoute[] = [];
  private readonly target: { peerId: number; shard: number; slot: number; channels: number; format: PacketFormat } = { peerId: this.clientId, shard: 0, slot: 0, channels: 1, format: PacketFormat.MSGPACK };
  private readonly engine: SendEngine;
  private readonly resumeEnabled: boolean;
  private readonly silenceMs: number;
  private readonly reconnect: { retries: number; minDelayMs: number; maxDelayMs: number };
  private readonly outboxBytes: number;
  /** The option, or what setTimeout() set last: every new connection's (a resume's too). */
  private peerTimeout: PeerTimeout;
  /** The session of the current connection (resume on); its token arrives with the approval. */
  private session: ClientSession | undefined;
  private approved = false;
  /** Sends wait for the approval (connectToServer had a login). */
  private holdUntilApproved = false;
  /** The connection broke and a resume is under way. */
  private interrupted = false;
  private held: Held[] = [];
  private heldBytes = 0;
  private channels = 0;
  /** This client's entry in the process-wide session tick (sessionTicks). */
  private readonly tick = (): void => this.sessionTick();
  private resumeTimer: NodeJS.Timeout | undefined;
  private resumeAttempt = 0;
  private lastAckAt = 0;
  private lastReceive = { value: -1, at: 0 };
  /** The channel of the reliable packet being dispatched (counted after it, unless it was session control). */
  private countChannel = -1;

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
    const resume = options.resume ?? true;
    if (typeof resume !== 'boolean') throw new InvalidOptionError('resume', 'resume must be a boolean');
    this.resumeEnabled = resume;
    this.silenceMs = options.silenceMs ?? DEFAULT_SILENCE_MS;
    if (!isInt(this.silenceMs, 100, 2 ** 31 - 1)) throw new InvalidOptionError('silenceMs', `silenceMs must be an integer ≥ 100, got ${String(options.silenceMs)}`);
    const reconnect = { retries: 10, minDelayMs: 100, maxDelayMs: 2000, ...(options.reconnect ?? {}) };
    for (const key of ['retries', 'minDelayMs', 'maxDelayMs'] as const) {
      if (!isInt(reconnect[key], 0, 2 ** 31 - 1)) throw new InvalidOptionError(`reconnect.${key}`, `reconnect.${key} must be a non-negative integer, got ${String(reconnect[key])}`);
    }
    this.reconnect = reconnect;
    // Room for at least two of the largest packets: a packet the outbox can never hold would be ERR_BUSY for ever.
    this.outboxBytes = options.outboxBytes ?? Math.max(DEFAULT_OUTBOX_BYTES, 2 * maxPacketSize);
    if (!isInt(this.outboxBytes, 1024, 2 ** 31 - 1)) throw new InvalidOptionError('outboxBytes', `outboxBytes must be an integer ≥ 1024, got ${String(options.outboxBytes)}`);
    this.peerTimeout = checkPeerTimeout(options.peerTimeout);
    this.network = network;
    this.logger = options.logger ?? console;
    this.connectTimeoutMs = connectTimeoutMs;
    this.limits = { maxPacketSize, maxDepth };
    this.engine = new SendEngine({ routes: this.route, limits: this.limits, maxChannels: ENET_MAX_CHANNELS, formatOf: () => this.format });
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
  connectToServer(address: string, port: number, channels = 2, options: ConnectOptions = {}): Err {
    if (this.status !== ClientStatus.STATUS_DISCONNECTED) return Err.ERR_ALREADY_IN_USE;
    if (typeof address !== 'string' || address === '') return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(channels) || channels < 1 || channels > ENET_MAX_CHANNELS) return Err.ERR_INVALID_PARAMETER;
    if (this.limits.maxPacketSize > this.network.maxPacketSize) return Err.ERR_INVALID_PARAMETER;
    const login = options?.login;
    if (login !== undefined && (login === null || typeof login !== 'object' || Array.isArray(login))) return Err.ERR_INVALID_PARAMETER;
    const connection = this.open(address, port, channels, this.resumeEnabled ? SESSION_MAGIC : APPROVAL_MAGIC, false);
    if (!connection) return Err.ERR_CANT_CREATE;
    this.closing = undefined; // superseded: its disconnect is not reported any more
    this.address = address;
    this.port = port;
    this.channels = channels;
    this.status = ClientStatus.STATUS_CONNECTING;
    this.session = this.resumeEnabled ? new ClientSession(channels, this.outboxBytes) : undefined;
    this.approved = false;
    this.interrupted = false;
    this.holdUntilApproved = login !== undefined;
    this.held = [];
    this.heldBytes = 0;
    this.resumeAttempt = 0;
    this.pendingLogin = login;
    return Err.OK;
  }

  /** The login dictionary to send first once connected. */
  private pendingLogin: Record<string, unknown> | undefined;

  /** A new ENet host and connection to the server (a fresh one, or one that resumes). */
  private open(address: string, port: number, channels: number, data: number, resuming: boolean): Connection | undefined {
    const link = this.network.get();
    let created: { host: number; stats: Uint32Array };
    try {
      created = link.createHost({ peers: 1, channels, compression: this.compression, peerTimeout: this.peerTimeout });
    } catch {
      return undefined;
    }
    this.route[0] = { host: created.host, out: link.out };
    this.target.slot = 0;
    this.target.channels = channels;
    const connection: Connection = {
      link,
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
      resuming,
      pollRate: this.ownPollRate,
      onRecord: (bytes, offset, length) => this.onRecord(connection, bytes, offset, length),
      onNetworkClosed: () => this.onNetworkClosed(connection),
    };
    this.connection = connection;
    this.network.attach(created.host, connection);
    this.network.hold();
    connection.connectTimer = setTimeout(
      () => this.failConnect(connection, `Connection to ${address}:${port} timed out; is the server up, and do both sides use the same compression mode?`),
      this.connectTimeoutMs,
    );
    const ip = address === 'localhost' ? '127.0.0.1' : address;
    if (isIPv4(ip)) {
      link.out.connect(created.host, this.clientId, ipv4Bytes(ip), port, channels, data);
    } else {
      lookup(address, { family: 4 }).then(
        ({ address: resolved }) => {
          if (this.connection === connection) link.out.connect(created.host, this.clientId, ipv4Bytes(resolved), port, channels, data);
        },
        (error: Error) => this.failConnect(connection, `Cannot resolve ${address}: ${error.message}`),
      );
    }
    return connection;
  }

  /**
   * Disconnects after what is queued has gone out. From this call on the client is disconnected
   * (isConnectedToServer() false, sends refused with ERR_UNCONFIGURED, connectToServer() allowed);
   * 'disconnectedFromServer'(reason) follows once the server acknowledged (or ENet gave up on it),
   * unless connectToServer() was called again first. While connecting, it cancels the attempt:
   * 'connectionFailed'(reason or "Connection cancelled") at once.
   */
  disconnectFromServer(reason = ''): void {
    if (this.interrupted) {
      // No live connection to say goodbye on: the session ends here (the server's window runs out).
      this.endSession(String(reason));
      return;
    }
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
    this.stopSession();
    // SESSION_MAGIC: a consented leave — the server ends the session at once instead of holding it.
    connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_LATER, this.resumeEnabled ? SESSION_MAGIC : 0);
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
   * ENet's timeout of the connection to the server, as Godot's `ENetPacketPeer.set_timeout` (the
   * `peerTimeout` option, changed while connecting or connected): ENet gives the server up once its
   * oldest unacknowledged packet waited `maximumMs`, or `minimumMs` after its retransmissions reached
   * `limit`. It stays for the connections a resume opens. `ERR_INVALID_PARAMETER` for values out of
   * `peerTimeout`'s ranges (limit 1–65535, 100 ≤ minimumMs ≤ maximumMs ≤ 86,400,000);
   * `ERR_UNCONFIGURED` with no connection (connect first; or give the option).
   */
  setTimeout(limit: number, minimumMs: number, maximumMs: number): Err {
    const timeout = peerTimeoutOf(limit, minimumMs, maximumMs);
    if (!timeout) return Err.ERR_INVALID_PARAMETER;
    const connection = this.connection;
    if (!connection || this.status === ClientStatus.STATUS_DISCONNECTED) return Err.ERR_UNCONFIGURED;
    this.peerTimeout = timeout;
    if (!connection.closed) connection.link.out.setPeerTimeout(connection.host, connection.slot, this.clientId, timeout.limit, timeout.minimumMs, timeout.maximumMs);
    return Err.OK;
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
    if (!this.canSend()) return Err.ERR_UNCONFIGURED;
    const bytes = this.engine.encode(this.target, packet);
    return bytes ? this.submit(bytes, channel, reliable) : Err.ERR_INVALID_DATA;
  }

  sendRawPacket(bytes: Uint8Array, channel = 0, reliable = true): Err {
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    // The application may reuse its buffer: what is kept for a resend (or held) must not change with it.
    // new Uint8Array(bytes) copies (a Buffer's slice() would share its memory).
    return this.submit(reliable !== false && this.session ? new Uint8Array(bytes) : bytes, channel, reliable);
  }

  sendNodeState(node: NetworkNode, flags: number, channel = 0): Err {
    const bytes = nodeBytes(node, flags);
    if (!bytes) return Err.ERR_INVALID_DATA; // as the server's
    return this.submit(bytes, channel, true);
  }

  /**
   * Every send of the application: checked by the engine, then sent now, or held — until the
   * approval when we logged in, or while the session resumes (unreliable ones are dropped then).
   * A session numbers and keeps each reliable packet it sends until the server acknowledges it.
   */
  private submit(bytes: Uint8Array, channel: number, reliable: boolean): Err {
    if (!this.canSend()) return Err.ERR_UNCONFIGURED;
    const checked = this.engine.check(this.target, bytes, channel);
    if (checked !== Err.OK) return checked;
    const holding = this.interrupted || (this.holdUntilApproved && !this.approved);
    if (holding) {
      if (!reliable && this.interrupted) return Err.OK; // unreliable: worthless by the time we are back
      if (this.heldBytes + (this.session?.bytes ?? 0) + bytes.length > this.outboxBytes) return Err.ERR_BUSY;
      this.held.push({ bytes, channel, reliable: reliable !== false });
      this.heldBytes += bytes.length;
      return Err.OK;
    }
    return this.sendNow(this.connection!, bytes, channel, reliable !== false);
  }

  /** Connected (also while a session resumes) and not leaving. */
  private canSend(): boolean {
    if (this.status !== ClientStatus.STATUS_CONNECTED) return false;
    if (this.interrupted) return true;
    return this.connection !== undefined && this.connection.localReason === undefined;
  }

  private sendNow(connection: Connection, bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const session = this.session?.token ? this.session : undefined;
    if (reliable && session && !session.hasRoom(bytes.length)) return Err.ERR_BUSY;
    // Not approved yet and a full outbox's worth sent: a server that never sends `_session` (Godot,
    // Blazium, the C library) would have us keep every reliable packet for ever. No session then.
    if (reliable && this.session && !session && !this.session.hasRoom(bytes.length)) this.session = undefined;
    const err = this.engine.sendBytes(this.target, bytes, channel, reliable);
    if (err === Err.OK && reliable) this.session?.sent(channel, bytes);
    return err;
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
        const body = recordBody(bytes, offset, length);
        const channel = recordChannel(bytes, offset);
        if (body[0] === SESSION_CONTROL) {
          const counts = decodeAck(body);
          if (counts) this.session?.trim(counts);
          return;
        }
        this.countChannel = this.session && recordFlags(view, offset) & FLAG_RELIABLE ? channel : -1;
        this.onPacket(connection, Buffer.from(body), channel);
        if (this.countChannel >= 0) this.session?.receivedOne(this.countChannel);
        this.countChannel = -1;
        return;
      }
      case IN_CONNECT:
        if (!current) return;
        connection.slot = recordSlot(view, offset);
        this.target.slot = connection.slot;
        clearTimeout(connection.connectTimer);
        if (connection.resuming) {
          // First and only packet until the answer: who we are, and what we received per channel.
          const session = this.session!;
          const request = this.engine.encode(this.target, { _event: RESUME_EVENT, token: session.token, c: session.receivedCounts() });
          if (request) this.engine.sendBytes(this.target, request, 0, true);
          // No timer for the answer: the resume may take the server a moment (several ring hops), and a
          // connection that dies meanwhile ends with ENet's timeout (IN_DISCONNECT → the next attempt).
          return;
        }
        this.status = ClientStatus.STATUS_CONNECTED;
        this.startSession();
        this.safeEmit('connectedToServer');
        if (this.pendingLogin && this.connection === connection) {
          const login = this.engine.encode(this.target, this.pendingLogin);
          this.pendingLogin = undefined;
          if (!login || this.sendNow(connection, login, 0, true) !== Err.OK) this.reportError(new Error('the login dictionary could not be sent'), 'connectToServer');
        }
        return;
      case IN_DISCONNECT: {
        const { data, cause } = readDisconnect(bytes, view, offset, length);
        if (current && connection.resuming) {
          // A resume attempt ended: refused (the server's reason), or the network again.
          if (data === DISCONNECT_DATA_BY_SERVER) {
            this.close(connection, true);
            this.endSession(connection.serverReason || SESSION_EXPIRED);
          } else {
            this.close(connection, true);
            this.scheduleResume();
          }
          return;
        }
        if (current && this.status === ClientStatus.STATUS_CONNECTED && this.session?.token && cause !== CAUSE_LOCAL && data !== DISCONNECT_DATA_BY_SERVER) {
          this.interrupt(connection, REASON_CONNECTION_LOST);
          return;
        }
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
        if (current) this.stopSession();
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
      if (name === SESSION_EVENT) {
        this.countChannel = -1; // session control: not numbered by the server
        this.onApproved(payload);
        return true;
      }
      if (name === RESUMED_EVENT) {
        this.countChannel = -1;
        this.onResumed(connection, payload);
        return true;
      }
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


  // ---- sessions (docs/protocol.md "Sessions") --------------------------------------------------

  /** Acknowledgements and silence, looked at every SESSION_TICK_MS while connected. */
  private startSession(): void {
    this.lastReceive = { value: -1, at: performance.now() };
    watchSession(this.tick);
  }

  private stopSession(): void {
    unwatchSession(this.tick);
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
  }

  private sessionTick(): void {
    const session = this.session;
    const connection = this.connection;
    if (!session?.token || !connection || connection.resuming || this.interrupted) return;
    const now = performance.now();
    if (now - this.lastAckAt >= ACK_INTERVAL_MS) {
      // As native does: at most one acknowledgement per ACK_INTERVAL_MS, only when something arrived.
      const ack = session.takeAck();
      if (ack) {
        this.engine.sendBytes(this.target, ack, 0, false);
        this.lastAckAt = now;
      }
    }
    // ENet's lastReceiveTime of the server moves with every datagram (its pings every 500 ms too).
    const value = connection.stats[connection.slot * STATS_ROW + STATS_LAST_RECEIVE];
    if (value !== this.lastReceive.value) this.lastReceive = { value, at: now };
    else if (now - this.lastReceive.at >= this.silenceMs) this.interrupt(connection, `Nothing heard from the server for ${this.silenceMs} ms`);
  }

  /** The server's `_session`: we are in; with a token, the session can be resumed. */
  private onApproved(payload: Record<string, unknown>): void {
    if (this.approved) return;
    this.approved = true;
    const token = typeof payload.token === 'string' ? payload.token : '';
    if (this.session) {
      if (token === '') {
        this.session = undefined; // a server without sessions: nothing will be acknowledged
      } else {
        this.session.token = token;
        this.session.windowMs = Number(payload.windowMs) || 0;
      }
    }
    this.safeEmit('authenticated');
    this.flushHeld();
  }

  /** The connection broke (silence, or ENet gave up): keep the seat, come back on a new connection. */
  private interrupt(connection: Connection, reason: string): void {
    if (this.interrupted) return;
    this.interrupted = true;
    if (!connection.closed) connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
    this.close(connection, true);
    this.resumeAttempt = 0;
    this.safeEmit('connectionInterrupted', reason);
    this.tryResume();
  }

  private scheduleResume(): void {
    if (!this.interrupted) return;
    if (this.resumeAttempt >= this.reconnect.retries) {
      this.endSession(REASON_CONNECTION_LOST);
      return;
    }
    const { minDelayMs, maxDelayMs } = this.reconnect;
    const delay = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, this.resumeAttempt - 1)) * (0.5 + Math.random() / 2);
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.tryResume(), delay);
    this.resumeTimer.unref();
  }

  private tryResume(): void {
    if (!this.interrupted || !this.session) return;
    this.resumeAttempt++;
    const connection = this.open(this.address, this.port, this.channels, RESUME_MAGIC, true);
    if (!connection) this.scheduleResume();
  }

  /** The server's `_resumed`: it has what its counts say; the rest goes again, then what we held. */
  private onResumed(connection: Connection, payload: Record<string, unknown>): void {
    const session = this.session;
    if (!session || !connection.resuming) return;
    session.token = typeof payload.token === 'string' ? payload.token : '';
    session.trim(Array.isArray(payload.c) ? (payload.c as number[]) : []);
    connection.resuming = false;
    clearTimeout(connection.connectTimer);
    this.interrupted = false;
    for (const { channel, bytes } of session.unacknowledged()) this.engine.sendBytes(this.target, bytes, channel, true);
    this.startSession();
    this.flushHeld();
    this.safeEmit('resumed');
  }

  /** What the application sent while we were not approved or not connected, in order. */
  private flushHeld(): void {
    const connection = this.connection;
    if (!connection) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const { bytes, channel, reliable } of held) this.sendNow(connection, bytes, channel, reliable);
  }

  /** The session is over (refused, retries used up, or let go while interrupted). */
  private endSession(reason: string): void {
    const connection = this.connection;
    if (connection) {
      if (!connection.closed) connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
      this.close(connection, true);
    }
    this.interrupted = false;
    this.session = undefined;
    this.held = [];
    this.heldBytes = 0;
    this.stopSession();
    this.status = ClientStatus.STATUS_DISCONNECTED;
    this.safeEmit('disconnectedFromServer', reason);
  }

  private failConnect(connection: Connection, reason: string): void {
    if (this.connection !== connection) return;
    if (connection.resuming) {
      if (!connection.closed) connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
      this.close(connection, true);
      this.scheduleResume();
      return;
    }
    if (!connection.closed) connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
    this.close(connection);
    this.safeEmit('connectionFailed', reason);
  }

  /** Forgets the connection and destroys its ENet host (once). */
  private close(connection: Connection, keepStatus = false): void {
    if (this.connection === connection && keepStatus) {
      this.connection = undefined;
    } else if (this.connection === connection) {
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
