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
    default:
      counters_[C_MALFORMED_RECORDS] += 1;
      return;
  }
}

void Reactor::outSendLocked(Host* h, const records::Record& r) {
  ENetPeer* peer = livePeer(h, r.header.slot, r.header.peerId);
  if (peer == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const uint32_t bodyLen = r.bodyLength;
  h->processed[r.header.slot] += bodyLen;  // what producers submitted, as JS counts it (queue-budget.ts)
  const uint32_t pflags = (r.header.flags & FLAG_RELIABLE) ? ENET_PACKET_FLAG_RELIABLE
                                                           : ENET_PACKET_FLAG_UNSEQUENCED;
  ENetPacket* packet = enet_packet_create(r.body, bodyLen, pflags);
  if (packet == nullptr) {
    counters_[C_SEND_FAILURES] += 1;
    return;
  }
  if (enet_peer_send(peer, r.header.channel, packet) == 0) {
    counters_[C_PACKETS_OUT] += 1;
    counters_[C_BYTES_OUT] += bodyLen;
  } else {
    counters_[C_SEND_FAILURES] += 1;
  }
  // Not taken by ENet (docs/enet-facts.md "Packet ownership and freeing"): ours to free.
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
  const uint32_t pflags = (r.header.flags & FLAG_RELIABLE) ? ENET_PACKET_FLAG_RELIABLE
                                                           : ENET_PACKET_FLAG_UNSEQUENCED;
  const uint8_t channel = r.header.channel;
  ENetPacket* packet = nullptr;  // created once, for the first live target
  for (uint32_t i = 0; i < count; ++i) {
    ENetPeer* peer = livePeer(h, m.slot(i), m.peerId(i));
    if (peer == nullptr) {
      counters_[C_DROPPED_STALE] += 1;
      continue;
    }
    h->processed[m.slot(i)] += dataLen;
    if (packet == nullptr) {
      packet = enet_packet_create(m.data, dataLen, pflags);
      if (packet == nullptr) {
        counters_[C_SEND_FAILURES] += count - i;
        return;
      }
    }
    if (enet_peer_send(peer, channel, packet) == 0) {
      counters_[C_PACKETS_OUT] += 1;
      counters_[C_BYTES_OUT] += dataLen;
    } else {
      counters_[C_SEND_FAILURES] += 1;
    }
  }
  if (packet != nullptr && packet->referenceCount == 0) enet_packet_destroy(packet);
}

void Reactor::outDisconnectLocked(uint32_t index, Host* h, const records::Record& r) {
  const uint16_t mode = r.header.flags;
  if (mode > DISCONNECT_RESET) {
    counters_[C_MALFORMED_RECORDS] += 1;
    return;
  }
  const uint32_t slot = r.header.slot;
  ENetPeer* peer = livePeer(h, slot, r.header.peerId);
  if (peer == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
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
