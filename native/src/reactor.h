// The Reactor of docs/protocol.md: ENet hosts + an eventfd + an inbound ring (producer side) +
// an outbound ring (consumer side) + a counters table, and the process-wide registry of reactors.
// Nothing in here knows about N-API; addon.cc translates JS values to these types and back.
#pragma once

#include <enet/enet.h>
#include <poll.h>
#include <unistd.h>

#include <cstdint>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "guard.h"
#include "protocol.h"
#include "ring.h"
#include "session.h"

namespace enet_actor {

namespace records {
struct Record;  // an outbound record's header and body (records.h)
}

// A failure reported to JS as an Error with a `code` property.
class ReactorError : public std::runtime_error {
 public:
  ReactorError(const char* code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  const char* code() const { return code_; }

 private:
  const char* code_;
};

// An owned file descriptor (eventfd, epoll): closed with its owner.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Raw memory of a SharedArrayBuffer (or of a view over one). Owned by JS.
struct SharedMemory {
  uint8_t* data = nullptr;
  size_t length = 0;
};

struct HostOptions {
  bool server = false;        // false: client host (no bind)
  std::string address;        // server only: dotted IPv4; "0.0.0.0" = ENET_HOST_ANY
  uint16_t port = 0;          // server only: 0 = ephemeral
  uint32_t peers = 0;         // 1..4095
  uint32_t channels = 0;      // 1..255
  uint32_t compression = 0;   // compress::MODE_*: 0 none, 1 range coder, 2 FastLZ, 3 zlib, 4 zstd
  uint32_t maxPacketSize = 0; // > 0; 16 + maxPacketSize must fit the inbound ring
  SharedMemory stats;         // >= peers * STATS_ROW_BYTES, 4-aligned
  GuardOptions guard;         // server only: the defences (guard.h)
  bool reusePort = false;     // server only: SO_REUSEPORT before bind (one port, several hosts = shards)
  // Server only, optional: a u32 shared by every shard of one server (its last peer id), so peer ids
  // stay unique across hosts. Empty: the host counts its own.
  SharedMemory peerIds;
  // Server only: the outbox bound of each session (docs/protocol.md "Sessions"); 0 = no sessions.
  uint32_t sessionOutboxBytes = 0;
  // Every peer's ENet timeout (enet_peer_timeout, set as it connects); 0 = ENet's default for that field.
  uint32_t timeoutLimit = 0;
  uint32_t timeoutMinimumMs = 0;
  uint32_t timeoutMaximumMs = 0;
};

struct HostCreated {
  uint32_t host = 0;
  uint32_t port = 0;
};

class Reactor {
 public:
  // inbound/outbound: whole ring memory (256-byte header + capacity), one or more of each (ring 0
  // is the supervisor's, ring k game actor k-1's); counters: >= COUNTERS_BYTES. Validates sizes and the
  // CAPACITY slots; throws ReactorError.
  Reactor(const std::vector<SharedMemory>& inbound, const std::vector<SharedMemory>& outbound,
          SharedMemory counters);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  HostCreated createHost(const HostOptions& options);  // throws ReactorError
  int service(int timeoutMs);                          // proto::SERVICE_* bits
  // The producer's shortcut: when no thread is inside service(), drain the outbound ring and send
  // at once on the calling thread, sparing the net actor a wake-up. -1 = busy (wake it instead),
  // else SERVICE_* bits as from service().
  int flushOutbound();
  // The consumer's thread services one host itself when its socket is readable ("inline"), so a
  // burst costs it one wake-up instead of a net-actor wake-up plus a doorbell. Blocking lock (the
  // net actor's passes are short). Records are published without ringing the doorbell: the
  // caller drains them at once. Returns SERVICE_* bits; SERVICE_DESTROYED if the host is gone.
  int serviceInline(uint32_t host);
  // While a host is inline, the net actor leaves its socket to the consumer's thread and only
  // passes over it every pollRate ms (ENet timers; and the socket whenever that thread is busy).
  // Returns the host's socket fd (-1 if there is no such host).
  int setInline(uint32_t host, bool on);
  // The consumer's thread says whether it is waiting in its event loop (and will see its inline
  // sockets at once) or busy: while it is busy the net actor watches those sockets too.
  void setConsumerWaiting(bool waiting) { consumerWaiting_.store(waiting, std::memory_order_relaxed); }
  void wake();                                         // one eventfd write
  void destroy();                                      // idempotent
  // Ids of the hosts destroyed since the last call (OUT_DESTROY_HOST): nothing native points into
  // their stats any more, so the environment that created them can let their buffers go.
  std::vector<uint32_t> takeDestroyedHosts();
  uint32_t inboundCapacity() const { return inCapacity_; }

