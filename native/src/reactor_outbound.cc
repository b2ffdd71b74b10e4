// Outbound dispatch, under the reactor's mutex on the thread draining the outbound rings (the net
// actor's pass, or a producer's flushOutbound): one record at a time, to ENet (send, send to many,
// disconnect, connect, compression, host destruction) or to the routing and guard handlers.
#include "reactor.h"

#include "compress.h"
#include "records.h"

namespace enet_actor {

void Reactor::handleOutboundLocked(const uint8_t* rec, uint32_t len) {
  if (len < REC_HEADER_BYTES) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t index = rd32(rec + REC_HOST);
  Host* h = findHost(index);
  if (h != nullptr) markDirty(*h);
  switch (rec[REC_KIND]) {
    case OUT_SEND:
      outSendLocked(h, rec, len);
      return;
    case OUT_SEND_MULTI:
      outSendMultiLocked(h, rec, len);
      return;
    case OUT_DISCONNECT:
      outDisconnectLocked(index, h, rec, len);
      return;
    case OUT_CONNECT:
      outConnectLocked(index, h, rec, len);
      return;
    case OUT_SET_COMPRESSION: {
      if (len < REC_HEADER_BYTES + 4) {
        counters_[C_MALFORMED] += 1;
        return;
      }
      if (h == nullptr) {
        counters_[C_DROPPED_STALE] += 1;
        return;
      }
      const uint32_t mode = rd32(rec + REC_HEADER_BYTES);
      if (!compress::isKnownMode(mode)) {
        counters_[C_MALFORMED] += 1;  // JS refuses unknown modes first
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
      outRouteLocked(index, h, rec, len);
      return;
    case OUT_ROUTE_DONE:
      outRouteDoneLocked(index, rec);
      return;
    case OUT_FORWARD:
      outForwardLocked(index, rec, len);
      return;
    case OUT_RELAY:
      outRelayLocked(rec, len);
      return;
    case OUT_BAN:
      outBanLocked(h, rec, len);
      return;
    default:
      counters_[C_MALFORMED] += 1;
      return;
  }
}

void Reactor::outSendLocked(Host* h, const uint8_t* rec, uint32_t len) {
  ENetPeer* peer = livePeer(h, rd32(rec + REC_SLOT), rd32(rec + REC_PEER_ID));
  if (peer == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const uint32_t bodyLen = len - REC_HEADER_BYTES;
  h->processed[rd32(rec + REC_SLOT)] += bodyLen;  // what producers submitted, as JS counts it (queue-budget.ts)
  const uint32_t pflags = (rd16(rec + REC_FLAGS) & FLAG_RELIABLE) ? ENET_PACKET_FLAG_RELIABLE
                                                                   : ENET_PACKET_FLAG_UNSEQUENCED;
  ENetPacket* packet = enet_packet_create(rec + REC_HEADER_BYTES, bodyLen, pflags);
  if (packet == nullptr) {
    counters_[C_SEND_FAILURES] += 1;
    return;
  }
  if (enet_peer_send(peer, rec[REC_CHANNEL], packet) == 0) {
    counters_[C_PACKETS_OUT] += 1;
    counters_[C_BYTES_OUT] += bodyLen;
  } else {
    counters_[C_SEND_FAILURES] += 1;
  }
  if (packet->referenceCount == 0) enet_packet_destroy(packet);
}

void Reactor::outSendMultiLocked(Host* h, const uint8_t* rec, uint32_t len) {
  const uint32_t bodyLen = len - REC_HEADER_BYTES;
  const uint8_t* body = rec + REC_HEADER_BYTES;
  if (bodyLen < 4) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t count = rd32(body);
  if (count > (bodyLen - 4) / 8) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  if (h == nullptr) {
    counters_[C_DROPPED_STALE] += count > 0 ? count : 1;
    return;
  }
  const uint8_t* targets = body + 4;
  const uint8_t* data = targets + 8 * count;
  const uint32_t dataLen = bodyLen - 4 - 8 * count;
  const uint32_t pflags = (rd16(rec + REC_FLAGS) & FLAG_RELIABLE) ? ENET_PACKET_FLAG_RELIABLE
                                                                   : ENET_PACKET_FLAG_UNSEQUENCED;
  const uint8_t channel = rec[REC_CHANNEL];
  ENetPacket* packet = nullptr;  // created once, for the first live target
  for (uint32_t i = 0; i < count; ++i) {
    ENetPeer* peer = livePeer(h, rd32(targets + 8 * i), rd32(targets + 8 * i + 4));
    if (peer == nullptr) {
      counters_[C_DROPPED_STALE] += 1;
      continue;
    }
    h->processed[rd32(targets + 8 * i)] += dataLen;
    if (packet == nullptr) {
      packet = enet_packet_create(data, dataLen, pflags);
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

void Reactor::outDisconnectLocked(uint32_t index, Host* h, const uint8_t* rec, uint32_t len) {
  const uint16_t mode = rd16(rec + REC_FLAGS);
  if (mode > DISCONNECT_RESET) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t slot = rd32(rec + REC_SLOT);
  ENetPeer* peer = livePeer(h, slot, rd32(rec + REC_PEER_ID));
  if (peer == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const uint32_t data = len >= REC_HEADER_BYTES + 4 ? rd32(rec + REC_HEADER_BYTES) : 0;
  if (len > REC_HEADER_BYTES + 4) {
    h->reason[slot].assign(reinterpret_cast<const char*>(rec + REC_HEADER_BYTES + 4), len - REC_HEADER_BYTES - 4);
  }
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
                   remoteFirst ? CAUSE_REMOTE : CAUSE_REQUESTED);
  } else if (!remoteFirst) {
    h->slotFlags[slot] |= SLOT_REQUESTED;
  }
}

void Reactor::outConnectLocked(uint32_t index, Host* h, const uint8_t* rec, uint32_t len) {
  if (len < REC_HEADER_BYTES + OUT_CONNECT_BODY || rd32(rec + REC_PEER_ID) == 0) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t peerId = rd32(rec + REC_PEER_ID);
  const uint32_t recSlot = rd32(rec + REC_SLOT);
  const uint8_t* b = rec + REC_HEADER_BYTES;
  const uint32_t data = rd32(b + 8);
  auto fail = [&]() {
    uint8_t out[REC_HEADER_BYTES + IN_DISCONNECT_BODY];
    writeHeader(out, IN_DISCONNECT, 0, 0, index, recSlot, peerId);
    wr32(out + REC_HEADER_BYTES, data);
    wr32(out + REC_HEADER_BYTES + 4, CAUSE_CONNECT_FAILED);
    emitControl(SUPERVISOR_RING, index, out, sizeof out);
    counters_[C_DISCONNECTS] += 1;
  };
  if (h == nullptr) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  if (h->server) {  // OUT_CONNECT is for client hosts
    counters_[C_MALFORMED] += 1;
    fail();
    return;
  }
  ENetAddress addr;
  std::memcpy(&addr.host, b, 4);
  addr.port = rd16(b + 4);
  size_t channels = rd16(b + 6);
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
