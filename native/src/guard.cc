#include "guard.h"

#include <cstring>

namespace enet_actor {

namespace {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Offsets inside ENet's protocol commands (protocol.h, all big-endian).
constexpr size_t RELIABLE_LENGTH = 4;    // ENetProtocolSendReliable.dataLength
constexpr size_t UNRELIABLE_LENGTH = 6;  // ENetProtocolSendUnreliable / SendUnsequenced .dataLength
constexpr size_t FRAGMENT_LENGTH = 6;    // ENetProtocolSendFragment.dataLength
constexpr size_t FRAGMENT_TOTAL = 16;    // ENetProtocolSendFragment.totalLength

// Connect buckets and bans are forgotten when idle; past this many addresses (a spoofed flood from
// everywhere, which needs the network in front) the table starts over rather than grow.
constexpr size_t MAX_TRACKED_ADDRESSES = 65536;
constexpr uint64_t SWEEP_TABLES_MS = 1000;

bool handshaking(ENetPeerState state) {
  return state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT || state == ENET_PEER_STATE_CONNECTION_PENDING ||
         state == ENET_PEER_STATE_CONNECTION_SUCCEEDED;
}

}  // namespace

bool Guard::Bucket::take(double amount, double rate, double capacity, uint64_t nowMs) {
  if (nowMs > atMs) {
    tokens += static_cast<double>(nowMs - atMs) * rate / 1000.0;
    if (tokens > capacity) tokens = capacity;
    atMs = nowMs;
  }
  if (tokens < amount) return false;
  tokens -= amount;
  return true;
}

Guard::Guard(const GuardOptions& options, ENetHost* host, uint32_t maxPacketSize)
    : o_(options), maxPacketSize_(maxPacketSize), slots_(host->peerCount), freeSlots_(static_cast<uint32_t>(host->peerCount)) {}

void Guard::resetSlot(uint32_t slot, uint64_t nowMs) {
  if (slot >= slots_.size()) return;
  Slot& s = slots_[slot];
  const double seconds = o_.burstSeconds > 0 ? o_.burstSeconds : 1;
  s.datagrams = Bucket{o_.packetsPerSecond * seconds, nowMs};
  s.packets = Bucket{o_.packetsPerSecond * seconds, nowMs};
  s.bytes = Bucket{o_.bytesPerSecond * seconds, nowMs};
  s.overSinceMs = 0;
  s.lastOverMs = 0;
  s.kickAsked = false;
}

bool Guard::onDatagram(ENetHost* host, uint64_t nowMs) {
  const uint8_t* data = host->receivedData;
  if (data == nullptr || host->receivedDataLength < 2) return false;  // ENet drops it
  const uint16_t peerId = be16(data) & ~(ENET_PROTOCOL_HEADER_FLAG_MASK | ENET_PROTOCOL_HEADER_SESSION_MASK);
  if (peerId == ENET_PROTOCOL_MAXIMUM_PEER_ID) {
    // No peer yet: only a CONNECT does anything. ENet would give it a slot and answer at once.
    const uint32_t address = host->receivedAddress.host;
    if (freeSlots_ == 0) {
      counters_.refusedFull += 1;
      return true;
    }
    if (trusted(address)) {
      --freeSlots_;
      return false;
    }
    if (!bans_.empty()) {
      auto ban = bans_.find(address);
      if (ban != bans_.end()) {
        if (nowMs < ban->second) {
          counters_.refusedBanned += 1;
          return true;
        }
        bans_.erase(ban);
      }
    }
    if (o_.connectPerSecond > 0) {
      if (connectBuckets_.size() >= MAX_TRACKED_ADDRESSES) connectBuckets_.clear();
      auto [it, added] = connectBuckets_.try_emplace(address, Bucket{o_.connectBurst, nowMs});
      if (!it->second.take(1, o_.connectPerSecond, o_.connectBurst, nowMs)) {
        counters_.refusedRate += 1;
        return true;
      }
    }
    if (pending_ >= o_.maxPendingConnects) {
      counters_.refusedPending += 1;
      return true;
    }
    uint32_t& peers = peersBy_[address];
    if (peers >= o_.maxPeersPerAddress) {
      counters_.refusedPeersPerAddress += 1;
      return true;
    }
    uint32_t& fromAddress = pendingBy_[address];
    if (fromAddress >= o_.maxPendingPerAddress) {
      counters_.refusedPerAddress += 1;
      return true;
    }
    // Counted until the next sweep recounts the slots (a repeated CONNECT counts again: the safe side).
    ++fromAddress;
    ++peers;
    ++pending_;
    --freeSlots_;
    return false;
  }
  if (peerId >= host->peerCount) return false;
  const ENetPeer& peer = host->peers[peerId];
  if (peer.state != ENET_PEER_STATE_CONNECTED && peer.state != ENET_PEER_STATE_DISCONNECT_LATER) return false;
  if (peer.address.host != host->receivedAddress.host || peer.address.port != host->receivedAddress.port) return false;
  Slot& s = slots_[peerId];
  if (o_.packetsPerSecond > 0) {
    const double capacity = o_.packetsPerSecond * o_.burstSeconds;
    if (!s.datagrams.take(1, o_.packetsPerSecond, capacity, nowMs)) {
      counters_.rateLimited += 1;
      overLimit(peerId, nowMs);
      return true;
    }
  }
  if (oversize(host)) {
    if (!s.kickAsked) {
      s.kickAsked = true;
      kicks_.emplace_back(peerId, KickCause::PACKET_TOO_LARGE);
    }
    return true;  // ENet would refuse the command and stall the peer's channel
  }
  return false;
}

// Does the datagram carry a packet (or a fragment of one) larger than maxPacketSize?
bool Guard::oversize(ENetHost* host) const {
  const uint8_t* data = host->receivedData;
  size_t length = host->receivedDataLength;
  const uint16_t flags = be16(data);
  size_t at = (flags & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) ? 4 : 2;
  if (at > length) return false;
  thread_local uint8_t plain[ENET_PROTOCOL_MAXIMUM_MTU];
  if (flags & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) {
    if (host->compressor.decompress == nullptr || host->compressor.context == nullptr) return false;
    // A packet over maxPacketSize >= one MTU comes in fragments that fill their datagrams: small
    // compressed datagrams need not be looked into (decompressing costs; ENet does it again).
    if (maxPacketSize_ >= ENET_PROTOCOL_MAXIMUM_MTU && length < 256) return false;
    const size_t got = host->compressor.decompress(host->compressor.context, data + at, length - at, plain + at,
                                                   sizeof plain - at);
    if (got == 0) return false;  // ENet will drop it
    std::memcpy(plain, data, at);
    data = plain;
    length = at + got;
  }
  if (host->checksum != nullptr) at += sizeof(enet_uint32);
  while (at + sizeof(ENetProtocolCommandHeader) <= length) {
    const uint8_t command = data[at] & ENET_PROTOCOL_COMMAND_MASK;
    if (command >= ENET_PROTOCOL_COMMAND_COUNT) return false;
    const size_t size = enet_protocol_command_size(command);
    if (size == 0 || at + size > length) return false;
    size_t payload = 0;
    switch (command) {
      case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
        payload = be16(data + at + RELIABLE_LENGTH);
        if (payload > maxPacketSize_) return true;
        break;
      case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE:
      case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED:
        payload = be16(data + at + UNRELIABLE_LENGTH);
        if (payload > maxPacketSize_) return true;
        break;
      case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
      case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT:
        payload = be16(data + at + FRAGMENT_LENGTH);
        if (be32(data + at + FRAGMENT_TOTAL) > maxPacketSize_) return true;
        break;
      default:
        break;
    }
    at += size + payload;
  }
  return false;
}

bool Guard::onPacket(uint32_t slot, size_t length, uint64_t nowMs) {
  if (o_.packetsPerSecond <= 0 || slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  const bool packetOk = s.packets.take(1, o_.packetsPerSecond, o_.packetsPerSecond * o_.burstSeconds, nowMs);
  const bool bytesOk =
      o_.bytesPerSecond <= 0 || s.bytes.take(static_cast<double>(length), o_.bytesPerSecond, o_.bytesPerSecond * o_.burstSeconds, nowMs);
  if (packetOk && bytesOk) return false;
  counters_.rateLimited += 1;
  overLimit(slot, nowMs);
  return true;
}

void Guard::overLimit(uint32_t slot, uint64_t nowMs) {
  Slot& s = slots_[slot];
  // Over the limit "for a sustained period": drops at least once a second since overSinceMs.
  if (s.overSinceMs == 0 || nowMs - s.lastOverMs > 1000) s.overSinceMs = nowMs;
  s.lastOverMs = nowMs;
  if (!s.kickAsked && o_.disconnectAfterMs > 0 && nowMs - s.overSinceMs >= o_.disconnectAfterMs) {
    s.kickAsked = true;
    kicks_.emplace_back(slot, KickCause::RATE_LIMIT);
  }
}

bool Guard::trusted(uint32_t address) const {
  for (const uint32_t t : o_.trusted) {
    if (t == address) return true;
  }
  return false;
}

void Guard::sweep(ENetHost* host, uint64_t nowMs) {
  pending_ = 0;
  freeSlots_ = 0;
  pendingBy_.clear();
  peersBy_.clear();
  const size_t n = slots_.size() < host->peerCount ? slots_.size() : host->peerCount;
  freeSlots_ = static_cast<uint32_t>(slots_.size() - n);  // past the host's peer window: all free (Reactor::fitPeerWindow)
  for (size_t i = 0; i < n; ++i) {
    ENetPeer& peer = host->peers[i];
    Slot& s = slots_[i];
    if (peer.state == ENET_PEER_STATE_DISCONNECTED) ++freeSlots_;
    else ++peersBy_[peer.address.host];
    if (!handshaking(peer.state)) {
      s.handshakeSinceMs = 0;
      continue;
    }
    if (s.handshakeSinceMs == 0) s.handshakeSinceMs = nowMs;
    // Only a handshake still waiting for the client's answer; one that succeeded is about to be an event.
    if (peer.state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && nowMs - s.handshakeSinceMs >= o_.handshakeTimeoutMs) {
      enet_peer_reset(&peer);  // never reported: no event, no more VERIFY_CONNECT
      s.handshakeSinceMs = 0;
      continue;
    }
    ++pending_;
    ++pendingBy_[peer.address.host];
  }
  if (nowMs - lastBucketSweepMs_ >= SWEEP_TABLES_MS) {
    lastBucketSweepMs_ = nowMs;
    const double refillMs = o_.connectPerSecond > 0 ? 1000.0 * o_.connectBurst / o_.connectPerSecond : 0;
    for (auto it = connectBuckets_.begin(); it != connectBuckets_.end();) {
      it = static_cast<double>(nowMs - it->second.atMs) >= refillMs ? connectBuckets_.erase(it) : std::next(it);
    }
    for (auto it = bans_.begin(); it != bans_.end();) it = it->second <= nowMs ? bans_.erase(it) : std::next(it);
  }
}

void Guard::ban(uint32_t address, uint32_t durationMs, uint64_t nowMs) {
  if (bans_.size() >= MAX_TRACKED_ADDRESSES) return;
  uint64_t& until = bans_[address];
  if (nowMs + durationMs > until) until = nowMs + durationMs;
}

uint32_t Guard::bannedAddresses(uint64_t nowMs) {
  uint32_t count = 0;
  for (const auto& ban : bans_) count += ban.second > nowMs ? 1 : 0;
  return count;
}

std::vector<std::pair<uint32_t, KickCause>> Guard::takeKicks() {
  std::vector<std::pair<uint32_t, KickCause>> out;
  out.swap(kicks_);
  return out;
}

}  // namespace enet_actor