 private:
  struct Host {
    ENetHost* enet = nullptr;
    uint32_t id = 0;                     // the host id records carry; never reused in a reactor
    uint32_t pos = 0;                    // its index in hosts_
    bool server = false;
    uint32_t maxPacketSize = 0;
    uint32_t* stats = nullptr;           // peerCount rows of STATS_ROW u32
    std::vector<uint32_t> peerId;        // per slot; 0 = none
    std::vector<uint8_t> slotFlags;      // SLOT_* bits
    std::vector<uint32_t> route;         // per slot: inbound ring of its records (| ROUTE_HELD)
    std::vector<std::string> reason;     // per slot: the reason of a disconnect we requested
    std::vector<uint32_t> processed;     // per slot: payload bytes of send records taken (u32, wraps)
    std::vector<uint32_t> lostSeen;      // per slot: ENet's packetsLost at the last stats row (C_RETRANSMISSIONS)
    uint32_t liveIds = 0;                // slots with a peerId
    uint32_t nextPeerId = 1;             // server hosts without a shared counter
    uint32_t* sharedPeerIds = nullptr;   // HostOptions::peerIds
    bool dirty = false;                  // outbound records queued something not sent yet (in dirty_)
    // Client hosts are serviced only when there is something to do: their socket is readable
    // (ready, from epoll), outbound records touched them (dirty), ENet has events queued, or one of
    // ENet's timers is due (dueMs, ENet time: a retransmission, a ping, an acknowledgement).
    bool ready = false;
    uint32_t dueMs = 0;
    bool statsDirty = false;             // serviced since the last stats pass
    bool inlined = false;                // its socket is polled by the consumer's thread (setInline)
    bool errorReported = false;
    uint64_t lastErrorMs = 0;
    uint32_t wireSent = 0;      // ENet's totalSentData / totalReceivedData (u32, wrapping) when
    uint32_t wireReceived = 0;  // they were last added to the counters
    std::unique_ptr<Guard> guard;  // server hosts
    // Server hosts: the slots ENet was created with. Its peerCount is kept to the highest slot in use
    // plus room for a pass's connects (fitPeerWindow), since every pass walks peerCount slots.
    size_t allSlots = 0;
    uint64_t queuedBytes = 0;      // to all its peers, at the last stats pass
    uint64_t sessionLimit = 0;     // HostOptions::sessionOutboxBytes (0: no sessions)
    uint32_t timeoutLimit = 0;     // HostOptions' peer timeout, applied to each peer as it connects
    uint32_t timeoutMinimumMs = 0;
    uint32_t timeoutMaximumMs = 0;
    std::vector<Session*> session; // per slot: the session of its peer (owned by sessions_), or none
  };
  struct Pending {
    uint32_t host;
    uint32_t ring;
    std::vector<uint8_t> bytes;
  };
  // A peer being routed to a game actor: its records wait here until the supervisor has passed on
  // what it still had of that peer (OUT_FORWARD), then go to the actor's ring (OUT_ROUTE_DONE).
  struct Hold {
    uint32_t ring;
    std::vector<std::vector<uint8_t>> records;
  };
  static constexpr uint32_t ROUTE_HELD = 0x80000000u;
  static uint64_t holdKey(uint32_t host, uint32_t peerId) { return (uint64_t{host} << 32) | peerId; }
  static constexpr uint8_t SLOT_REQUESTED = 1;  // we asked for the disconnect
  static constexpr uint8_t SLOT_CONNECTED = 2;  // the slot reached CONNECTED

  // ---- Scheduling (reactor.cc) ----
  int passLocked(bool* work, bool* stalled, Host* onlyHost = nullptr, bool ringDoorbell = true);
  bool clientHostDueLocked(const Host& h, uint32_t now) const;
  static uint32_t nextDueMs(const ENetHost* host, uint32_t now);
  void collectReadyLocked();  // epoll_wait(0): marks client hosts whose socket is readable
  void epollAdd(int epollFd, const Host& h);
  void epollDel(int epollFd, const Host& h);
  void drainEventFd();
  bool anyPeerLocked() const;

