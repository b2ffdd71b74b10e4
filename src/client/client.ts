// Runs on the thread that creates it (usually the main thread). A headless ENet client with the
// server's packet conventions; all clients of a process share one net actor (./network.ts).
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { lookup } from 'node:dns/promises';
import { ClientStatus, CompressionMode, Err, PacketFormat, PacketType, PeerStatistic } from '../shared/enums.js';
import { ENetError } from '../shared/errors.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE, DEFAULT_POLL_RATE_MS, ENET_MAX_CHANNELS } from '../shared/defaults.js';
import {
  CAUSE_CONNECT_FAILED,
  CAUSE_LOCAL,
  DISCONNECT_LATER,
  DISCONNECT_RESET,
  IN_CONNECT,
  IN_DISCONNECT,
  IN_RECEIVE,
  R_BODY,
  R_CHANNEL,
  R_SLOT,
  STATS_FIRST,
  STATS_PEER_ID,
  STATS_ROW,
} from '../shared/protocol.js';
import { decodePacket, encodeNode, encodePacket, makeEvent, splitEvent, type CodecLimits, type NetworkNode } from '../shared/codec/index.js';
import { DISCONNECT_DATA_BY_SERVER, DISCONNECT_REASON_EVENT, invalidCompressionMessage, isSupportedCompression } from '../shared/wire.js';
import { clientNetwork } from './network.js';
import type { NetActorLink } from '../net-actor/link.js';

export interface ClientEvents {
  connectedToServer: [];
  disconnectedFromServer: [reason: string];
  connectionFailed: [reason: string];
  packetReceived: [packet: unknown, channel: number];
  rawPacketReceived: [data: Buffer, channel: number];
  customEventReceived: [name: string, payload: Record<string, unknown>, channel: number];
  unknownEventReceived: [name: string, payload: Record<string, unknown>, channel: number];
  error: [error: Error];
}

export interface ClientOptions {
  /** Give up connecting after this long (ENet's own limit is 5–30 s). */
  connectTimeoutMs?: number;
  maxPacketSize?: number;
  maxDepth?: number;
}

export type ClientEventCallback = (payload: Record<string, unknown>, channel: number) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
let nextClientId = 1;

interface Connection {
  link: NetActorLink;
  host: number;
  stats: Uint32Array;
  slot: number;
  channels: number;
  /** Set once we asked to disconnect: the reason we report when ENet confirms. */
  localReason: string | undefined;
  /** The reason the server sent before disconnecting us. */
  serverReason: string | undefined;
  connectTimer: NodeJS.Timeout | undefined;
}

export class ENetClient extends EventEmitter<ClientEvents> {
  private readonly clientId = nextClientId++;
  private status = ClientStatus.STATUS_DISCONNECTED;
  private connection: Connection | undefined;
  private address = '';
  private port = 0;
  private compression = CompressionMode.COMPRESS_NONE;
  private format = PacketFormat.MSGPACK;
  private readonly events = new Map<string, ClientEventCallback>();
  private readonly limits: CodecLimits;
  private readonly connectTimeoutMs: number;
  pollRate = DEFAULT_POLL_RATE_MS;

  constructor(options: ClientOptions = {}) {
    super();
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.limits = { maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE, maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH };
  }

  // ---- connection ---------------------------------------------------------------------------

