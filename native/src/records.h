// Internal to the reactor's files (reactor*.cc): the one reader or writer of each record kind of
// docs/protocol.md ("Records"), so that no .cc file touches a record's bytes by offset; and the
// few small helpers they share (the clock, errno text). Not part of the addon's interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

#include "protocol.h"

namespace enet_actor {

using namespace proto;

inline uint64_t nowMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

inline std::string errnoText(int e) {
  char buf[128];
  // GNU strerror_r returns the message (possibly not in buf).
  const char* s = strerror_r(e, buf, sizeof buf);
  return s ? std::string(s) : std::string("errno ") + std::to_string(e);
}

namespace records {

// ---- little-endian fields (protocol.h refuses big-endian machines) ----
inline uint16_t rd16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void wr16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void wr32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// ---- the header every record starts with ----
struct Header {
  uint8_t kind = 0;
  uint8_t channel = 0;
  uint16_t flags = 0;
  uint32_t host = 0;
  uint32_t slot = 0;
  uint32_t peerId = 0;
};

inline Header readHeader(const uint8_t* p) {
  Header h;
  h.kind = p[R_KIND];
  h.channel = p[R_CHANNEL];
  h.flags = rd16(p + R_FLAGS);
  h.host = rd32(p + R_HOST);
  h.slot = rd32(p + R_SLOT);
  h.peerId = rd32(p + R_PEER_ID);
  return h;
}

inline void writeHeader(uint8_t* p, uint8_t kind, uint8_t channel, uint16_t flags, uint32_t host,
                        uint32_t slot, uint32_t peerId) {
  p[R_KIND] = kind;
  p[R_CHANNEL] = channel;
  wr16(p + R_FLAGS, flags);
  wr32(p + R_HOST, host);
  wr32(p + R_SLOT, slot);
  wr32(p + R_PEER_ID, peerId);
}

// A record taken from an outbound ring (length >= RECORD_HEADER_BYTES): its header, read once, and
// its body.
struct Record {
  Header header;
  const uint8_t* bytes = nullptr;  // the whole record
  uint32_t length = 0;
  const uint8_t* body = nullptr;
  uint32_t bodyLength = 0;
};

inline Record readRecord(const uint8_t* bytes, uint32_t length) {
  Record r;
  r.header = readHeader(bytes);
  r.bytes = bytes;
  r.length = length;
  r.body = bytes + R_BODY;
  r.bodyLength = length - RECORD_HEADER_BYTES;
  return r;
}

// ---- inbound records (native -> JS): sizes and writers ----

// IN_CONNECT: u32 data, u8[4] ipv4 (ENet's address.host as stored), u16 port, u16 channels.
namespace in_connect {
constexpr uint32_t DATA = 0, IPV4 = 4, PORT = 8, CHANNELS = 10, BODY = 12;
}
constexpr uint32_t IN_CONNECT_BYTES = RECORD_HEADER_BYTES + in_connect::BODY;
inline void writeConnect(uint8_t* p, uint32_t host, uint32_t slot, uint32_t peerId, uint32_t data,
                         uint32_t ipv4, uint16_t port, uint16_t channels) {
  writeHeader(p, IN_CONNECT, 0, 0, host, slot, peerId);
  uint8_t* b = p + R_BODY;
  wr32(b + in_connect::DATA, data);
  wr32(b + in_connect::IPV4, ipv4);
  wr16(b + in_connect::PORT, port);
  wr16(b + in_connect::CHANNELS, channels);
}

// IN_DISCONNECT: u32 data, u32 cause, then the reason (UTF-8, to the end) if any.
namespace in_disconnect {
constexpr uint32_t DATA = 0, CAUSE = 4, REASON = 8;
}
constexpr uint32_t IN_DISCONNECT_BYTES = RECORD_HEADER_BYTES + in_disconnect::REASON;  // no reason
inline uint32_t disconnectBytes(size_t reasonLength) {
  return IN_DISCONNECT_BYTES + static_cast<uint32_t>(reasonLength);
}
// IN_DROPPED (sessions) has the same body: `kind` IN_DROPPED.
inline void writeDisconnect(uint8_t* p, uint32_t host, uint32_t slot, uint32_t peerId, uint32_t data,
                            uint32_t cause, const std::string& reason = std::string(),
                            uint8_t kind = IN_DISCONNECT) {
  writeHeader(p, kind, 0, 0, host, slot, peerId);
  uint8_t* b = p + R_BODY;
  wr32(b + in_disconnect::DATA, data);
  wr32(b + in_disconnect::CAUSE, cause);
  std::memcpy(b + in_disconnect::REASON, reason.data(), reason.size());
}

// IN_RECEIVE: the packet's bytes.
inline uint32_t receiveBytes(uint32_t packetLength) { return RECORD_HEADER_BYTES + packetLength; }
inline void writeReceive(uint8_t* p, uint8_t channel, uint16_t flags, uint32_t host, uint32_t slot,
                         uint32_t peerId, const void* packet, size_t packetLength) {
  writeHeader(p, IN_RECEIVE, channel, flags, host, slot, peerId);
  std::memcpy(p + R_BODY, packet, packetLength);
}

// IN_ERROR: i32 code.
namespace in_error {
constexpr uint32_t CODE = 0, BODY = 4;
}
constexpr uint32_t IN_ERROR_BYTES = RECORD_HEADER_BYTES + in_error::BODY;
inline void writeError(uint8_t* p, uint32_t host, int32_t code) {
  writeHeader(p, IN_ERROR, 0, 0, host, 0, 0);
  wr32(p + R_BODY + in_error::CODE, static_cast<uint32_t>(code));
}

// IN_ATTACH: OUT_ROUTE's attach bytes.
inline uint32_t attachBytes(uint32_t attachLength) { return RECORD_HEADER_BYTES + attachLength; }
inline void writeAttach(uint8_t* p, uint32_t host, uint32_t slot, uint32_t peerId, const uint8_t* attach,
                        uint32_t attachLength) {
  writeHeader(p, IN_ATTACH, 0, 0, host, slot, peerId);
  std::memcpy(p + R_BODY, attach, attachLength);
}

// IN_ROUTED: header only.
constexpr uint32_t IN_ROUTED_BYTES = RECORD_HEADER_BYTES;
inline void writeRouted(uint8_t* p, uint32_t host, uint32_t slot, uint32_t peerId) {
  writeHeader(p, IN_ROUTED, 0, 0, host, slot, peerId);
}

// IN_KICK_REQUEST: u32 cause (KICK_*).
namespace in_kick_request {
constexpr uint32_t CAUSE = 0, BODY = 4;
}
constexpr uint32_t IN_KICK_REQUEST_BYTES = RECORD_HEADER_BYTES + in_kick_request::BODY;
inline void writeKickRequest(uint8_t* p, uint32_t host, uint32_t slot, uint32_t peerId, uint32_t cause) {
  writeHeader(p, IN_KICK_REQUEST, 0, 0, host, slot, peerId);
  wr32(p + R_BODY + in_kick_request::CAUSE, cause);
}

// IN_SESSION_EXPORTED, IN_RESUMED, IN_SESSION_OVERFLOW: header only (flags: FLAG_GONE or 0).
constexpr uint32_t IN_SESSION_HEADER_BYTES = RECORD_HEADER_BYTES;
inline void writeSessionHeader(uint8_t* p, uint8_t kind, uint16_t flags, uint32_t host, uint32_t slot,
                               uint32_t peerId) {
  writeHeader(p, kind, 0, flags, host, slot, peerId);
}

// IN_SESSION_RESUMED: u32 temporaryPeerId, u32 count, count x u32 native's received counts.
namespace in_session_resumed {
constexpr uint32_t TEMPORARY_PEER_ID = 0, COUNT = 4, COUNTS = 8;
}
inline uint32_t sessionResumedBytes(uint32_t count) {
  return RECORD_HEADER_BYTES + in_session_resumed::COUNTS + 4 * count;
}
inline void writeSessionResumed(uint8_t* p, uint16_t flags, uint32_t host, uint32_t slot, uint32_t peerId,
                                uint32_t temporaryPeerId, const uint32_t* counts, uint32_t count) {
  using namespace in_session_resumed;
  writeHeader(p, IN_SESSION_RESUMED, 0, flags, host, slot, peerId);
  uint8_t* b = p + R_BODY;
  wr32(b + TEMPORARY_PEER_ID, temporaryPeerId);
  wr32(b + COUNT, count);
  for (uint32_t i = 0; i < count; ++i) wr32(b + COUNTS + 4 * i, counts[i]);
}

// A relayed record (OUT_RELAY's body, a whole inbound record): FLAG_RELAYED or'ed into its flags.
inline void markRelayed(uint8_t* p) { wr16(p + R_FLAGS, rd16(p + R_FLAGS) | FLAG_RELAYED); }

// ---- outbound records (JS -> native): body readers; false = malformed ----
// OUT_SEND and OUT_FORWARD: the body is the packet (Record::body); OUT_ROUTE_DONE and
// OUT_DESTROY_HOST: header only.

// OUT_SEND_MULTI: u32 count, count x (u32 slot, u32 peerId), then the packet to the end.
namespace out_send_multi {
constexpr uint32_t COUNT = 0, TARGETS = 4;
constexpr uint32_t TARGET_SLOT = 0, TARGET_PEER_ID = 4, TARGET_BYTES = 8;  // inside one target
}
struct SendMulti {
  uint32_t count = 0;
  const uint8_t* targets = nullptr;
  const uint8_t* data = nullptr;
  uint32_t dataLength = 0;
  uint32_t slot(uint32_t i) const {
    return rd32(targets + out_send_multi::TARGET_BYTES * i + out_send_multi::TARGET_SLOT);
  }
  uint32_t peerId(uint32_t i) const {
    return rd32(targets + out_send_multi::TARGET_BYTES * i + out_send_multi::TARGET_PEER_ID);
  }
};
inline bool readSendMulti(const Record& r, SendMulti* out) {
  using namespace out_send_multi;
  if (r.bodyLength < TARGETS) return false;
  const uint32_t count = rd32(r.body + COUNT);
  if (count > (r.bodyLength - TARGETS) / TARGET_BYTES) return false;
  out->count = count;
  out->targets = r.body + TARGETS;
  out->data = out->targets + TARGET_BYTES * count;
  out->dataLength = r.bodyLength - TARGETS - TARGET_BYTES * count;
  return true;
}

// OUT_DISCONNECT: u32 data (0 when absent), then the reason (UTF-8, to the end) if any.
namespace out_disconnect {
constexpr uint32_t DATA = 0, REASON = 4;
}
struct Disconnect {
  uint32_t data = 0;
  const char* reason = nullptr;  // nullptr: none
  uint32_t reasonLength = 0;
};
inline Disconnect readDisconnect(const Record& r) {
  using namespace out_disconnect;
  Disconnect d;
  if (r.bodyLength >= REASON) d.data = rd32(r.body + DATA);
  if (r.bodyLength > REASON) {
    d.reason = reinterpret_cast<const char*>(r.body + REASON);
    d.reasonLength = r.bodyLength - REASON;
  }
  return d;
}

// OUT_CONNECT: u8[4] ipv4, u16 port, u16 channelCount, u32 data.
namespace out_connect {
constexpr uint32_t IPV4 = 0, PORT = 4, CHANNELS = 6, DATA = 8, BODY = 12;
}
struct Connect {
  uint32_t ipv4 = 0;  // as ENet's address.host is stored
  uint16_t port = 0;
  uint16_t channels = 0;  // 0: the host's channel limit
  uint32_t data = 0;
};
inline bool readConnect(const Record& r, Connect* out) {
  using namespace out_connect;
  if (r.bodyLength < BODY) return false;
  out->ipv4 = rd32(r.body + IPV4);
  out->port = rd16(r.body + PORT);
  out->channels = rd16(r.body + CHANNELS);
  out->data = rd32(r.body + DATA);
  return true;
}

// OUT_SET_COMPRESSION: u32 mode.
namespace out_set_compression {
constexpr uint32_t MODE = 0, BODY = 4;
}
inline bool readSetCompression(const Record& r, uint32_t* mode) {
  using namespace out_set_compression;
  if (r.bodyLength < BODY) return false;
  *mode = rd32(r.body + MODE);
  return true;
}

// OUT_ROUTE: u32 ring, then the attach bytes (to the end).
namespace out_route {
constexpr uint32_t RING = 0, ATTACH = 4;
}
struct Route {
  uint32_t ring = 0;
  const uint8_t* attach = nullptr;
  uint32_t attachLength = 0;
};
inline bool readRoute(const Record& r, Route* out) {
  using namespace out_route;
  if (r.bodyLength < ATTACH) return false;
  out->ring = rd32(r.body + RING);
  out->attach = r.body + ATTACH;
  out->attachLength = r.bodyLength - ATTACH;
  return true;
}

// OUT_RELAY: a whole inbound record (header included) is the body.
inline bool readRelay(const Record& r) { return r.bodyLength >= RECORD_HEADER_BYTES; }

// OUT_BAN: u8[4] ipv4, u32 durationMs.
namespace out_ban {
constexpr uint32_t IPV4 = 0, DURATION_MS = 4, BODY = 8;
}
struct Ban {
  uint32_t ipv4 = 0;  // as ENet's address.host is stored
  uint32_t durationMs = 0;
};
inline bool readBan(const Record& r, Ban* out) {
  using namespace out_ban;
  if (r.bodyLength < BODY) return false;
  out->ipv4 = rd32(r.body + IPV4);
  out->durationMs = rd32(r.body + DURATION_MS);
  return true;
}

// OUT_SESSION_RESUME: u32 sessionPeerId, u32 count, count x u32 the client's received counts.
namespace out_session_resume {
constexpr uint32_t SESSION_PEER_ID = 0, COUNT = 4, COUNTS = 8;
}
struct SessionResume {
  uint32_t sessionPeerId = 0;
  uint32_t count = 0;
  const uint8_t* counts = nullptr;
  uint32_t countAt(uint32_t i) const { return rd32(counts + 4 * i); }
};
inline bool readSessionResume(const Record& r, SessionResume* out) {
  using namespace out_session_resume;
  if (r.bodyLength < COUNTS) return false;
  const uint32_t count = rd32(r.body + COUNT);
  if (count > (r.bodyLength - COUNTS) / 4) return false;
  out->sessionPeerId = rd32(r.body + SESSION_PEER_ID);
  out->count = count;
  out->counts = r.body + COUNTS;
  return true;
}

// OUT_SET_TIMEOUT: u32 limit, u32 minimumMs, u32 maximumMs (enet_peer_timeout's arguments).
namespace out_set_timeout {
constexpr uint32_t LIMIT = 0, MINIMUM_MS = 4, MAXIMUM_MS = 8, BODY = 12;
}
struct SetTimeout {
  uint32_t limit = 0;
  uint32_t minimumMs = 0;
  uint32_t maximumMs = 0;
};
// JS checks the ranges first (checkPeerTimeout); a zero would mean ENet's default, so it is refused
// here too, as is a minimum over the maximum.
inline bool readSetTimeout(const Record& r, SetTimeout* out) {
  using namespace out_set_timeout;
  if (r.bodyLength < BODY) return false;
  out->limit = rd32(r.body + LIMIT);
  out->minimumMs = rd32(r.body + MINIMUM_MS);
  out->maximumMs = rd32(r.body + MAXIMUM_MS);
  return out->limit != 0 && out->minimumMs != 0 && out->minimumMs <= out->maximumMs;
}

}  // namespace records
}  // namespace enet_actor
