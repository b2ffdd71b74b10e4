// The defences of one server host against hostile networks (docs/protocol.md "The guard"): checks that
// must cost nanoseconds per datagram, so they run in native code before ENet or JS see anything.
//  - CONNECT datagrams (header peer id 0xFFF; docs/enet-facts.md "Handshakes and peer slots"):
//    refused from banned addresses, past a per-address token bucket, past a cap on handshakes in
//    progress (in total and per address);
//  - handshakes that do not complete within handshakeTimeoutMs are reset (no more VERIFY_CONNECT
//    retransmissions to a forged address);
//  - datagrams and packets of a connected peer: token buckets (packets/s, bytes/s); a peer over its
//    limit for disconnectAfterMs, or that sends a packet over maxPacketSize, is reported for a kick.
// Runs under the reactor's mutex; owns no ENet resource.
#pragma once

#include <enet/enet.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace enet_actor {

struct GuardOptions {
  uint32_t maxPeersPerAddress = 32;   // peers (connected or connecting) from one address
  uint32_t maxPendingConnects = 64;   // handshakes in progress, every address
  uint32_t maxPendingPerAddress = 4;  // handshakes in progress from one address
  uint32_t handshakeTimeoutMs = 3000;
  double connectPerSecond = 10;       // CONNECT datagrams per address; 0 = no limit
  double connectBurst = 20;
  double packetsPerSecond = 2000;     // per peer; 0 = no limit
  double bytesPerSecond = 4 * 1024 * 1024;
  double burstSeconds = 2;            // the buckets hold this many seconds of their rate
  uint32_t disconnectAfterMs = 5000;  // over the limit this long: kicked
  // Addresses (as ENet stores address.host) the per-address CONNECT checks do not apply to.
  std::vector<uint32_t> trusted;
};

// Why a peer should be kicked (IN_KICK_REQUEST's cause).
enum class KickCause : uint32_t { PACKET_TOO_LARGE = 1, RATE_LIMIT = 2 };

struct GuardCounters {
  double refusedRate = 0;
  double refusedPending = 0;
  double refusedPerAddress = 0;
  double refusedBanned = 0;
  double refusedPeersPerAddress = 0;
  double refusedFull = 0;  // no free peer slot: ENet would have ignored it
  double rateLimited = 0;  // datagrams and packets dropped by the per-peer buckets
};

class Guard {
 public:
  Guard(const GuardOptions& options, ENetHost* host, uint32_t maxPacketSize);

  // ENet's intercept, for every datagram the host receives: true = drop it (docs/enet-facts.md
  // "Intercept callback").
  bool onDatagram(ENetHost* host, uint64_t nowMs);
  // A packet ENet delivered from slot `slot` (a connected peer): true = drop it.
  bool onPacket(uint32_t slot, size_t length, uint64_t nowMs);
  // Every stats pass: handshake timeouts and the pending counts.
  void sweep(ENetHost* host, uint64_t nowMs);
  void ban(uint32_t address, uint32_t durationMs, uint64_t nowMs);
  // A slot was (re)assigned or freed: its buckets start full and its flags clear.
  void resetSlot(uint32_t slot, uint64_t nowMs);

  // Kicks asked for since the last call (slot, cause).
  std::vector<std::pair<uint32_t, KickCause>> takeKicks();

  const GuardCounters& counters() const { return counters_; }
  uint32_t pendingConnects() const { return pending_; }
  uint32_t bannedAddresses(uint64_t nowMs);

 private:
  struct Bucket {
    double tokens = 0;
    uint64_t atMs = 0;
    bool take(double amount, double rate, double capacity, uint64_t nowMs);
  };
  struct Slot {
    Bucket datagrams;
    Bucket packets;
    Bucket bytes;
    uint64_t overSinceMs = 0;  // 0: within its limits
    uint64_t lastOverMs = 0;
    uint64_t handshakeSinceMs = 0;
    bool kickAsked = false;
  };
  bool oversize(ENetHost* host) const;
  bool trusted(uint32_t address) const;
  void overLimit(uint32_t slot, uint64_t nowMs);

  GuardOptions o_;
  uint32_t maxPacketSize_;
  std::vector<Slot> slots_;
  std::unordered_map<uint32_t, Bucket> connectBuckets_;  // by address
  std::unordered_map<uint32_t, uint32_t> pendingBy_;     // handshakes in progress by address
  std::unordered_map<uint32_t, uint32_t> peersBy_;       // peers (any state but disconnected) by address
  std::unordered_map<uint32_t, uint64_t> bans_;          // address -> until (ms)
  uint32_t pending_ = 0;
  uint32_t freeSlots_ = 0;  // disconnected slots at the last sweep, less the CONNECTs let through since
  uint64_t lastBucketSweepMs_ = 0;
  std::vector<std::pair<uint32_t, KickCause>> kicks_;
  GuardCounters counters_;
};

}  // namespace enet_actor
