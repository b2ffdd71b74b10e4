// Outbound dispatch, under the reactor's mutex on the thread draining the outbound rings (the net
// actor's pass, or a producer's flushOutbound): one record at a time, to ENet (send, send to many,
// disconnect, connect, compression, host destruction) or to the routing and guard handlers.
#include "reactor.h"

#include "compress.h"
#include "records.h"

namespace enet_actor {

void Reactor::handleOutboundLocked(const uint8_t* rec, uint32_t len) {
  if (len < RECORD_HEADER_BYTES) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const records::Record r = records::readRecord(rec, len);
  const uint32_t index = r.header.host;
  Host* h = findHost(index);
  if (h != nullptr) markDirty(*h);
  switch (r.header.kind) {
    case OUT_SEND:
      outSendLocked(h, r);
      return;
    case OUT_SEND_MULTI:
      outSendMultiLocked(h, r);
      return;
    case OUT_DISCONNECT:
      outDisconnectLocked(index, h, r);
      return;
    case OUT_CONNECT:
      outConnectLocked(index, h, r);
      return;
    case OUT_SET_COMPRESSION: {
      uint32_t mode;
      if (!records::readSetCompression(r, &mode)) {
        counters_[C_MALFORMED_RECORDS] += 1;
        return;
      }
      if (h == nullptr) {
        counters_[C_DROPPED_STALE] += 1;
        return;
      }
      if (!compress::isKnownMode(mode)) {
        counters_[C_MALFORMED_RECORDS] += 1;  // JS refuses unknown modes first
        return;
      }
      // Out of memory: the host keeps its previous compressor.
      if (!compress::applyCompression(h->enet, mode)) counters_[C_SEND_FAILURES] += 1;
      return;
    }
    case OUT_DESTROY_HOST:
      if (h == nullptr) {
        counters_[C_DROPPED_STALE] += 1;
        return;
      }
      destroyHostLocked(h);
      return;
    case OUT_ROUTE:
      outRouteLocked(index, h, r);
      return;
    case OUT_ROUTE_DONE:
      outRouteDoneLocked(index, r);
      return;
    case OUT_FORWARD:
      outForwardLocked(index, r);
      return;
    case OUT_RELAY:
      outRelayLocked(r);
      return;
    case OUT_BAN:
      outBanLocked(h, r);
      return;
    case OUT_SESSION_END:
      outSessionEndLocked(r);
      return;
    case OUT_SESSION_EXPORT:
      outSessionExportLocked(r);
      return;
    case OUT_SESSION_RESUME:
      outSessionResumeLocked(index, h, r);
      return;
    case OUT_SET_TIMEOUT:
      outSetTimeoutLocked(h, r);
      return;
    default:
      counters_[C_MALFORMED_RECORDS] += 1;
      return;
  }
}

void Reactor::outSendLocked(Host* h, const records::Record& r) {
  const Target t = targetLocked(h, r.header.slot, r.header.peerId);
  if (!t.found()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const bool reliable = (r.header.flags & FLAG_RELIABLE) != 0;
  const bool counted = (r.header.flags & FLAG_UNCOUNTED) == 0;
  if (t.peer == nullptr && !(reliable && counted)) return;  // a detached session keeps only those
  const uint32_t bodyLen = r.bodyLength;
  // What producers submitted, as JS counts it (queue-budget.ts).
  if (t.peer != nullptr) t.host->processed[t.slot] += bodyLen;
  const uint32_t pflags = reliable ? ENET_PACKET_FLAG_RELIABLE : ENET_PACKET_FLAG_UNSEQUENCED;
  ENetPacket* packet = enet_packet_create(r.body, bodyLen, pflags);
  if (packet == nullptr) {
    counters_[C_SEND_FAILURES] += 1;
    return;
  }
  queueLocked(t, r.header.channel, packet, counted);
  // Taken by neither ENet nor an outbox (docs/enet-facts.md "Packet ownership and freeing"): ours to free.
  if (packet->referenceCount == 0) enet_packet_destroy(packet);
}

void Reactor::outSendMultiLocked(Host* h, const records::Record& r) {
  records::SendMulti m;
  if (!records::readSendMulti(r, &m)) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t count = m.count;
  if (h == nullptr) {
    counters_[C_DROPPED_STALE] += count > 0 ? count : 1;
    return;
  }
  const uint32_t dataLen = m.dataLength;
  const bool reliable = (r.header.flags & FLAG_RELIABLE) != 0;
  const bool counted = (r.header.flags & FLAG_UNCOUNTED) == 0;
  const uint32_t pflags = reliable ? ENET_PACKET_FLAG_RELIABLE : ENET_PACKET_FLAG_UNSEQUENCED;
  const uint8_t channel = r.header.channel;
  ENetPacket* packet = nullptr;  // created once, for the first live target
  for (uint32_t i = 0; i < count; ++i) {
    const Target t = targetLocked(h, m.slot(i), m.peerId(i));
    if (!t.found()) {
      counters_[C_DROPPED_STALE] += 1;
      continue;
    }
    if (t.peer == nullptr && !(reliable && counted)) continue;  // a detached session keeps only those
    if (t.peer != nullptr) t.host->processed[t.slot] += dataLen;
    if (packet == nullptr) {
      packet = enet_packet_create(m.data, dataLen, pflags);
      if (packet == nullptr) {
        counters_[C_SEND_FAILURES] += count - i;
        return;
      }
    }
    queueLocked(t, channel, packet, counted);  // one outbox reference per target with a session
  }
  if (packet != nullptr && packet->referenceCount == 0) enet_packet_destroy(packet);
}

void Reactor::outDisconnectLocked(uint32_t index, Host* h, const records::Record& r) {
  const uint16_t mode = r.header.flags;
  if (mode > DISCONNECT_RESET) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  // A peer resumed into another slot is found there; a detached session ends by OUT_SESSION_END.
  const Target t = targetLocked(h, r.header.slot, r.header.peerId);
  ENetPeer* peer = t.peer;
  if (peer == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  h = t.host;
  index = h->id;
  const uint32_t slot = t.slot;
  const records::Disconnect d = records::readDisconnect(r);
  const uint32_t data = d.data;
  if (d.reason != nullptr) h->reason[slot].assign(d.reason, d.reasonLength);
  const ENetPeerState prior = peer->state;
  const uint32_t priorData = peer->eventData;
  // The remote already closed (its DISCONNECT event is pending): that is what gets reported.
  const bool remoteFirst =
      prior == ENET_PEER_STATE_ZOMBIE || prior == ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT;
  switch (mode) {
    case DISCONNECT_LATER:
      enet_peer_disconnect_later(peer, data);
      break;
    case DISCONNECT_NOW:
      enet_peer_disconnect_now(peer, data);
      break;
    default:
      enet_peer_reset(peer);
      break;
  }
  if (peer->state == ENET_PEER_STATE_DISCONNECTED) {
    // ENet reset the peer without an event (disconnect_now, reset, or any disconnect of a peer
    // that was not connected yet): report it ourselves.
    emitDisconnect(index, *h, slot, remoteFirst ? priorData : data,
                   remoteFirst ? CAUSE_REMOTE : CAUSE_LOCAL);
  } else if (!remoteFirst) {
    h->slotFlags[slot] |= SLOT_REQUESTED;
  }
}

void Reactor::outSetTimeoutLocked(Host* h, const records::Record& r) {
  records::SetTimeout st;
  if (!records::readSetTimeout(r, &st)) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  if (h != nullptr && !h->server) {
    // A client host has one peer, and its CONNECT event (still to come while connecting, or before
    // the OUT_CONNECT of a name being resolved) applies the host's timeout: it becomes this one.
    h->timeoutLimit = st.limit;
    h->timeoutMinimumMs = st.minimumMs;
    h->timeoutMaximumMs = st.maximumMs;
  }
  // A peer resumed into another slot is found there; a detached session has no connection to set.
  const Target t = targetLocked(h, r.header.slot, r.header.peerId);
  if (t.peer == nullptr) {
    if (h == nullptr || h->server) counters_[C_DROPPED_STALE] += 1;
    return;
  }
  // docs/enet-facts.md "Retransmission, pings and timeouts": from ENet's next timeout check on.
  enet_peer_timeout(t.peer, st.limit, st.minimumMs, st.maximumMs);
}

void Reactor::outConnectLocked(uint32_t index, Host* h, const records::Record& r) {
  records::Connect c;
  if (!records::readConnect(r, &c) || r.header.peerId == 0) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t peerId = r.header.peerId;
  const uint32_t data = c.data;
  auto fail = [&]() {
    uint8_t out[records::IN_DISCONNECT_BYTES];
    records::writeDisconnect(out, index, r.header.slot, peerId, data, CAUSE_CONNECT_FAILED);
    emitControl(SUPERVISOR_RING, index, out, sizeof out);
    counters_[C_DISCONNECTS] += 1;
  };
  if (h == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  if (h->server) {  // OUT_CONNECT is for client hosts
    counters_[C_MALFORMED_RECORDS] += 1;
    fail();
    return;
  }
  ENetAddress addr;
  addr.host = c.ipv4;
  addr.port = c.port;
  size_t channels = c.channels;
  if (channels == 0) channels = h->enet->channelLimit;
  ENetPeer* peer = enet_host_connect(h->enet, &addr, channels, data);
  if (peer == nullptr) {
    fail();
    return;
  }
  const uint32_t slot = static_cast<uint32_t>(peer - h->enet->peers);
  assignSlot(*h, slot, peerId);
  h->slotFlags[slot] = 0;
  writeStatsRow(*h, slot);
}

}  // namespace enet_actor
