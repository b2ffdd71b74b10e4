// Record layout of the rings between the net actor and its peers in JS (docs/protocol.md).
// native/src/protocol.h holds the same numbers for the C++ side.

export const RECORD_HEADER_BYTES = 16;

/** Byte offsets inside a record payload. */
export const R_KIND = 0; // u8
export const R_CHANNEL = 1; // u8
export const R_FLAGS = 2; // u16
export const R_HOST = 4; // u32
export const R_SLOT = 8; // u32
export const R_PEER_ID = 12; // u32
export const R_BODY = 16;

export const FLAG_RELIABLE = 1;
/** Inbound records a game actor passed on to the supervisor (OUT_RELAY). */
export const FLAG_RELAYED = 2;
/** OUT_SEND: a session's own control packet (reliable, left out of the session's numbering). */
export const FLAG_UNCOUNTED = 4;
/** IN_SESSION_EXPORTED / IN_SESSION_RESUMED: there was no such session (refuse the resume). */
export const FLAG_GONE = 8;

/** Ring 0 of each direction is the supervisor's; ring k (1..) is game actor k-1's. */
export const SUPERVISOR_RING = 0;
export const MAX_RINGS = 256;

/** Native → JS. */
export const IN_CONNECT = 1;
export const IN_DISCONNECT = 2;
export const IN_RECEIVE = 3;
export const IN_ERROR = 4;
/** Actor rings: the peer is routed here; body = OUT_ROUTE's attach bytes. */
export const IN_ATTACH = 5;
/** Ring 0: the route took effect; the peer's later packets go to its actor. */
export const IN_ROUTED = 6;
/** Ring 0: the native guard wants this peer kicked; body u32 cause (KICK_*). */
export const IN_KICK_REQUEST = 7;
/** A session peer's connection broke (the seat is held); body as IN_DISCONNECT. */
export const IN_DROPPED = 8;
/** Ring 0, header only: the session left this shard for the parking map (FLAG_GONE: no such session). */
export const IN_SESSION_EXPORTED = 9;
/** Ring 0; header slot, sessionPeerId; body u32 temporaryPeerId, u32 count, count × u32 native's received counts. */
export const IN_SESSION_RESUMED = 10;
/** The session's actor ring, header only: the peer is back (new slot in the header). */
export const IN_RESUMED = 11;
/** Ring 0, header only: the session's outbox passed sessionOutboxBytes. */
export const IN_SESSION_OVERFLOW = 12;
export const KICK_PACKET_TOO_LARGE = 1;
export const KICK_RATE_LIMIT = 2;

/** IN_DISCONNECT causes. */
export const CAUSE_REMOTE = 1;
export const CAUSE_LOCAL = 2;
export const CAUSE_CONNECT_FAILED = 3;

/** JS → native. */
export const OUT_SEND = 1;
export const OUT_SEND_MULTI = 2;
export const OUT_DISCONNECT = 3;
export const OUT_CONNECT = 4;
export const OUT_SET_COMPRESSION = 5;
export const OUT_DESTROY_HOST = 6;
export const OUT_ROUTE = 7;
export const OUT_ROUTE_DONE = 8;
export const OUT_FORWARD = 9;
export const OUT_RELAY = 10;
/** Body u8[4] ipv4, u32 durationMs: the address's CONNECTs are refused meanwhile. */
export const OUT_BAN = 11;
/** Header only: free the session (IN_DISCONNECT if it was detached). */
export const OUT_SESSION_END = 12;
/** Header only: take the session out of its shard into the parking map (→ IN_SESSION_EXPORTED). */
export const OUT_SESSION_EXPORT = 13;
/** Header: the new connection; body u32 sessionPeerId, u32 count, count × u32 the client's counts (→ IN_SESSION_RESUMED). */
export const OUT_SESSION_RESUME = 14;
/** Body u32 limit, u32 minimumMs, u32 maximumMs: enet_peer_timeout of the peer (header host, slot, peerId). */
export const OUT_SET_TIMEOUT = 15;

