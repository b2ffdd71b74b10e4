// Runs on the main thread. A connected peer as the application sees it. Reading its state
// (ping, statistics) reads the stats table the net actor keeps in shared memory: synchronous, no
// round trip to a worker.
import { AuthState, ConnectionState, Err, PacketFormat, PeerStatistic } from '../wire/enums.js';
import { STATS_FIRST, STATS_PEER_ID, STATS_ROW, STATS_STATISTICS } from '../wire/protocol.js';
import { kDisconnect, kSend, kSendRaw, kAuthenticate, kReject, kRedirect, kSetIdentity, kSetTimeout, type PeerOwner } from './symbols.js';
import type { PeerTimeout } from '../plumbing/native.js';

export class ENetServerPeer {
  readonly peerId: number;
  /** Set when the peer is known to speak Godot's Variant format (or the server is set to it). */
  format: PacketFormat;
  /** Internal bookkeeping, owned by the supervisor: the shard (net actor) it is on, its slot there (both change when its session resumes on a new connection). */
  shard: number;
  slot: number;
  /** The channels ENet agreed with this peer (it may have asked for fewer than the server has). */
  channels: number;
  /** How the client opened: 'session' (it can resume), 'approval' (it wants only the approval notice), or neither. */
  sessionKind: 'session' | 'approval' | undefined;
  /** Its session's token (sessions on, a session-aware client, approved); '' otherwise. */
  sessionToken = '';
  /** The connection broke and the seat is held (sessions). */
  dropped = false;
  /** A resume on a new connection is under way: sends wait until it completed. */
  resuming = false;
  /** What the main thread sent while a resume was under way: sent on the new connection once it completes. */
  held: { bytes: Uint8Array; channel: number }[] = [];
  /** The seat's window timer while dropped. */
  windowTimer: NodeJS.Timeout | undefined;
  state = ConnectionState.STATE_CONNECTING;
  authState = AuthState.AUTH_PENDING;
  /** The reason the peer will be reported as disconnected with, once ENet confirms it. */
  pendingReason: string | undefined;
  loginReceived = false;
  authTimer: NodeJS.Timeout | undefined;
  malformedReported = false;
  /** The game actor that handles this peer once authenticated (-1: the main thread). */
  actor = -1;
  /** Routed to its actor, and the supervisor still passes on what reached it first (until IN_ROUTED). */
  routing = false;
  /** What its actor was told of it (IN_ATTACH's body), kept for a replacement actor. */
  attach: Uint8Array | undefined;
  /** Its fleet-wide name (setIdentity); kept by the cluster member. */
  identity: string | undefined;
  /** Its own ENet timeout (setTimeout), applied again to the new connection when its session resumes. */
  peerTimeout: PeerTimeout | undefined;

  private customData: unknown = null;
  private readonly connectedAt = performance.now();

  constructor(
    private readonly owner: PeerOwner,
    peerId: number,
    shard: number,
    slot: number,
    channels: number,
    private address: string,
    private port: number,
    private stats: Uint32Array,
    format: PacketFormat,
  ) {
    this.peerId = peerId;
    this.shard = shard;
    this.slot = slot;
    this.channels = channels;
    this.format = format;
    this.sessionKind = undefined;
  }

  /** The connection broke and the seat is held until the client resumes or its window ends. */
  isDropped(): boolean {
    return this.dropped;
  }

  /** The session resumed on a new connection (supervisor only). */
  moveTo(shard: number, slot: number, channels: number, address: string, port: number, stats: Uint32Array): void {
    this.shard = shard;
    this.slot = slot;
    this.channels = channels;
    this.address = address;
    this.port = port;
    this.stats = stats;
  }

  getPeerId(): number {
    return this.peerId;
  }

  getRemoteAddress(): string {
    return this.address;
  }

  getRemotePort(): number {
    return this.port;
  }

  getConnectionState(): ConnectionState {
    return this.state;
  }

  getAuthState(): AuthState {
    return this.authState;
  }

  getCustomData(): unknown {
    return this.customData;
  }

  setCustomData(data: unknown): void {
    this.customData = data;
  }

  /** Seconds since the peer connected. */
  getConnectionTime(): number {
    return (performance.now() - this.connectedAt) / 1000;
  }

  /** ENet's round-trip time to this peer, in ms. */
  getPing(): number {
    return this.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME);
  }

  getStatistic(stat: PeerStatistic): number {
    if (!Number.isInteger(stat) || stat < 0 || stat >= STATS_STATISTICS) return 0;
    const row = this.slot * STATS_ROW;
    // The row belongs to whoever holds the slot now: trust it only while it names this peer.
    if (this.stats[row + STATS_PEER_ID] !== this.peerId) return 0;
    return this.stats[row + STATS_FIRST + stat];
  }

  sendPacket(packet: unknown, channel = 0, reliable = true): Err {
    return this.owner[kSend](this, packet, channel, reliable);
  }

  /** Bytes go on the wire as they are, without a type byte. */
  sendRawPacket(bytes: Uint8Array, channel = 0, reliable = true): Err {
    return this.owner[kSendRaw](this, bytes, channel, reliable);
  }

  /**
   * ENet's timeout of this peer's connection, as Godot's `ENetPacketPeer.set_timeout` (and the server's
   * `peerTimeout` option for one peer): ENet gives the peer up once its oldest unacknowledged packet
   * waited `maximumMs`, or `minimumMs` after its retransmissions reached `limit`
   * (docs/enet-facts.md "Retransmission, pings and timeouts"). Takes effect at ENet's next check. A
   * dropped seat keeps it for the connection it resumes on. `ERR_INVALID_PARAMETER` for values out of
   * `peerTimeout`'s ranges (limit 1–65535, 100 ≤ minimumMs ≤ maximumMs ≤ 86,400,000) or a peer that
   * is gone; `ERR_UNCONFIGURED` when the server is not running.
   */
  setTimeout(limit: number, minimumMs: number, maximumMs: number): Err {
    return this.owner[kSetTimeout](this, limit, minimumMs, maximumMs);
  }

  disconnectPeer(reason = ''): void {
    this.owner[kDisconnect](this, reason);
  }

  reject(reason = ''): void {
    this.owner[kReject](this, reason);
  }

  authenticate(): void {
    this.owner[kAuthenticate](this);
  }

  /**
   * Names the player fleet-wide (options.cluster), applying its duplicateLogin policy: OK;
   * ERR_ALREADY_IN_USE when 'reject-new' refused it (this peer is then rejected with "Logged in
   * elsewhere"); ERR_INVALID_PARAMETER for an empty key or a peer that left. Rejects with ENetError
   * ERR_UNCONFIGURED without a cluster, ERR_UNAVAILABLE while Redis is down.
   */
  setIdentity(identity: string): Promise<Err> {
    return this.owner[kSetIdentity](this, identity);
  }

  getIdentity(): string | null {
    return this.identity ?? null;
  }

  /**
   * Tells the client to reconnect to `address`:`port` (the reserved `_redirect` event; ENetClient
   * follows it), then disconnects it with `reason`. ERR_INVALID_PARAMETER for a bad address or port.
   */
  redirect(address: string, port: number, reason = ''): Err {
    return this.owner[kRedirect](this, address, port, reason);
  }

  toJSON(): object {
    return {
      peerId: this.peerId,
      remoteAddress: this.address,
      remotePort: this.port,
      state: this.state,
      authState: this.authState,
      identity: this.identity ?? null,
    };
  }
}
