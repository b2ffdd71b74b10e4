// Sessions (docs/protocol.md "Sessions (resume after a dropped connection)"), under the reactor's
// mutex on the thread running a pass or draining the outbound rings: numbering and keeping what is
// sent to a session peer, counting and acknowledging what it sends, its drop, its end, and its
// move through the process-wide parking map (export from one shard, resume on another or the same).
#include "reactor.h"

#include "records.h"

#include <algorithm>

namespace enet_actor {

Reactor::Target Reactor::targetLocked(Host* h, uint32_t slot, uint32_t peerId) {
  Target t;
  if (ENetPeer* peer = livePeer(h, slot, peerId)) {
    t.host = h;
    t.slot = slot;
    t.peer = peer;
    t.session = h->session[slot];
    return t;
  }
  if (peerId == 0 || sessions_.empty() || (h != nullptr && !h->server)) return t;
  auto it = sessions_.find(peerId);
  if (it == sessions_.end()) return t;
  Session* s = it->second.get();
  t.session = s;
  if (s->attached) {  // resumed into another slot: records written before JS knew go there
    t.host = findHost(s->host);
    t.slot = s->slot;
    t.peer = &t.host->enet->peers[s->slot];
    markDirty(*t.host);
  }
  return t;
}

void Reactor::queueLocked(const Target& t, uint8_t channel, ENetPacket* packet, bool counted) {
  Session* s = t.session;
  const bool reliable = (packet->flags & ENET_PACKET_FLAG_RELIABLE) != 0;
  const bool numbered = s != nullptr && reliable && counted;
  if (numbered && channel >= s->channels()) {  // ENet would refuse it too
    counters_[C_SEND_FAILURES] += 1;
    return;
  }
  if (t.peer == nullptr) {
    // A detached session: reliable packets wait in its outbox for a resume; the rest are dropped.
    if (numbered) keepLocked(*s, channel, packet);
    return;
  }
  if (numbered && t.peer->state != ENET_PEER_STATE_CONNECTED) {
    // Its disconnect is on the way (a timeout, or it is leaving): kept, in case this is a drop.
    keepLocked(*s, channel, packet);
    return;
  }
  if (enet_peer_send(t.peer, channel, packet) == 0) {
    counters_[C_PACKETS_OUT] += 1;
    counters_[C_BYTES_OUT] += static_cast<double>(packet->dataLength);
    // Numbered in the order ENet got it, which is the order the peer receives it in.
    if (numbered) keepLocked(*s, channel, packet);
  } else {
    counters_[C_SEND_FAILURES] += 1;
  }
}

// The server a host belongs to, for the parking map: every shard of one server shares its peer-id
// counter (HostOptions::peerIds), so its address names the server; a host without one is its own.
uint64_t Reactor::parkingGroup(const Host& h) {
  return h.sharedPeerIds != nullptr ? reinterpret_cast<uintptr_t>(h.sharedPeerIds) : reinterpret_cast<uintptr_t>(&h);
}

void Reactor::createSessionLocked(Host& h, uint32_t slot, uint32_t peerId, uint32_t data) {
  auto s = std::make_unique<Session>(peerId, static_cast<uint32_t>(h.enet->peers[slot].channelCount),
                                     h.sessionLimit);
  s->attached = true;
  s->host = h.id;
  s->slot = slot;
  s->resumeOnly = data == RESUME_MAGIC;
  s->group = parkingGroup(h);
  h.session[slot] = s.get();
  adoptSessionLocked(std::move(s));
}

void Reactor::adoptSessionLocked(std::unique_ptr<Session> s) {
  auto it = sessions_.find(s->peerId());
  if (it != sessions_.end()) freeSessionLocked(it->second.get());
  sessionBytes_ += s->bytes();
  const uint32_t peerId = s->peerId();
  sessions_.emplace(peerId, std::move(s));
}

void Reactor::keepLocked(Session& s, uint32_t channel, ENetPacket* packet) {
  s.keep(channel, packet);
  sessionBytes_ += packet->dataLength;
  if (s.bytes() > s.limit() && !s.overflowReported) {
    s.overflowReported = true;
    uint8_t rec[records::IN_SESSION_HEADER_BYTES];
    records::writeSessionHeader(rec, IN_SESSION_OVERFLOW, 0, s.host, s.slot, s.peerId());
    emitControl(SUPERVISOR_RING, s.host, rec, sizeof rec);
  }
}

void Reactor::freeSessionLocked(Session* s) {
  if (s->attached) {
    Host* h = findHost(s->host);
    if (h != nullptr && h->session[s->slot] == s) h->session[s->slot] = nullptr;
  }
  sessionBytes_ -= s->bytes();
  sessions_.erase(s->peerId());  // releases its packets
}

void Reactor::detachSessionLocked(Host& h, uint32_t slot, Session& s) {
  s.attached = false;
  s.route = h.route[slot] & ~ROUTE_HELD;  // held for k: the supervisor is completing the route to k
  h.session[slot] = nullptr;
}

void Reactor::freeHostSessionsLocked(uint32_t hostId) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->host == hostId) {
      sessionBytes_ -= it->second->bytes();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What the peer sends: counts, and its acks

void Reactor::countReceivedLocked(Session& s, uint32_t channel) {
  // A connection that came to resume is not numbered by the client (its `_resume` is left out): no
  // counts, no acks, which would trim the client's outbox in the numbering of the session it resumes.
  if (s.resumeOnly) return;
  s.countReceived(channel);
  if (!s.ackQueued) {
    s.ackQueued = true;
    ackQueue_.push_back(s.peerId());
  }
}

void Reactor::sessionControlLocked(Session& s, const uint8_t* data, size_t length) {
  // SESSION_CONTROL, u8 op; SESSION_OP_ACK: u8 count, count x u32.
  if (length < 3 || data[1] != SESSION_OP_ACK || length < 3 + 4 * size_t{data[2]}) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t n = std::min<uint32_t>(data[2], s.channels());
  const uint64_t before = s.bytes();
  for (uint32_t c = 0; c < n; ++c) s.trim(c, records::rd32(data + 3 + 4 * c));
  sessionBytes_ -= before - s.bytes();
}

void Reactor::sendAcksLocked(uint64_t now) {
  if (ackQueue_.empty()) return;
  Host* flushed[4] = {};  // hosts to flush (a server reactor has one)
  size_t flushedCount = 0;
  size_t kept = 0;
  for (const uint32_t id : ackQueue_) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    Session& s = *it->second;
    if (!s.ackQueued) continue;  // a duplicate entry already handled
    if (!s.attached || !s.countsChanged()) {  // a resume carries the counts itself
      s.ackQueued = false;
      continue;
    }
    if (now - s.lastAckMs < ACK_INTERVAL_MS) {
      ackQueue_[kept++] = id;
      continue;
    }
    s.ackQueued = false;
    s.lastAckMs = now;
    Host* h = findHost(s.host);
    ENetPeer* peer = &h->enet->peers[s.slot];
    if (peer->state != ENET_PEER_STATE_CONNECTED) continue;  // its disconnect is on the way
    uint8_t ack[3 + 4 * ENET_MAX_CHANNELS];
    s.writeAck(ack);
    ENetPacket* packet = enet_packet_create(ack, Session::ackBytes(s.channels()), ENET_PACKET_FLAG_UNSEQUENCED);
    if (packet == nullptr) {
      counters_[C_SEND_FAILURES] += 1;
      continue;
    }
    if (enet_peer_send(peer, 0, packet) != 0) counters_[C_SEND_FAILURES] += 1;
    if (packet->referenceCount == 0) enet_packet_destroy(packet);
    bool listed = false;
    for (size_t i = 0; i < flushedCount; ++i) listed = listed || flushed[i] == h;
    if (!listed && flushedCount < 4) {
      flushed[flushedCount++] = h;
    } else if (!listed) {
      markDirty(*h);  // sent by its next service
    }
  }
  ackQueue_.resize(kept);
  for (size_t i = 0; i < flushedCount; ++i) {
    enet_host_flush(flushed[i]->enet);
    accountWireLocked(*flushed[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// End, export, resume

void Reactor::emitToSessionRingLocked(const Session& s, const uint8_t* rec, uint32_t len) {
  auto held = holds_.find(holdKey(s.host, s.peerId()));
  if (held != holds_.end()) {  // its route is still being completed: after what is held
    held->second.records.emplace_back(rec, rec + len);
    return;
  }
  emitControl(s.route < inbound_.size() ? s.route : SUPERVISOR_RING, s.host, rec, len);
}

void Reactor::outSessionEndLocked(const records::Record& r) {
  const uint32_t peerId = r.header.peerId;
  std::unique_ptr<Session> parked;
  Session* s = nullptr;
  auto it = sessions_.find(peerId);
  if (it != sessions_.end()) {
    s = it->second.get();
  } else {
    Host* h = findHost(r.header.host);
    parked = h ? unparkSession(parkingGroup(*h), peerId) : nullptr;  // exported, and its resume never came
    if (!parked) {
      counters_[C_DROPPED_STALE] += 1;
      return;
    }
    s = parked.get();
    s->host = r.header.host;
    s->slot = r.header.slot;
  }
  if (!s->attached) {
    // Its connection broke earlier (IN_DROPPED): now it is gone for good.
    uint8_t rec[records::IN_DISCONNECT_BYTES];
    records::writeDisconnect(rec, s->host, s->slot, peerId, 0, CAUSE_REMOTE);
    emitToSessionRingLocked(*s, rec, sizeof rec);
    counters_[C_DISCONNECTS] += 1;
  }
  if (!parked) freeSessionLocked(s);
}

void Reactor::outSessionExportLocked(const records::Record& r) {
  const uint32_t peerId = r.header.peerId;
  uint8_t rec[records::IN_SESSION_HEADER_BYTES];
  auto it = sessions_.find(peerId);
  if (it == sessions_.end()) {
    // Already parked (exported twice): ready for its resume all the same.
    Host* h = findHost(r.header.host);
    const uint16_t flags = h && isSessionParked(parkingGroup(*h), peerId) ? 0 : FLAG_GONE;
    records::writeSessionHeader(rec, IN_SESSION_EXPORTED, flags, r.header.host, r.header.slot, peerId);
    emitControl(SUPERVISOR_RING, r.header.host, rec, sizeof rec);
    return;
  }
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  sessionBytes_ -= s->bytes();
  if (s->attached) {
    // The old connection goes at once, without an event: the session moves to the new one.
    Host* h = findHost(s->host);
    const uint32_t slot = s->slot;
    s->route = h->route[slot] & ~ROUTE_HELD;
    enet_peer_reset(&h->enet->peers[slot]);
    h->session[slot] = nullptr;
    forgetSlot(*h, slot);
    s->attached = false;
  }
  s->ackQueued = false;
  // Its packets may be shared with this reactor's peers (OUT_SEND_MULTI): copies of its own.
  if (!s->makeExclusive()) counters_[C_SEND_FAILURES] += 1;
  records::writeSessionHeader(rec, IN_SESSION_EXPORTED, 0, s->host, s->slot, peerId);
  const uint32_t host = s->host;
  parkSession(std::move(s));
  emitControl(SUPERVISOR_RING, host, rec, sizeof rec);
}

void Reactor::outSessionResumeLocked(uint32_t index, Host* h, const records::Record& r) {
  records::SessionResume body;
  if (!records::readSessionResume(r, &body) || body.sessionPeerId == 0) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t slot = r.header.slot;
  const uint32_t temporaryPeerId = r.header.peerId;
  const uint32_t peerId = body.sessionPeerId;
  std::unique_ptr<Session> parked = unparkSession(parkingGroup(*h), peerId);
  if (!parked) {
    std::vector<uint8_t> rec(records::sessionResumedBytes(0));
    records::writeSessionResumed(rec.data(), FLAG_GONE, index, slot, peerId, temporaryPeerId, nullptr, 0);
    emitControl(SUPERVISOR_RING, index, rec.data(), static_cast<uint32_t>(rec.size()));
    return;
  }
  Session& s = *parked;
  ENetPeer* peer = livePeer(h, slot, temporaryPeerId);
  if (peer == nullptr) {
    // The new connection went before its resume: the session stays here, detached, as after a
    // drop (IN_DROPPED where its records go); a later connection may resume it.
    s.host = index;
    s.slot = slot;
    adoptSessionLocked(std::move(parked));
    uint8_t rec[records::IN_DISCONNECT_BYTES];
    records::writeDisconnect(rec, index, slot, peerId, 0, CAUSE_REMOTE, std::string(), IN_DROPPED);
    emitToSessionRingLocked(s, rec, sizeof rec);
    return;
  }
  // The new connection's own session (it connected with RESUME_MAGIC) has nothing to keep.
  if (Session* own = h->session[slot]) freeSessionLocked(own);
  // The slot is the session's peer's now.
  h->peerId[slot] = peerId;
  h->reason[slot].clear();
  h->processed[slot] = 0;
  const uint32_t ring = s.route < inbound_.size() ? s.route : SUPERVISOR_RING;
  h->route[slot] = ring == SUPERVISOR_RING                       ? SUPERVISOR_RING
                   : holds_.count(holdKey(index, peerId)) != 0 ? (ring | ROUTE_HELD)
                                                                 : ring;
  s.attached = true;
  s.host = index;
  s.slot = slot;
  s.overflowReported = false;
  h->session[slot] = &s;
  adoptSessionLocked(std::move(parked));
  // What the client's counts say arrived goes; the rest is queued again, in order, per channel.
  const uint64_t before = s.bytes();
  const uint32_t counted = std::min(body.count, s.channels());
  for (uint32_t c = 0; c < counted; ++c) s.trim(c, body.countAt(c));
  for (uint32_t c = 0; c < s.channels(); ++c) {
    if (c >= peer->channelCount) {  // the new connection has fewer channels
      counters_[C_SEND_FAILURES] += s.dropChannel(c);
      continue;
    }
    for (const Session::Kept& k : s.outbox(c)) {
      if (peer->state == ENET_PEER_STATE_CONNECTED && enet_peer_send(peer, static_cast<uint8_t>(c), k.packet) == 0) {
        counters_[C_SESSION_RESENDS] += 1;
      } else {
        counters_[C_SEND_FAILURES] += 1;  // kept: its drop (if that is what comes) keeps it for later
      }
    }
  }
  sessionBytes_ -= before - s.bytes();
  markDirty(*h);
  writeStatsRow(*h, slot);
  std::vector<uint8_t> rec(records::sessionResumedBytes(s.channels()));
  records::writeSessionResumed(rec.data(), 0, index, slot, peerId, temporaryPeerId, s.received(), s.channels());
  emitControl(SUPERVISOR_RING, index, rec.data(), static_cast<uint32_t>(rec.size()));
  if (ring != SUPERVISOR_RING) {
    uint8_t resumed[records::IN_SESSION_HEADER_BYTES];
    records::writeSessionHeader(resumed, IN_RESUMED, 0, index, slot, peerId);
    emitRouted(index, *h, slot, resumed, sizeof resumed);
  }
}

}  // namespace enet_actor