/** Sessions (docs/protocol.md "Sessions"): connect data of a fresh session-aware connection (also its leaving data). */
export const SESSION_MAGIC = 0x53455331;
/** Connect data of a connection that comes to resume a session. */
export const RESUME_MAGIC = 0x53455332;
/** Connect data of a client that wants the approval notice (`_session`) but no session (ENetClient with resume: false). */
export const APPROVAL_MAGIC = 0x53455330;
/** First byte of a session control packet: u8 op, then its body. */
export const SESSION_CONTROL = 0xe5;
/** Ack: u8 count, count × u32 received counts for channels 0..count-1. */
export const SESSION_OP_ACK = 1;
/** At most one ack per peer this often (when its counts changed). */
export const ACK_INTERVAL_MS = 500;

/** OUT_DISCONNECT flags. */
export const DISCONNECT_LATER = 0;
export const DISCONNECT_NOW = 1;
export const DISCONNECT_RESET = 2;

/** Stats table: one row of 20 u32 per peer slot. */
export const STATS_ROW = 20;
export const STATS_PEER_ID = 0;
export const STATS_STATE = 1;
export const STATS_FIRST = 2;
/** PeerStatistic values per row (Godot's 14). */
export const STATS_STATISTICS = 14;
/** Bytes queued to the peer and not acknowledged yet (the guard's outgoing bound). */
export const STATS_QUEUED_BYTES = 16;
/** Incremented each time native rewrites the row (the queued bytes are as of that write). */
export const STATS_GENERATION = 17;
/** Payload bytes of the send records native has taken for this peer, from every producer (u32, wraps). */
export const STATS_PROCESSED_BYTES = 18;
/** ENet's lastReceiveTime of the peer (ms, ENet's clock, wraps): server and client hosts. */
export const STATS_LAST_RECEIVE = 19;

/** Counters table: Float64 slots. */
export const COUNTERS_SLOTS = 32;
export const C_PACKETS_IN = 0;
export const C_BYTES_IN = 1;
export const C_PACKETS_OUT = 2;
export const C_BYTES_OUT = 3;
export const C_INBOUND_STALLS = 4;
export const C_DROPPED_STALE = 5;
export const C_SEND_FAILURES = 6;
export const C_CONNECTS = 7;
export const C_DISCONNECTS = 8;
export const C_MALFORMED_RECORDS = 9;
/** UDP bytes as they went over the wire (after compression, ENet headers included). */
export const C_WIRE_BYTES_IN = 10;
export const C_WIRE_BYTES_OUT = 11;
/** Passes over the hosts (the net actor's service() passes). */
export const C_PASSES = 12;
/** Hosts walked by passes and stats passes: live hosts only, so flat after hosts are destroyed. */
export const C_HOST_VISITS = 13;
/** Live hosts of the reactor. */
export const C_HOSTS = 14;
/** Handshakes in progress now (server hosts). */
export const C_PENDING_CONNECTS = 15;
/** CONNECTs refused: the address's connect rate, too many handshakes, too many from the address, banned. */
export const C_REFUSED_RATE = 16;
export const C_REFUSED_PENDING = 17;
export const C_REFUSED_PER_ADDRESS = 18;
export const C_REFUSED_BANNED = 19;
/** Datagrams and packets dropped by the per-peer rate limits. */
export const C_RATE_LIMITED = 20;
/** Bytes queued to peers and not acknowledged, at the last stats pass. */
export const C_QUEUED_BYTES = 21;
export const C_BANNED_ADDRESSES = 22;
export const C_REFUSED_PEERS_PER_ADDRESS = 23;
export const C_REFUSED_FULL = 24;
/** Bytes held in the outboxes of the reactor's sessions (parked ones excepted). */
export const C_SESSION_OUTBOX_BYTES = 25;
/** Packets queued again at resumes. */
export const C_SESSION_RESENDS = 26;
/** Reliable commands ENet timed out and queued again (its per-peer packetsLost, summed at each stats pass). */
export const C_RETRANSMISSIONS = 27;

/** service() result bits. */
export const SERVICE_NOTIFY_INBOUND = 1;
export const SERVICE_DESTROYED = 2;

/** A dotted IPv4 address as ENet's address.host is stored in memory. */
export function ipv4ToBytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** ENet's address.host as stored in memory: the octets in order. */
export function ipv4ToString(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