  // ---- Hosts and slots (reactor_hosts.cc) ----
  Host* findHost(uint32_t id) const;
  void markDirty(Host& h);
  void destroyHostLocked(Host* h);
  static void fitPeerWindow(Host& h);
  static void destroyEnetHost(Host& h);
  void hostsChangedLocked();  // recomputes maxRecord_, inlineHosts_ and guardedHosts_
  ENetPeer* livePeer(Host* h, uint32_t slot, uint32_t peerId) const;
  void assignSlot(Host& h, uint32_t slot, uint32_t peerId);
  void forgetSlot(Host& h, uint32_t slot);

  // ---- Inbound records (reactor_inbound.cc) ----
  bool serviceHostLocked(uint32_t index, Host& h, uint32_t* budget, bool* stalled);
  void handleEventLocked(uint32_t index, Host& h, ENetEvent& ev);
  uint8_t* appendRecord(uint32_t ring, uint32_t len);  // nullptr when full; counts it as emitted
  // A record that must not be lost (not taken from ENet): written now, or queued until there
  // is room (ENet events are not taken while anything is queued, so order is kept per ring).
  void emitControl(uint32_t ring, uint32_t host, const uint8_t* rec, uint32_t len);
  // A record for wherever the slot's records go now: its ring, or its hold.
  void emitRouted(uint32_t index, Host& h, uint32_t slot, const uint8_t* rec, uint32_t len);
  bool flushPendingLocked();
  bool inboundRoomLocked(uint32_t len) const;  // every inbound ring can take a record of len
  // The peer's IN_DISCONNECT, and the slot is forgotten. `mayDrop`: ENet let the peer go on its own,
  // so a session peer that did not say it is leaving is dropped (IN_DROPPED, session kept detached).
  void emitDisconnect(uint32_t index, Host& h, uint32_t slot, uint32_t data, uint32_t cause,
                      bool mayDrop = false);

  // ---- Outbound records (reactor_outbound.cc) ----
  void handleOutboundLocked(const uint8_t* rec, uint32_t len);
  void outSendLocked(Host* h, const records::Record& r);
  void outSendMultiLocked(Host* h, const records::Record& r);
  void outDisconnectLocked(uint32_t index, Host* h, const records::Record& r);
  void outConnectLocked(uint32_t index, Host* h, const records::Record& r);
  void outSetTimeoutLocked(Host* h, const records::Record& r);

  // ---- Sessions (reactor_sessions.cc; docs/protocol.md "Sessions") ----
  // What a record naming (slot, peerId) reaches: the peer in that slot; or, when the slot no longer
  // holds it, its session's peer (attached elsewhere since a resume) or its detached session.
  struct Target {
    Host* host = nullptr;
    uint32_t slot = 0;
    ENetPeer* peer = nullptr;     // nullptr: a detached session
    Session* session = nullptr;
    bool found() const { return peer != nullptr || session != nullptr; }
  };
  Target targetLocked(Host* h, uint32_t slot, uint32_t peerId);
  // Queues a packet the caller created to a target, numbering and keeping it when the target has a
  // session and the packet is reliable and `counted`. The caller destroys it if nobody took it.
  void queueLocked(const Target& t, uint8_t channel, ENetPacket* packet, bool counted);
  static uint64_t parkingGroup(const Host& h);
  void createSessionLocked(Host& h, uint32_t slot, uint32_t peerId, uint32_t data);
  void keepLocked(Session& s, uint32_t channel, ENetPacket* packet);
  void freeSessionLocked(Session* s);
  void adoptSessionLocked(std::unique_ptr<Session> s);  // into sessions_ (replacing one of that id)
  void detachSessionLocked(Host& h, uint32_t slot, Session& s);
  void countReceivedLocked(Session& s, uint32_t channel);
  void sessionControlLocked(Session& s, const uint8_t* data, size_t length);  // a SESSION_CONTROL packet
  void sendAcksLocked(uint64_t now);  // stats pass: acks due to session peers whose counts changed
  void emitToSessionRingLocked(const Session& s, const uint8_t* rec, uint32_t len);
  void freeHostSessionsLocked(uint32_t hostId);
  void outSessionEndLocked(const records::Record& r);
  void outSessionExportLocked(const records::Record& r);
  void outSessionResumeLocked(uint32_t index, Host* h, const records::Record& r);

