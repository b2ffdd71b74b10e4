// The supervisor's signals (the seed's, camelCased) and the callback types of its API.
import type { ENetServerPeer } from './peer.js';

export interface ServerEvents {
  peerConnecting: [peer: ENetServerPeer, data: number];
  peerPrelogin: [peer: ENetServerPeer, loginData: Record<string, unknown>];
  peerAuthenticated: [peer: ENetServerPeer];
  peerDisconnected: [peer: ENetServerPeer, reason: string];
  /** Sessions: the peer's connection broke; its seat is held (peer.isDropped()) until it resumes or the window ends. */
  peerDropped: [peer: ENetServerPeer, reason: string];
  /** Sessions: the peer came back on a new connection (its new address in getRemoteAddress()); nothing was lost. */
  peerResumed: [peer: ENetServerPeer];
  packetReceived: [peer: ENetServerPeer, packet: unknown, channel: number];
  rawPacketReceived: [peer: ENetServerPeer, data: Buffer, channel: number];
  customEventReceived: [peer: ENetServerPeer, name: string, payload: Record<string, unknown>, channel: number];
  unknownEventReceived: [peer: ENetServerPeer, name: string, payload: Record<string, unknown>, channel: number];
  serverStarted: [port: number];
  serverStopped: [];
  actorRestarted: [kind: 'net' | 'game', id: number, reason: string];
  actorMessage: [actorId: number, message: unknown];
  /** options.cluster: Redis became unreachable; local serving goes on, cluster calls reject ERR_UNAVAILABLE. */
  clusterDown: [error: Error];
  /** options.cluster: Redis reachable again; presence, identities and subscriptions are restored. */
  clusterUp: [];
  error: [error: Error];
}

/** Returns true (approve), false (reject), undefined (it calls peer.authenticate()/reject() itself), or a Promise of these. */
export type CustomAuthenticator = (
  peer: ENetServerPeer,
  loginData: Record<string, unknown>,
) => boolean | undefined | void | Promise<boolean | undefined | void>;

export type EventCallback = (peer: ENetServerPeer, payload: Record<string, unknown>, channel: number) => void;

export interface ServerMetrics {
  peers: number;
  authenticatedPeers: number;
  packetsIn: number;
  packetsOut: number;
  /** Packet payload bytes received from / queued to peers (as the application sees them). */
  bytesIn: number;
  bytesOut: number;
  /**
   * UDP payload bytes the server's ENet host actually received / sent: after compression, with ENet's
   * protocol headers, acknowledgements, pings and retransmissions (ENet's totalReceivedData /
   * totalSentData). Compare with bytesIn / bytesOut to see what compression saves.
   */
  wireBytesIn: number;
  wireBytesOut: number;
  malformedPackets: number;
  /** Packets from peers that were not (yet) authenticated, dropped. */
  droppedUnauthenticated: number;
  actorRestarts: number;
  setAside: number;
  ringStalls: number;
  /** CPU of this process since the previous getMetrics() call, % of one core. */
  cpuPercent: number;
  memoryRss: number;
  /** Handshakes in progress now (a CONNECT received, not completed). */
  pendingConnects: number;
  /** CONNECTs refused before ENet saw them, by cause (README "Running on the internet"). */
  refusedConnects: { rate: number; pending: number; perAddress: number; banned: number; full: number; total: number };
  /** Datagrams and packets dropped by the per-peer rate limits. */
  rateLimited: number;
  /** Peers disconnected by the defences, by cause. */
  kicked: { packetTooLarge: number; rateLimit: number };
  /** Bytes queued to peers and not acknowledged yet (sampled every 20 ms). */
  queuedBytes: number;
  /** Targets group sends left out because maxQueuedBytesPerPeer was queued to them. */
  busySkipped: number;
  /** Addresses refused now after repeated authentication failures. */
  bannedAddresses: number;
  /** One row per actor: the net actor first, then each game actor. */
  actors: ActorMetrics[];
  /** Sessions (README "Sessions"). */
  sessions: SessionMetrics;
  /** The transport's health over the connected peers (ENet's own figures, from the stats tables). */
  transport: TransportMetrics;
}

/** Percentiles over the connected peers (nearest rank; 0 with no peer). */
export interface Percentiles {
  p50: number;
  p99: number;
}

export interface TransportMetrics {
  /** Peers whose ENet connection is up (ENet state CONNECTED; seats held for a resume are not). */
  peers: number;
  /** ENet's smoothed round-trip time of each peer, ms. */
  rttMs: Percentiles;
  /** ENet's packet loss of each peer's reliable packets, as a fraction (0.01 = 1 %), smoothed over 10 s epochs. */
  packetLoss: Percentiles;
  /** Reliable commands ENet timed out and sent again, since the server started (all peers; a lower bound, docs/protocol.md "Counters"). */
  retransmissions: number;
}

/** One entry per connected peer (getPeerTransport()): what exporters build histograms from. */
export interface PeerTransport {
  peers: number;
  /** ENet's smoothed round-trip time, ms. */
  rttMs: Uint32Array;
  /** ENet's packet loss, as a fraction 0–1. */
  packetLoss: Float64Array;
  /** ENet's packet throttle, as a fraction 0–1 (1: no unreliable packet held back). */
  throttle: Float64Array;
}

export interface ActorMetrics {
  kind: 'net' | 'game';
  id: number;
  restarts: number;
  /** Records handled (the net actor: packets received). */
  handled: number;
  /** Bytes waiting in the actor's inbound / outbound ring. */
  inboundDepth: number;
  outboundDepth: number;
  /** Peers it handles (the net actor: all). */
  peers: number;
  /** Game actors: the share of the last interval their event loop was busy, % of one core. */
  cpuPercent?: number;
  handlerErrors?: number;
  malformed?: number;
}

export interface SessionMetrics {
  /** Seats with a session now (connected or dropped). */
  held: number;
  /** Of those, dropped now (held for a resume). */
  dropped: number;
  /** Resumes completed, since the server started. */
  resumed: number;
  /** Sessions that ended dropped: their window ran out, or their outbox overflowed. */
  expired: number;
  /** Resume attempts refused (unknown, used or expired token). */
  refused: number;
  /** Bytes waiting in every session's outbox for an acknowledgement. */
  outboxBytes: number;
}
