// The guard glue (guard.h does the checking): ENet's intercept callback, on the thread inside
// enet_host_service for a server host; OUT_BAN and the kick requests, under the reactor's mutex on
// the thread running a pass.
#include "reactor.h"

#include "records.h"

namespace enet_actor {

namespace {

// The guard of the host enet_host_service is running for on this thread (ENet's intercept callback
// gets only the ENetHost). Set around the call, under the reactor's mutex.
thread_local Guard* servicedGuard = nullptr;
thread_local ENetHost* servicedHost = nullptr;

}  // namespace

Reactor::ServicingScope::ServicingScope(ENetHost* host, Guard* guard) {
  servicedHost = host;
  servicedGuard = guard;
}

Reactor::ServicingScope::~ServicingScope() {
  servicedHost = nullptr;
  servicedGuard = nullptr;
}

int Reactor::interceptDatagram(ENetHost* host, ENetEvent* /*event*/) {
  if (servicedGuard == nullptr || servicedHost != host) return 0;
  return servicedGuard->onDatagram(host, nowMs()) ? 1 : 0;
}

void Reactor::outBanLocked(Host* h, const records::Record& r) {
  records::Ban ban;
  if (!records::readBan(r, &ban)) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  if (h == nullptr || !h->guard) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  h->guard->ban(ban.ipv4, ban.durationMs, nowMs());
}

void Reactor::emitKicksLocked(uint32_t index, Host& h) {
  for (const auto& [slot, cause] : h.guard->takeKicks()) {
    if (slot >= h.peerId.size() || h.peerId[slot] == 0) continue;  // not a peer the supervisor knows
    uint8_t rec[records::IN_KICK_REQUEST_BYTES];
    records::writeKickRequest(rec, index, slot, h.peerId[slot], static_cast<uint32_t>(cause));
    emitControl(SUPERVISOR_RING, index, rec, sizeof rec);
  }
}

}  // namespace enet_actor
