// The inbound emitter, under the reactor's mutex on the thread running a pass: turns one host's
// ENet events into inbound records (serviceHostLocked lives here, not with the scheduling: it is
// the loop that takes events from ENet and decides what each one becomes, within the ring room the
// pass allows), and owns the ordered pending queue of records that must not be lost.
#include "reactor.h"

#include "records.h"

#include <errno.h>
#include <enet/time.h>

namespace enet_actor {

bool Reactor::serviceHostLocked(uint32_t index, Host& h, uint32_t* budget, bool* stalled) {
  const uint32_t maxRecord = records::receiveBytes(h.maxPacketSize);
  h.dirty = false;  // whatever the pass does, it sends what is queued
  h.statsDirty = true;
  bool serviced = false;
  bool any = false;
  bool unsent = false;
  ENetEvent ev;
  while (*budget > 0) {
    if (!pending_.empty() || !inboundRoomLocked(maxRecord)) {
      *stalled = true;
      break;
    }
    int r = enet_host_check_events(h.enet, &ev);
    if (r == 0 && !serviced) {
      serviced = true;
      errno = 0;
      {
        ServicingScope scope(h.enet, h.guard.get());
        r = enet_host_service(h.enet, &ev, 0);
      }
      h.ready = false;  // what is left past ENet's 256 datagrams is reported again (docs/enet-facts.md)
      // A connect or disconnect returns from enet_host_service before its second send: the acks
      // of that datagram (a handshake's last step) would wait for the next pass, inflating the
      // first round trip by up to pollRate.
      if (r > 0 && ev.type != ENET_EVENT_TYPE_RECEIVE) unsent = true;
    }
    if (r < 0) {
      const int e = errno;
      const uint64_t now = nowMs();
      // At most one IN_ERROR per host per second: a persistent failure must not flood the ring (any
      // datagram over 4096 bytes fails the call: docs/enet-facts.md "Receive buffer (4096 bytes)").
      if (!h.errorReported || now - h.lastErrorMs >= 1000) {
        h.errorReported = true;
        h.lastErrorMs = now;
        uint8_t rec[records::IN_ERROR_BYTES];
        records::writeError(rec, index, e != 0 ? e : r);
        emitControl(SUPERVISOR_RING, index, rec, sizeof rec);
      }
      break;
    }
    if (r == 0) break;
    --*budget;
    any = true;
    handleEventLocked(index, h, ev);
  }
  if (!serviced || unsent) enet_host_flush(h.enet);  // pings, acks and queued sends still go out
  if (h.server) fitPeerWindow(h);
  if (h.guard) emitKicksLocked(index, h);
  accountWireLocked(h);
  if (!h.server) h.dueMs = nextDueMs(h.enet, enet_time_get());
  return any;
}

void Reactor::handleEventLocked(uint32_t index, Host& h, ENetEvent& ev) {
  const uint32_t slot = static_cast<uint32_t>(ev.peer - h.enet->peers);
  switch (ev.type) {
    case ENET_EVENT_TYPE_CONNECT: {
      uint32_t id;
      if (h.server && h.sharedPeerIds != nullptr) {
        // The JS side reads the same word with Atomics: one counter for every shard of the server.
        do {
          id = __atomic_add_fetch(h.sharedPeerIds, 1u, __ATOMIC_RELAXED);
        } while (id == 0);
      } else if (h.server) {
        id = h.nextPeerId++;
        if (h.nextPeerId == 0) h.nextPeerId = 1;
      } else {
        id = h.peerId[slot];
        if (id == 0) {
          // Someone connected to a client host's ephemeral port: nobody asked for that peer.
          enet_peer_disconnect_now(ev.peer, 0);
          return;
        }
      }
      assignSlot(h, slot, id);
      h.slotFlags[slot] = SLOT_CONNECTED;
      if (h.timeoutLimit != 0 || h.timeoutMinimumMs != 0 || h.timeoutMaximumMs != 0) {
        // docs/enet-facts.md "Retransmission, pings and timeouts": 0 keeps ENet's default of that field.
        enet_peer_timeout(ev.peer, h.timeoutLimit, h.timeoutMinimumMs, h.timeoutMaximumMs);
      }
      if (h.sessionLimit > 0 && (ev.data == SESSION_MAGIC || ev.data == RESUME_MAGIC)) {
        createSessionLocked(h, slot, id, ev.data);
      }
      uint8_t rec[records::IN_CONNECT_BYTES];
      records::writeConnect(rec, index, slot, id, ev.data, ev.peer->address.host, ev.peer->address.port,
                            static_cast<uint16_t>(ev.peer->channelCount));  // as agreed in the handshake
      emitControl(SUPERVISOR_RING, index, rec, sizeof rec);
      counters_[C_CONNECTS] += 1;
      writeStatsRow(h, slot);
      return;
    }
    case ENET_EVENT_TYPE_DISCONNECT: {
      if (h.peerId[slot] == 0) return;  // never reported as connected (or already forgotten)
      const uint8_t f = h.slotFlags[slot];
      const uint32_t cause = (f & SLOT_REQUESTED)    ? CAUSE_LOCAL
                             : (f & SLOT_CONNECTED) ? CAUSE_REMOTE
                                                    : CAUSE_CONNECT_FAILED;
      emitDisconnect(index, h, slot, ev.data, cause, true);
      return;
    }
    case ENET_EVENT_TYPE_RECEIVE: {
      ENetPacket* packet = ev.packet;
      const uint32_t id = h.peerId[slot];
      const size_t len = packet->dataLength;
      Session* session = id != 0 ? h.session[slot] : nullptr;
      if (session != nullptr) {
        if (len > 0 && packet->data[0] == SESSION_CONTROL) {
          // Ours (an ack): never reaches a ring, not counted as a packet.
          if (!(h.guard && h.guard->onPacket(slot, len, nowMs()))) sessionControlLocked(*session, packet->data, len);
          enet_packet_destroy(packet);
          return;
        }
        // Counted as the peer numbered it, even if the guard drops it below.
        if (packet->flags & ENET_PACKET_FLAG_RELIABLE) countReceivedLocked(*session, ev.channelID);
      }
      if (id != 0 && len <= h.maxPacketSize && !(h.guard && h.guard->onPacket(slot, len, nowMs()))) {
        const uint16_t flags = (packet->flags & ENET_PACKET_FLAG_RELIABLE) ? FLAG_RELIABLE : 0;
        const uint32_t route = h.route[slot];
        const uint32_t recLen = records::receiveBytes(static_cast<uint32_t>(len));
        if (route & ROUTE_HELD) {
          std::vector<uint8_t> rec(recLen);
          records::writeReceive(rec.data(), ev.channelID, flags, index, slot, id, packet->data, len);
          holds_[holdKey(index, id)].records.push_back(std::move(rec));
        } else {
          uint8_t* p = appendRecord(route, recLen);
          if (p != nullptr) {  // always: the pass checked room for a maximum-size record
            records::writeReceive(p, ev.channelID, flags, index, slot, id, packet->data, len);
          }
        }
        counters_[C_PACKETS_IN] += 1;
        counters_[C_BYTES_IN] += static_cast<double>(len);
      }
      enet_packet_destroy(packet);
      return;
    }
    case ENET_EVENT_TYPE_NONE:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Inbound records

uint8_t* Reactor::appendRecord(uint32_t ring, uint32_t len) {
  uint8_t* p = inbound_[ring].append(len);
  if (p != nullptr) ++emitted_;
  return p;
}

bool Reactor::inboundRoomLocked(uint32_t len) const {
  for (const auto& in : inbound_) {
    if (!in.canWrite(len)) return false;
  }
  return true;
}

void Reactor::emitControl(uint32_t ring, uint32_t host, const uint8_t* rec, uint32_t len) {
  bool queued = false;
  for (const auto& p : pending_) {
    if (p.ring == ring) {
      queued = true;
      break;
    }
  }
  if (!queued) {
    uint8_t* p = appendRecord(ring, len);
    if (p != nullptr) {
      std::memcpy(p, rec, len);
      return;
    }
  }
  pending_.push_back(Pending{host, ring, std::vector<uint8_t>(rec, rec + len)});
}

void Reactor::emitRouted(uint32_t index, Host& h, uint32_t slot, const uint8_t* rec, uint32_t len) {
  const uint32_t route = h.route[slot];
  if (route & ROUTE_HELD) {
    holds_[holdKey(index, h.peerId[slot])].records.emplace_back(rec, rec + len);
  } else {
    emitControl(route, index, rec, len);
  }
}

bool Reactor::flushPendingLocked() {
  bool wrote = false;
  uint64_t blocked = 0;  // rings (mod 64) found full in this flush: later records of theirs wait
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint64_t bit = uint64_t{1} << (it->ring % 64);
    if (blocked & bit) {
      ++it;
      continue;
    }
    uint8_t* p = appendRecord(it->ring, static_cast<uint32_t>(it->bytes.size()));
    if (p == nullptr) {
      blocked |= bit;
      ++it;
      continue;
    }
    std::memcpy(p, it->bytes.data(), it->bytes.size());
    it = pending_.erase(it);
    wrote = true;
  }
  return wrote;
}

void Reactor::emitDisconnect(uint32_t index, Host& h, uint32_t slot, uint32_t data, uint32_t cause,
                             bool mayDrop) {
  uint8_t kind = IN_DISCONNECT;
  if (Session* s = h.session[slot]) {
    // docs/protocol.md "Sessions", Drop: ENet let it go and it did not say it is leaving.
    if (mayDrop && cause == CAUSE_REMOTE && data != SESSION_MAGIC && !s->resumeOnly) {
      detachSessionLocked(h, slot, *s);
      kind = IN_DROPPED;
    } else {
      freeSessionLocked(s);
    }
  }
  const std::string& reason = h.reason[slot];
  std::vector<uint8_t> rec(records::disconnectBytes(reason.size()));
  records::writeDisconnect(rec.data(), index, slot, h.peerId[slot], data, cause, reason, kind);
  // A peer routed to a game actor hears of it there; the actor passes it on to the supervisor.
  emitRouted(index, h, slot, rec.data(), static_cast<uint32_t>(rec.size()));
  if (kind == IN_DISCONNECT) counters_[C_DISCONNECTS] += 1;
  forgetSlot(h, slot);
}

}  // namespace enet_actor
