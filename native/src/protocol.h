// Record kinds, offsets, flags and table layouts shared with JS.
// docs/protocol.md is the contract; src/wire/protocol.ts has the same names and values
// (test/protocol.test.js checks both ways; the few native-only names are listed there).
#pragma once

#include <cstddef>
#include <cstdint>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "enet_actor assumes a little-endian machine (ring records are little-endian)"
#endif

namespace enet_actor {
namespace proto {

// ---- record header (every record payload starts with these 16 bytes) ----
constexpr uint32_t RECORD_HEADER_BYTES = 16;
constexpr uint32_t R_KIND = 0;      // u8
constexpr uint32_t R_CHANNEL = 1;   // u8
constexpr uint32_t R_FLAGS = 2;     // u16
constexpr uint32_t R_HOST = 4;      // u32
constexpr uint32_t R_SLOT = 8;      // u32
constexpr uint32_t R_PEER_ID = 12;  // u32
constexpr uint32_t R_BODY = RECORD_HEADER_BYTES;  // where the body starts

constexpr uint16_t FLAG_RELIABLE = 1;
// Inbound records a game actor passed on to the supervisor (OUT_RELAY): already seen by an actor.
constexpr uint16_t FLAG_RELAYED = 2;
// OUT_SEND: a session's own control packet (reliable but left out of the session's numbering).
constexpr uint16_t FLAG_UNCOUNTED = 4;
// IN_SESSION_EXPORTED / IN_SESSION_RESUMED: there was no such session (JS refuses the resume).
constexpr uint16_t FLAG_GONE = 8;

// Inbound ring 0 is the supervisor's; ring k (1..) is game actor k-1's. Outbound ring 0 is the
// supervisor's (main thread), ring k game actor k-1's. A peer's packets go to the ring it is routed to.
constexpr uint32_t SUPERVISOR_RING = 0;
constexpr uint32_t MAX_RINGS = 256;

// ---- inbound (native -> JS); each body is read or written by records.h only ----
constexpr uint8_t IN_CONNECT = 1;     // body: u32 data, u8[4] ipv4, u16 port, u16 channels
constexpr uint8_t IN_DISCONNECT = 2;  // body: u32 data, u32 cause, then the reason (UTF-8) if any
constexpr uint8_t IN_RECEIVE = 3;     // body: packet bytes
constexpr uint8_t IN_ERROR = 4;       // body: i32 code
constexpr uint8_t IN_ATTACH = 5;      // actor rings: the peer is routed here; body: OUT_ROUTE's attach bytes
constexpr uint8_t IN_ROUTED = 6;      // ring 0: the route took effect; later packets go to the actor
constexpr uint8_t IN_KICK_REQUEST = 7;  // ring 0: the guard wants this peer kicked; body: u32 cause
// Sessions (docs/protocol.md "Sessions"):
constexpr uint8_t IN_DROPPED = 8;           // a session peer's connection broke; body as IN_DISCONNECT
constexpr uint8_t IN_SESSION_EXPORTED = 9;  // ring 0, header only (FLAG_GONE: no such session)
constexpr uint8_t IN_SESSION_RESUMED = 10;  // ring 0; body: u32 temporaryPeerId, u32 count, count x u32
constexpr uint8_t IN_RESUMED = 11;          // the session's actor ring, header only
constexpr uint8_t IN_SESSION_OVERFLOW = 12; // ring 0, header only: the outbox passed sessionOutboxBytes

constexpr uint32_t CAUSE_REMOTE = 1;          // remote disconnected or timed out
constexpr uint32_t CAUSE_LOCAL = 2;           // a disconnect we requested completed
constexpr uint32_t CAUSE_CONNECT_FAILED = 3;  // outgoing connection never completed

// ---- outbound (JS -> native); each body is read by records.h only ----
constexpr uint8_t OUT_SEND = 1;             // body: bytes
constexpr uint8_t OUT_SEND_MULTI = 2;       // body: u32 count, count x (u32 slot, u32 peerId), bytes
constexpr uint8_t OUT_DISCONNECT = 3;       // flags: 0 later, 1 now, 2 reset; body: u32 data, reason bytes
constexpr uint8_t OUT_CONNECT = 4;          // body: u8[4] ipv4, u16 port, u16 channelCount, u32 data
constexpr uint8_t OUT_SET_COMPRESSION = 5;  // body: u32 mode (0..4)
constexpr uint8_t OUT_DESTROY_HOST = 6;     // no body
constexpr uint8_t OUT_ROUTE = 7;            // body: u32 ring (1..), then attach bytes (-> IN_ATTACH)
constexpr uint8_t OUT_ROUTE_DONE = 8;       // no body: release the peer's held records to its ring
constexpr uint8_t OUT_FORWARD = 9;          // channel, flags; body: packet bytes (-> IN_RECEIVE, held peer's ring)
constexpr uint8_t OUT_RELAY = 10;           // body: a whole inbound record, appended to ring 0 with FLAG_RELAYED
constexpr uint8_t OUT_BAN = 11;             // body: u8[4] ipv4, u32 durationMs: refuse its CONNECTs meanwhile
constexpr uint8_t OUT_SESSION_END = 12;     // no body: free the session (IN_DISCONNECT if it was detached)
constexpr uint8_t OUT_SESSION_EXPORT = 13;  // no body: park the session for a resume (-> IN_SESSION_EXPORTED)
constexpr uint8_t OUT_SESSION_RESUME = 14;  // body: u32 sessionPeerId, u32 count, count x u32 (-> IN_SESSION_RESUMED)
constexpr uint8_t OUT_SET_TIMEOUT = 15;     // body: u32 limit, u32 minimumMs, u32 maximumMs (enet_peer_timeout)

// ---- sessions: connect data, the control packet, the ack timer ----
constexpr uint32_t SESSION_MAGIC = 0x53455331;  // "SES1": a fresh session-aware connection (also its leaving data)
constexpr uint32_t RESUME_MAGIC = 0x53455332;   // "SES2": a connection that comes to resume a session
constexpr uint32_t APPROVAL_MAGIC = 0x53455330; // "SES0": a client that wants the approval notice, no session (JS only; native treats it as any data)
constexpr uint32_t SESSION_CONTROL = 0xE5;      // first byte of a session control packet
constexpr uint32_t SESSION_OP_ACK = 1;          // then: u8 count, count x u32 received counts
constexpr uint32_t ACK_INTERVAL_MS = 500;       // at most one ack per peer this often

// IN_KICK_REQUEST causes (guard.h KickCause).
constexpr uint32_t KICK_PACKET_TOO_LARGE = 1;
constexpr uint32_t KICK_RATE_LIMIT = 2;

constexpr uint16_t DISCONNECT_LATER = 0;
constexpr uint16_t DISCONNECT_NOW = 1;
constexpr uint16_t DISCONNECT_RESET = 2;

// OUT_SET_COMPRESSION / hostCreate modes: compress::MODE_* in compress.h (0 none, 1 range coder,
// 2 FastLZ, 3 zlib, 4 zstd; Godot's numbering).

// ---- stats table: peerCount rows of STATS_ROW u32 ----
constexpr uint32_t STATS_ROW = 20;
constexpr uint32_t STATS_ROW_BYTES = STATS_ROW * sizeof(uint32_t);
constexpr uint32_t STATS_PEER_ID = 0;
constexpr uint32_t STATS_STATE = 1;
constexpr uint32_t STATS_FIRST = 2;            // STATS_STATISTICS PeerStatistic values in Godot's order
constexpr uint32_t STATS_STATISTICS = 14;
constexpr uint32_t STATS_QUEUED_BYTES = 16;    // bytes queued to the peer and not acknowledged yet
constexpr uint32_t STATS_GENERATION = 17;      // incremented each time the row is rewritten
constexpr uint32_t STATS_PROCESSED_BYTES = 18; // payload bytes of send records taken for the peer (u32, wraps)
constexpr uint32_t STATS_LAST_RECEIVE = 19;    // ENet's lastReceiveTime of the peer (ms, ENet's clock, wraps)
constexpr uint32_t STATS_INTERVAL_MS = 20;     // how often a stats pass rewrites the rows, at most
static_assert(STATS_FIRST + STATS_STATISTICS <= STATS_QUEUED_BYTES, "the statistics overlap the row's other fields");
static_assert(STATS_LAST_RECEIVE < STATS_ROW, "a stats row holds every field");

// ---- counters table: COUNTERS_SLOTS f64 per reactor ----
constexpr uint32_t COUNTERS_SLOTS = 32;
constexpr uint32_t COUNTERS_BYTES = COUNTERS_SLOTS * sizeof(double);
enum Counter : uint32_t {
  C_PACKETS_IN = 0,
  C_BYTES_IN = 1,
  C_PACKETS_OUT = 2,
  C_BYTES_OUT = 3,
  C_INBOUND_STALLS = 4,
  C_DROPPED_STALE = 5,
  C_SEND_FAILURES = 6,
  C_CONNECTS = 7,
  C_DISCONNECTS = 8,
  C_MALFORMED_RECORDS = 9, // outbound records native could not parse
  C_WIRE_BYTES_IN = 10,    // UDP payload bytes received by the hosts (ENet's totalReceivedData)
  C_WIRE_BYTES_OUT = 11,   // UDP payload bytes sent by the hosts (ENet's totalSentData)
  C_PASSES = 12,           // passes over the hosts (service() passes, inline passes excluded)
  C_HOST_VISITS = 13,      // hosts walked by passes and stats passes (live hosts only)
  C_HOSTS = 14,            // live hosts now
  C_PENDING_CONNECTS = 15,     // handshakes in progress now (server hosts)
  C_REFUSED_RATE = 16,         // CONNECTs refused: the address's connect rate
  C_REFUSED_PENDING = 17,      // ... too many handshakes in progress
  C_REFUSED_PER_ADDRESS = 18,  // ... too many handshakes in progress from that address
  C_REFUSED_BANNED = 19,       // ... the address is banned (repeated authentication failures)
  C_RATE_LIMITED = 20,         // datagrams and packets dropped by the per-peer rate limits
  C_QUEUED_BYTES = 21,         // bytes queued to peers and not acknowledged, at the last stats pass
  C_BANNED_ADDRESSES = 22,     // addresses banned now
  C_REFUSED_PEERS_PER_ADDRESS = 23,  // CONNECTs refused: the address has maxPeersPerAddress peers
  C_REFUSED_FULL = 24,               // CONNECTs refused: no free peer slot
  C_SESSION_OUTBOX_BYTES = 25,       // bytes held in the outboxes of the reactor's sessions (parked ones excepted)
  C_SESSION_RESENDS = 26,            // packets queued again at resumes
  C_RETRANSMISSIONS = 27,            // reliable commands ENet timed out and queued again (packetsLost, sampled)
  C_COUNT = 28,
};
static_assert(C_COUNT <= COUNTERS_SLOTS, "the counters table holds every counter");

// ---- service() result bits ----
constexpr int SERVICE_NOTIFY_INBOUND = 1;  // JS must Atomics.notify(inboundHeader, DOORBELL)
constexpr int SERVICE_DESTROYED = 2;       // the reactor is gone: end the loop

// ---- ENet limits (docs/enet-facts.md "Limits and defaults") and native scheduling ----
constexpr uint32_t ENET_MAX_PEERS = 4095;
constexpr uint32_t ENET_MAX_CHANNELS = 255;
constexpr uint32_t EVENTS_PER_PASS = 4096;
// How long the net actor sleeps when its hosts have no peer at all (pollRate applies otherwise).
constexpr int QUIET_SLEEP_MS = 1000;

}  // namespace proto
}  // namespace enet_actor
