// The stats table (a row per peer slot) and the counters table, under the reactor's mutex on the
// thread running a pass: rows written from ENet's peer state, counters summed from the hosts and
// their guards, both stored with relaxed atomics for JS to read.
#include "reactor.h"

#include "records.h"

#include <cstring>

namespace enet_actor {

namespace {

inline void storeRelaxed(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// Bytes of the packets queued to a peer and not acknowledged (ENet keeps no total of its own).
uint64_t queuedBytesOf(ENetPeer& peer) {
  uint64_t total = 0;
  for (ENetList* list : {&peer.outgoingCommands, &peer.sentReliableCommands}) {
    for (ENetListIterator it = enet_list_begin(list); it != enet_list_end(list); it = enet_list_next(it)) {
      const ENetOutgoingCommand* command = reinterpret_cast<const ENetOutgoingCommand*>(it);
      if (command->packet != nullptr) total += command->fragmentLength;
    }
  }
  return total;
}

}  // namespace

void Reactor::writeStatsRow(Host& h, uint32_t slot) {
  const ENetPeer& p = h.enet->peers[slot];
  uint32_t* row = h.stats + slot * STATS_ROW;
  const uint32_t values[STATS_STATISTICS] = {
      p.packetLoss,           p.packetLossVariance,         p.packetLossEpoch,
      p.roundTripTime,        p.roundTripTimeVariance,      p.lastRoundTripTime,
      p.lastRoundTripTimeVariance, p.packetThrottle,        p.packetThrottleLimit,
      p.packetThrottleCounter, p.packetThrottleEpoch,       p.packetThrottleAcceleration,
      p.packetThrottleDeceleration, p.packetThrottleInterval,
  };
  // Retransmissions: ENet counts each reliable command that timed out (and is queued again) in
  // packetsLost, and zeroes it at the end of each packet-loss epoch (10 s, inside a send pass): a
  // smaller value than last time means a reset, and all of it is new. Those counted between this
  // row's last write (<= STATS_INTERVAL_MS ago, while serviced) and a reset are missed.
  const uint32_t lost = p.packetsLost;
  const uint32_t seen = h.lostSeen[slot];
  counters_[C_RETRANSMISSIONS] += lost >= seen ? lost - seen : lost;
  h.lostSeen[slot] = lost;
  storeRelaxed(row + STATS_STATE, static_cast<uint32_t>(p.state));
  for (uint32_t i = 0; i < STATS_STATISTICS; ++i) storeRelaxed(row + STATS_FIRST + i, values[i]);
  if (h.guard) {
    const uint64_t queued = queuedBytesOf(h.enet->peers[slot]);
    h.queuedBytes += queued;
    storeRelaxed(row + STATS_QUEUED_BYTES, queued > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(queued));
    storeRelaxed(row + STATS_GENERATION, row[STATS_GENERATION] + 1);
    storeRelaxed(row + STATS_PROCESSED_BYTES, h.processed[slot]);
  }
  storeRelaxed(row + STATS_LAST_RECEIVE, p.lastReceiveTime);
  storeRelaxed(row + STATS_PEER_ID, h.peerId[slot]);
}

void Reactor::zeroStatsRow(Host& h, uint32_t slot) {
  uint32_t* row = h.stats + slot * STATS_ROW;
  storeRelaxed(row + STATS_PEER_ID, 0);
  for (uint32_t i = 1; i < STATS_ROW; ++i) storeRelaxed(row + i, 0);
}

void Reactor::statsPassLocked() {
  counters_[C_HOST_VISITS] += static_cast<double>(hosts_.size());
  const uint64_t now = nowMs();
  sendAcksLocked(now);  // only the sessions whose counts changed
  for (auto& owned : hosts_) {
    Host* h = owned.get();
    if (h->guard) {
      h->guard->sweep(h->enet, now);  // handshake timeouts run even when nothing else happens
      emitKicksLocked(h->id, *h);
    }
    // ENet changes a peer's statistics and state only while its host is serviced.
    if (!h->statsDirty) continue;
    h->statsDirty = false;
    h->queuedBytes = 0;
    const uint32_t i = h->id;
    const uint32_t n = static_cast<uint32_t>(h->peerId.size());
    for (uint32_t s = 0; s < n; ++s) {
      if (h->peerId[s] == 0) continue;
      if (h->enet->peers[s].state == ENET_PEER_STATE_DISCONNECTED) {
        // Safety net: ENet let go of the slot without an event we saw.
        const uint8_t f = h->slotFlags[s];
        emitDisconnect(i, *h, s, 0,
                       (f & SLOT_REQUESTED)    ? CAUSE_LOCAL
                       : (f & SLOT_CONNECTED) ? CAUSE_REMOTE
                                              : CAUSE_CONNECT_FAILED,
                       true);
        continue;
      }
      writeStatsRow(*h, s);
    }
  }
}

void Reactor::accountWireLocked(Host& h) {
  const uint32_t sent = h.enet->totalSentData;
  const uint32_t received = h.enet->totalReceivedData;
  counters_[C_WIRE_BYTES_OUT] += static_cast<uint32_t>(sent - h.wireSent);
  counters_[C_WIRE_BYTES_IN] += static_cast<uint32_t>(received - h.wireReceived);
  h.wireSent = sent;
  h.wireReceived = received;
}

void Reactor::writeCountersLocked() {
  // The guards' figures, summed over the server hosts (gauges now, counts since they were created).
  double pending = 0, rate = 0, full = 0, perAddress = 0, banned = 0, limited = 0, queued = 0, bannedNow = 0;
  double peersPerAddress = 0, refusedFull = 0;
  const uint64_t now = nowMs();
  for (const Host* h : guardedHosts_) {
    const GuardCounters& g = h->guard->counters();
    pending += h->guard->pendingConnects();
    rate += g.refusedRate;
    full += g.refusedPending;
    perAddress += g.refusedPerAddress;
    peersPerAddress += g.refusedPeersPerAddress;
    refusedFull += g.refusedFull;
    banned += g.refusedBanned;
    limited += g.rateLimited;
    queued += static_cast<double>(h->queuedBytes);
    bannedNow += h->guard->bannedAddresses(now);
  }
  counters_[C_PENDING_CONNECTS] = pending;
  counters_[C_REFUSED_RATE] = rate;
  counters_[C_REFUSED_PENDING] = full;
  counters_[C_REFUSED_PER_ADDRESS] = perAddress;
  counters_[C_REFUSED_BANNED] = banned;
  counters_[C_RATE_LIMITED] = limited;
  counters_[C_QUEUED_BYTES] = queued;
  counters_[C_BANNED_ADDRESSES] = bannedNow;
  counters_[C_REFUSED_PEERS_PER_ADDRESS] = peersPerAddress;
  counters_[C_REFUSED_FULL] = refusedFull;
  counters_[C_SESSION_OUTBOX_BYTES] = static_cast<double>(sessionBytes_);
  for (uint32_t i = 0; i < C_COUNT; ++i) {
    uint64_t bits;
    std::memcpy(&bits, &counters_[i], 8);
    __atomic_store_n(reinterpret_cast<uint64_t*>(countersMem_ + i), bits, __ATOMIC_RELAXED);
  }
}

}  // namespace enet_actor
