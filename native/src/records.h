// Internal to the reactor's files (reactor*.cc): little-endian byte access and the
// record header writer, shared rather than copied. Not part of the addon's interface.
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

inline void writeHeader(uint8_t* p, uint8_t kind, uint8_t channel, uint16_t flags, uint32_t host,
                        uint32_t slot, uint32_t peerId) {
  p[REC_KIND] = kind;
  p[REC_CHANNEL] = channel;
  wr16(p + REC_FLAGS, flags);
  wr32(p + REC_HOST, host);
  wr32(p + REC_SLOT, slot);
  wr32(p + REC_PEER_ID, peerId);
}

inline std::string errnoText(int e) {
  char buf[128];
  // GNU strerror_r returns the message (possibly not in buf).
  const char* s = strerror_r(e, buf, sizeof buf);
  return s ? std::string(s) : std::string("errno ") + std::to_string(e);
}

}  // namespace enet_actor
