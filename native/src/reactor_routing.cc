// Routing a peer to a game actor (docs/protocol.md "Routing"), under the reactor's mutex on the
// thread draining the outbound rings: OUT_ROUTE holds the peer's records, OUT_FORWARD and
// OUT_ROUTE_DONE hand them to the actor's ring, OUT_RELAY passes an actor's records to ring 0.
#include "reactor.h"

#include "records.h"

namespace enet_actor {

void Reactor::outRouteLocked(uint32_t index, Host* h, const uint8_t* rec, uint32_t len) {
  if (len < REC_HEADER_BYTES + 4) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t ring = rd32(rec + REC_HEADER_BYTES);
  const uint32_t slot = rd32(rec + REC_SLOT);
  const uint32_t peerId = rd32(rec + REC_PEER_ID);
  if (ring == SUPERVISOR_RING || ring >= inbound_.size()) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  if (livePeer(h, slot, peerId) == nullptr) {  // gone first: its disconnect went to the supervisor
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  if (h->route[slot] != SUPERVISOR_RING) {
    counters_[C_MALFORMED] += 1;  // routed once only
    return;
  }
  h->route[slot] = ring | ROUTE_HELD;
  holds_[holdKey(index, peerId)] = Hold{ring, {}};
  const uint32_t attachLen = len - REC_HEADER_BYTES - 4;
  std::vector<uint8_t> attach(REC_HEADER_BYTES + attachLen);
  writeHeader(attach.data(), IN_ATTACH, 0, 0, index, slot, peerId);
  std::memcpy(attach.data() + REC_HEADER_BYTES, rec + REC_HEADER_BYTES + 4, attachLen);
  emitControl(ring, index, attach.data(), static_cast<uint32_t>(attach.size()));
  uint8_t routed[REC_HEADER_BYTES];
  writeHeader(routed, IN_ROUTED, 0, 0, index, slot, peerId);
  emitControl(SUPERVISOR_RING, index, routed, sizeof routed);
}

void Reactor::outRouteDoneLocked(uint32_t index, const uint8_t* rec) {
  const uint32_t slot = rd32(rec + REC_SLOT);
  const uint32_t peerId = rd32(rec + REC_PEER_ID);
  auto it = holds_.find(holdKey(index, peerId));
  if (it == holds_.end()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const uint32_t ring = it->second.ring;
  for (const auto& held : it->second.records) {
    emitControl(ring, index, held.data(), static_cast<uint32_t>(held.size()));
  }
  holds_.erase(it);
  Host* h = findHost(index);
  if (h != nullptr && slot < h->peerId.size() && h->peerId[slot] == peerId) h->route[slot] = ring;
}

void Reactor::outForwardLocked(uint32_t index, const uint8_t* rec, uint32_t len) {
  auto it = holds_.find(holdKey(index, rd32(rec + REC_PEER_ID)));
  if (it == holds_.end()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  std::vector<uint8_t> out(rec, rec + len);
  out[REC_KIND] = IN_RECEIVE;
  wr16(out.data() + REC_FLAGS, rd16(rec + REC_FLAGS) & FLAG_RELIABLE);
  emitControl(it->second.ring, index, out.data(), len);
}

void Reactor::outRelayLocked(const uint8_t* rec, uint32_t len) {
  if (len < 2 * REC_HEADER_BYTES) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  std::vector<uint8_t> out(rec + REC_HEADER_BYTES, rec + len);
  wr16(out.data() + REC_FLAGS, rd16(out.data() + REC_FLAGS) | FLAG_RELAYED);
  emitControl(SUPERVISOR_RING, rd32(out.data() + REC_HOST), out.data(), static_cast<uint32_t>(out.size()));
}

}  // namespace enet_actor