  // ---- Routing to game actors (reactor_routing.cc) ----
  void outRouteLocked(uint32_t index, Host* h, const records::Record& r);
  void outRouteDoneLocked(uint32_t index, const records::Record& r);
  void outForwardLocked(uint32_t index, const records::Record& r);
  void outRelayLocked(const records::Record& r);

  // ---- The guard glue (reactor_guard.cc) ----
  // Sets, on this thread, the host being serviced and its guard for interceptDatagram (ENet's
  // intercept callback gets only the ENetHost), around enet_host_service, under the mutex.
  struct ServicingScope {
    ServicingScope(ENetHost* host, Guard* guard);
    ~ServicingScope();
    ServicingScope(const ServicingScope&) = delete;
    ServicingScope& operator=(const ServicingScope&) = delete;
  };
  // ENet's intercept for server hosts: the guard of the host being serviced on this thread.
  static int interceptDatagram(ENetHost* host, ENetEvent* event);
  void outBanLocked(Host* h, const records::Record& r);
  void emitKicksLocked(uint32_t index, Host& h);

  // ---- Stats and counters tables (reactor_stats.cc) ----
  void writeStatsRow(Host& h, uint32_t slot);
  void zeroStatsRow(Host& h, uint32_t slot);
  void statsPassLocked();
  void writeCountersLocked();
  void accountWireLocked(Host& h);  // adds the host's new wire bytes to the counters

  std::mutex mu_;
  bool destroyed_ = false;
  Fd eventFd_;
  // Level-triggered epoll sets: the eventfd and every host socket not inline; the inline sockets
  // (watched by the consumer's thread while it waits, added to the sleep while it is busy).
  Fd epollFd_;
  Fd inlineEpollFd_;
  std::vector<ring::Producer> inbound_;
  std::vector<ring::Consumer> outbound_;
  std::unordered_map<uint64_t, Hold> holds_;  // holdKey(host, peerId)
  // Sessions of this reactor's peers, attached or detached, by peerId (unique across shards).
  std::unordered_map<uint32_t, std::unique_ptr<Session>> sessions_;
  std::vector<uint32_t> ackQueue_;  // peerIds of sessions whose counts changed since their last ack
  uint64_t sessionBytes_ = 0;       // sum of the outboxes of sessions_
  uint32_t inCapacity_ = 0;
  double* countersMem_ = nullptr;
  double counters_[proto::COUNTERS_SLOTS] = {};
  // Live hosts only, in no particular order (Host::pos): a destroyed host leaves nothing behind,
  // so passes, stats passes and sleeps cost what the live hosts cost.
  std::vector<std::unique_ptr<Host>> hosts_;
  std::unordered_map<uint32_t, Host*> byId_;
  uint32_t nextHostId_ = 0;
  std::vector<uint32_t> dirty_;  // ids of hosts with dirty set
  std::vector<uint32_t> destroyedHosts_;  // until takeDestroyedHosts()
  uint32_t maxRecord_ = proto::RECORD_HEADER_BYTES;  // largest inbound record any live host makes
  // The live hosts with a guard (server hosts): the counters pass sums their figures. A client
  // network has a thousand hosts and none of them: walking them all on every flush cost ~5% of a
  // load test's CPU samples (perf).
  std::vector<Host*> guardedHosts_;
  std::deque<Pending> pending_;
  uint32_t emitted_ = 0;     // records appended during the current pass
  uint64_t lastStatsMs_ = 0;
  uint32_t passCount_ = 0;
  bool settled_ = false;  // the last pass left nothing queued (ENet events, pending records)
  uint32_t inlineHosts_ = 0;
  std::atomic<bool> consumerWaiting_{false};
  bool quiet_ = false;  // the net actor sleeps the quiet sleep (no peer at all)
};

// ---- Process-wide registry (registry.cc): id -> shared_ptr<Reactor>, ids from 1 up, never reused.
uint32_t registerReactor(std::shared_ptr<Reactor> reactor);
std::shared_ptr<Reactor> findReactor(uint32_t id);
std::shared_ptr<Reactor> unregisterReactor(uint32_t id);

// enet_initialize once per process; throws ReactorError on failure.
void ensureEnetInitialized();

}  // namespace enet_actor
