// A session of docs/protocol.md "Sessions": the numbering, received counts and outbox of one
// session-aware peer, owned by one reactor (under its mutex) or by the process-wide parking map
// (registry.cc) between an OUT_SESSION_EXPORT and its OUT_SESSION_RESUME. It owns one reference on
// every ENetPacket in its outbox and releases them all when it goes (trim, end, destruction of its
// host or reactor): docs/enet-facts.md "Packet ownership and freeing".
#pragma once

#include <enet/enet.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "protocol.h"

namespace enet_actor {

// Gives back one reference the caller holds on an ENet packet.
inline void releasePacket(ENetPacket* packet) {
  if (--packet->referenceCount == 0) enet_packet_destroy(packet);
}

class Session {
 public:
  struct Kept {
    uint32_t seq;
    ENetPacket* packet;  // one reference is ours
  };

  Session(uint32_t peerId, uint32_t channels, uint64_t limit)
      : peerId_(peerId), limit_(limit), outbox_(channels), next_(channels, 0), received_(channels, 0) {}
  ~Session() { clear(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint32_t peerId() const { return peerId_; }
  uint32_t channels() const { return static_cast<uint32_t>(outbox_.size()); }
  uint64_t bytes() const { return bytes_; }
  uint64_t limit() const { return limit_; }
  const uint32_t* received() const { return received_.data(); }
  const std::deque<Kept>& outbox(uint32_t channel) const { return outbox_[channel]; }

  // Numbers a reliable packet queued (or to be queued) on `channel` (< channels()) and keeps a
  // reference on it until the other side's counts say it arrived.
  uint32_t keep(uint32_t channel, ENetPacket* packet) {
    ++packet->referenceCount;
    const uint32_t seq = ++next_[channel];
    outbox_[channel].push_back(Kept{seq, packet});
    bytes_ += packet->dataLength;
    return seq;
  }

  // Drops the packets of `channel` numbered up to `count` (the other side received that many).
  void trim(uint32_t channel, uint32_t count) {
    if (static_cast<int32_t>(count - next_[channel]) > 0) count = next_[channel];  // more than we sent
    std::deque<Kept>& q = outbox_[channel];
    while (!q.empty() && static_cast<int32_t>(q.front().seq - count) <= 0) {
      bytes_ -= q.front().packet->dataLength;
      releasePacket(q.front().packet);
      q.pop_front();
    }
  }

  // Drops every packet of `channel`; returns how many.
  uint32_t dropChannel(uint32_t channel) {
    const uint32_t n = static_cast<uint32_t>(outbox_[channel].size());
    trim(channel, next_[channel]);
    return n;
  }

  // A reliable packet arrived on `channel`. Returns true the first time since the last ack.
  bool countReceived(uint32_t channel) {
    if (channel >= received_.size()) return false;
    ++received_[channel];
    const bool first = !countsChanged_;
    countsChanged_ = true;
    return first;
  }
  bool countsChanged() const { return countsChanged_; }
  // The ack packet (SESSION_CONTROL, SESSION_OP_ACK, u8 count, count x u32): its length.
  static uint32_t ackBytes(uint32_t channels) { return 3 + 4 * channels; }
  void writeAck(uint8_t* out) {
    out[0] = static_cast<uint8_t>(proto::SESSION_CONTROL);
    out[1] = static_cast<uint8_t>(proto::SESSION_OP_ACK);
    out[2] = static_cast<uint8_t>(received_.size());
    std::memcpy(out + 3, received_.data(), 4 * received_.size());  // little-endian (protocol.h)
    countsChanged_ = false;
  }

  // Before the session leaves its reactor: a packet also queued elsewhere in the reactor (to other
  // peers, or kept by other sessions: OUT_SEND_MULTI) is replaced by a copy of our own, so that no
  // packet's reference count is touched by two reactors' threads. False: out of memory (that packet
  // is kept shared).
  bool makeExclusive() {
    bool ok = true;
    for (auto& q : outbox_) {
      for (Kept& k : q) {
        if (k.packet->referenceCount == 1) continue;
        ENetPacket* copy = enet_packet_create(k.packet->data, k.packet->dataLength, k.packet->flags);
        if (copy == nullptr) {
          ok = false;
          continue;
        }
        ++copy->referenceCount;
        releasePacket(k.packet);
        k.packet = copy;
      }
    }
    return ok;
  }

  // Where the session is (the reactor's bookkeeping). Detached: the last connection's host and slot.
  bool attached = false;
  uint32_t host = 0;
  uint32_t slot = 0;
  uint32_t route = proto::SUPERVISOR_RING;  // the actor ring of its records (captured when it detaches)
  // Which server it belongs to in the process-wide parking map (Reactor::parkingGroup): peer ids are
  // unique within one server only, and a process may run several servers.
  uint64_t group = 0;
  bool overflowReported = false;
  bool ackQueued = false;            // in the reactor's list of sessions with an ack to send
  uint64_t lastAckMs = 0;
  // A connection that came to resume (RESUME_MAGIC) has no seat of its own: nothing it sends is
  // counted (no acks), and dropped, it ends.
  bool resumeOnly = false;

 private:
  void clear() {
    for (auto& q : outbox_) {
      for (Kept& k : q) releasePacket(k.packet);
      q.clear();
    }
    bytes_ = 0;
  }

  uint32_t peerId_;
  uint64_t limit_;
  uint64_t bytes_ = 0;
  std::vector<std::deque<Kept>> outbox_;  // per channel, in seq order
  std::vector<uint32_t> next_;            // per channel: the last seq given
  std::vector<uint32_t> received_;        // per channel: reliable packets received
  bool countsChanged_ = false;
};

// ---- The process-wide parking map (registry.cc): sessions between OUT_SESSION_EXPORT and
// OUT_SESSION_RESUME, by (server group, peerId), under its own mutex. A session parked under a key
// already parked replaces (frees) the older one.
void parkSession(std::unique_ptr<Session> session);
std::unique_ptr<Session> unparkSession(uint64_t group, uint32_t peerId);  // nullptr: none
bool isSessionParked(uint64_t group, uint32_t peerId);

}  // namespace enet_actor
