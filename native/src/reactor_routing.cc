// Routing a peer to a game actor (docs/protocol.md "Routing"), under the reactor's mutex on the
// thread draining the outbound rings: OUT_ROUTE holds the peer's records, OUT_FORWARD and
// OUT_ROUTE_DONE hand them to the actor's ring, OUT_RELAY passes an actor's records to ring 0.
#include "reactor.h"

#include "records.h"

namespace enet_actor {

void Reactor::outRouteLocked(uint32_t index, Host* h, const records::Record& r) {
  records::Route route;
  if (!records::readRoute(r, &route)) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t ring = route.ring;
  const uint32_t slot = r.header.slot;
  const uint32_t peerId = r.header.peerId;
  if (ring == SUPERVISOR_RING || ring >= inbound_.size()) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  if (livePeer(h, slot, peerId) == nullptr) {  // gone first: its disconnect went to the supervisor
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  if (h->route[slot] != SUPERVISOR_RING) {
    counters_[C_MALFORMED_RECORDS] += 1;  // routed once only
    return;
  }
  h->route[slot] = ring | ROUTE_HELD;
  holds_[holdKey(index, peerId)] = Hold{ring, {}};
  std::vector<uint8_t> attach(records::attachBytes(route.attachLength));
  records::writeAttach(attach.data(), index, slot, peerId, route.attach, route.attachLength);
  emitControl(ring, index, attach.data(), static_cast<uint32_t>(attach.size()));
  uint8_t routed[records::IN_ROUTED_BYTES];
  records::writeRouted(routed, index, slot, peerId);
  emitControl(SUPERVISOR_RING, index, routed, sizeof routed);
}

void Reactor::outRouteDoneLocked(uint32_t index, const records::Record& r) {
  const uint32_t slot = r.header.slot;
  const uint32_t peerId = r.header.peerId;
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

void Reactor::outForwardLocked(uint32_t index, const records::Record& r) {
  auto it = holds_.find(holdKey(index, r.header.peerId));
  if (it == holds_.end()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const records::Header& hd = r.header;
  std::vector<uint8_t> out(records::receiveBytes(r.bodyLength));
  records::writeReceive(out.data(), hd.channel, hd.flags & FLAG_RELIABLE, hd.host, hd.slot, hd.peerId, r.body,
                        r.bodyLength);
  emitControl(it->second.ring, index, out.data(), static_cast<uint32_t>(out.size()));
}

void Reactor::outRelayLocked(const records::Record& r) {
  if (!records::readRelay(r)) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  std::vector<uint8_t> out(r.body, r.body + r.bodyLength);
  records::markRelayed(out.data());
  emitControl(SUPERVISOR_RING, records::readHeader(out.data()).host, out.data(), static_cast<uint32_t>(out.size()));
}

}  // namespace enet_actor