  connectToServer(address: string, port: number, channels = 2): Err {
    if (this.status !== ClientStatus.STATUS_DISCONNECTED) return Err.ERR_ALREADY_IN_USE;
    if (typeof address !== 'string' || address === '') return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return Err.ERR_INVALID_PARAMETER;
    if (!Number.isInteger(channels) || channels < 1 || channels > ENET_MAX_CHANNELS) return Err.ERR_INVALID_PARAMETER;
    const link = clientNetwork.get();
    let created: { host: number; stats: Uint32Array };
    try {
      created = link.createHost({ peers: 1, channels, compression: this.compression });
    } catch {
      return Err.ERR_CANT_CREATE;
    }
    const connection: Connection = {
      link,
      host: created.host,
      stats: created.stats,
      slot: 0,
      channels,
      localReason: undefined,
      serverReason: undefined,
      connectTimer: undefined,
    };
    this.connection = connection;
    this.address = address;
    this.port = port;
    this.status = ClientStatus.STATUS_CONNECTING;
    clientNetwork.attach(created.host, this);
    clientNetwork.hold();
    connection.connectTimer = setTimeout(() => this.failConnect(connection, `Connection to ${address}:${port} timed out`), this.connectTimeoutMs);
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

  disconnectFromServer(reason = ''): void {
    const connection = this.connection;
    if (!connection || connection.localReason !== undefined) return;
    connection.localReason = String(reason);
    if (this.status === ClientStatus.STATUS_CONNECTING) {
      this.failConnect(connection, connection.localReason || 'Connection cancelled');
      return;
    }
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
    if (!connection || !Number.isInteger(stat) || stat < 0 || stat >= STATS_ROW - STATS_FIRST) return 0;
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

  /** All clients share one net actor: it waits at most the smallest poll rate any client asked for. */
  setPollRate(ms: number): void {
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new ENetError(Err.ERR_INVALID_PARAMETER, `poll rate must be a number of ms, got ${ms}`);
    this.pollRate = Math.max(1, Math.min(1000, Math.round(ms)));
    clientNetwork.refreshPollRate();
  }

  getPollRate(): number {
    return this.pollRate;
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
    let bytes: Uint8Array;
    try {
      bytes = encodePacket(packet, this.format, this.limits);
    } catch {
      return Err.ERR_INVALID_DATA;
    }
    return this.sendBytes(bytes, channel, reliable);
  }

  sendRawPacket(bytes: Uint8Array, channel = 0, reliable = true): Err {
    if (!(bytes instanceof Uint8Array)) return Err.ERR_INVALID_PARAMETER;
    return this.sendBytes(bytes, channel, reliable);
  }

  sendNodeState(node: NetworkNode, flags: number, channel = 0): Err {
    if (node === null || typeof node !== 'object') return Err.ERR_INVALID_DATA;  // as the server's
    let bytes: Uint8Array;
    try {
      bytes = encodeNode(node, flags);
    } catch {
      return Err.ERR_INVALID_DATA;
    }
    return this.sendBytes(bytes, channel, true);
  }

  // ---- custom events ------------------------------------------------------------------------

  registerEvent(name: string, callback: ClientEventCallback): void {
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

  triggerEvent(name: string, payload: Record<string, unknown> = {}, channel = 0, reliable = true): Err {
    if (typeof name !== 'string' || name === '' || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return Err.ERR_INVALID_PARAMETER;
    return this.sendPacket(makeEvent(name, payload), channel, reliable);
  }

  // ---- records from the network (ClientEndpoint) --------------------------------------------

  onRecord(bytes: Uint8Array, offset: number, length: number): void {
    const connection = this.connection;
    if (!connection) return;
    const view = connection.link.inbound.view;
    try {
      switch (bytes[offset]) {
        case IN_RECEIVE: {
          const data = Buffer.allocUnsafe(length - R_BODY);
          data.set(bytes.subarray(offset + R_BODY, offset + length));
          this.onPacket(connection, data, bytes[offset + R_CHANNEL]);
          return;
        }
        case IN_CONNECT:
          connection.slot = view.getUint32(offset + R_SLOT, true);
          clearTimeout(connection.connectTimer);
          this.status = ClientStatus.STATUS_CONNECTED;
          this.emit('connectedToServer');
          return;
        case IN_DISCONNECT: {
          const data = view.getUint32(offset + R_BODY, true);
          const cause = view.getUint32(offset + R_BODY + 4, true);
          if (this.status === ClientStatus.STATUS_CONNECTING || cause === CAUSE_CONNECT_FAILED) {
            this.failConnect(connection, `Could not connect to ${this.address}:${this.port}`);
            return;
          }
          let reason: string;
          if (cause === CAUSE_LOCAL) reason = connection.localReason ?? '';
          else if (data === DISCONNECT_DATA_BY_SERVER) reason = connection.serverReason ?? '';  // the server's reason, even an empty one
          else reason = 'Connection lost';
          this.close(connection);
          this.emit('disconnectedFromServer', reason);
          return;
        }
      }
    } catch (error) {
      this.reportError(error);
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private onPacket(connection: Connection, data: Buffer, channel: number): void {
    let value: unknown;
    let decoded = true;
    try {
      value = decodePacket(data, this.limits);
    } catch {
      decoded = false;
    }
    const event = decoded ? splitEvent(value) : undefined;
    if (event?.name === DISCONNECT_REASON_EVENT) {
      connection.serverReason = String(event.payload.reason ?? '');
      return;
    }
    this.emit('rawPacketReceived', data, channel);
    if (!decoded) return;
    if (data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) this.format = PacketFormat.GODOT;
    if (event) {
      const handler = this.events.get(event.name);
      if (handler) {
        handler(event.payload, channel);
        this.emit('customEventReceived', event.name, event.payload, channel);
        return;
      }
      this.emit('unknownEventReceived', event.name, event.payload, channel);
    }
    this.emit('packetReceived', value, channel);
  }

  private sendBytes(bytes: Uint8Array, channel: number, reliable: boolean): Err {
    const connection = this.connection;
    if (!connection || this.status !== ClientStatus.STATUS_CONNECTED || connection.localReason !== undefined) return Err.ERR_UNCONFIGURED;
    if (!Number.isInteger(channel) || channel < 0 || channel >= connection.channels) return Err.ERR_INVALID_PARAMETER;
    if (bytes.length > this.limits.maxPacketSize) return Err.ERR_INVALID_DATA;
    return connection.link.out.send(connection.host, connection.slot, this.clientId, channel, reliable !== false, bytes) ? Err.OK : Err.ERR_BUSY;
  }

  private failConnect(connection: Connection, reason: string): void {
    if (this.connection !== connection) return;
    connection.link.out.disconnect(connection.host, connection.slot, this.clientId, DISCONNECT_RESET, 0);
    this.close(connection);
    this.emit('connectionFailed', reason);
  }

  /** Forgets the connection and destroys its ENet host. */
  private close(connection: Connection): void {
    if (this.connection !== connection) return;
    clearTimeout(connection.connectTimer);
    this.connection = undefined;
    this.status = ClientStatus.STATUS_DISCONNECTED;
    clientNetwork.detach(connection.host);
    connection.link.destroyHost(connection.host);
    clientNetwork.release();
  }

  private reportError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
    else console.error(`enet-actor-server client: a handler threw: ${(error as Error)?.stack ?? error}`);
  }
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}
