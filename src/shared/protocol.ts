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

/** OUT_DISCONNECT flags. */
export const DISCONNECT_LATER = 0;
export const DISCONNECT_NOW = 1;
export const DISCONNECT_RESET = 2;

/** Stats table: one row of 16 u32 per peer slot. */
export const STATS_ROW = 16;
export const STATS_PEER_ID = 0;
export const STATS_STATE = 1;
export const STATS_FIRST = 2;

/** Counters table: Float64 slots. */
export const COUNTERS_SLOTS = 16;
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

/** service() result bits. */
export const SERVICE_NOTIFY_INBOUND = 1;
export const SERVICE_DESTROYED = 2;

/** ENet's address.host as stored in memory: the octets in order. */
export function ipv4ToString(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}
