#include "reactor.h"

#include "compress.h"

#include <errno.h>
#include <enet/time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

namespace enet_actor {

using namespace proto;

namespace {

uint64_t nowMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

inline uint16_t rd16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void wr16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void wr32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

inline void writeHeader(uint8_t* p, uint8_t kind, uint8_t channel, uint16_t flags, uint32_t host,
                        uint32_t slot, uint32_t peerId) {
  p[REC_KIND] = kind;
  p[REC_CHANNEL] = channel;
  wr16(p + REC_FLAGS, flags);
  wr32(p + REC_HOST, host);
  wr32(p + REC_SLOT, slot);
  wr32(p + REC_PEER_ID, peerId);
}

inline void storeRelaxed(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// The guard of the host enet_host_service is running for on this thread (ENet's intercept callback
// gets only the ENetHost). Set around the call, under the reactor's mutex.
// enet_host_service reads at most this many datagrams per call (ENet 1.3's protocol.c loop).
constexpr size_t ENET_MAX_DATAGRAMS = 256;

thread_local Guard* servicedGuard = nullptr;
thread_local ENetHost* servicedHost = nullptr;

struct ServicingScope {
  ServicingScope(ENetHost* host, Guard* guard) {
    servicedHost = host;
    servicedGuard = guard;
  }
  ~ServicingScope() {
    servicedHost = nullptr;
    servicedGuard = nullptr;
  }
  ServicingScope(const ServicingScope&) = delete;
  ServicingScope& operator=(const ServicingScope&) = delete;
};

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

// epoll data of the eventfd (host ids are u32).
constexpr uint64_t EVENTFD_TAG = ~uint64_t{0};
// The longest a client host goes unserviced (a safety net over nextDueMs).
constexpr uint32_t MAX_IDLE_SERVICE_MS = 1000;
// Socket buffers asked for a server host's socket (each direction).
constexpr int SERVER_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

std::string errnoText(int e) {
  char buf[128];
  // GNU strerror_r returns the message (possibly not in buf).
  const char* s = strerror_r(e, buf, sizeof buf);
  return s ? std::string(s) : std::string("errno ") + std::to_string(e);
}

// A server host whose socket joins a SO_REUSEPORT group (FACTS.md: enet_host_create offers no such
// option, so the host is created unbound and bound here). nullptr with errno set on failure.
ENetHost* createReusePortHost(const ENetAddress& address, size_t peers, size_t channels) {
  ENetHost* host = enet_host_create(nullptr, peers, channels, 0, 0);
  if (host == nullptr) return nullptr;
  const int on = 1;
  ENetAddress bound = address;
  if (setsockopt(host->socket, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
      enet_socket_bind(host->socket, &address) != 0 || enet_socket_get_address(host->socket, &bound) != 0) {
    const int e = errno;
    enet_host_destroy(host);
    errno = e;
    return nullptr;
  }
  host->address = bound;
  return host;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction / destruction

Reactor::Reactor(const std::vector<SharedMemory>& inbound, const std::vector<SharedMemory>& outbound,
                 SharedMemory counters) {
  auto ringView = [](SharedMemory m, const char* name) {
    if (m.data == nullptr || m.length < ring::HEADER_BYTES + ring::MIN_CAPACITY) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         std::string(name) + " ring is too small (need 256 + at least 65536 bytes)");
    }
    if (reinterpret_cast<uintptr_t>(m.data) % 8 != 0) {
      throw ReactorError("ERR_INVALID_PARAMETER", std::string(name) + " ring memory is not 8-aligned");
    }
    const int32_t cap = __atomic_load_n(reinterpret_cast<int32_t*>(m.data) + ring::CAPACITY,
                                        __ATOMIC_SEQ_CST);
    const uint64_t capacity = static_cast<uint32_t>(cap);
    if (!ring::validCapacity(capacity) || ring::HEADER_BYTES + capacity > m.length) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         std::string(name) + " ring header CAPACITY (" + std::to_string(capacity) +
                             ") must be a power of two >= 65536 with 256 + CAPACITY <= byteLength (" +
                             std::to_string(m.length) + ")");
    }
    return ring::View(m.data, static_cast<uint32_t>(capacity));
  };
  if (inbound.empty() || outbound.empty() || inbound.size() > MAX_RINGS || outbound.size() > MAX_RINGS) {
    throw ReactorError("ERR_INVALID_PARAMETER", "a reactor needs 1 to 256 inbound and outbound rings");
  }
  std::vector<ring::View> in;
  std::vector<ring::View> out;
  for (const SharedMemory& m : inbound) in.push_back(ringView(m, "inbound"));
  for (const SharedMemory& m : outbound) out.push_back(ringView(m, "outbound"));
  if (counters.data == nullptr || counters.length < COUNTERS_BYTES ||
      reinterpret_cast<uintptr_t>(counters.data) % 8 != 0) {
    throw ReactorError("ERR_INVALID_PARAMETER", "counters table must be >= 128 bytes, 8-aligned");
  }
  eventFd_ = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!eventFd_) throw ReactorError("ERR_CANT_CREATE", "eventfd failed: " + errnoText(errno));
  epollFd_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  inlineEpollFd_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epollFd_ || !inlineEpollFd_) throw ReactorError("ERR_CANT_CREATE", "epoll_create1 failed: " + errnoText(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = EVENTFD_TAG;
  if (::epoll_ctl(epollFd_.get(), EPOLL_CTL_ADD, eventFd_.get(), &ev) != 0) {
    throw ReactorError("ERR_CANT_CREATE", "epoll_ctl failed: " + errnoText(errno));
  }
  inCapacity_ = in[0].capacity();
  for (const ring::View& v : in) {
    inbound_.emplace_back(v);
    if (v.capacity() < inCapacity_) inCapacity_ = v.capacity();
  }
  for (const ring::View& v : out) outbound_.emplace_back(v);
  countersMem_ = reinterpret_cast<double*>(counters.data);
  for (uint32_t i = 0; i < COUNTERS_SLOTS; ++i) {
    uint64_t bits = __atomic_load_n(reinterpret_cast<uint64_t*>(countersMem_ + i), __ATOMIC_RELAXED);
    std::memcpy(&counters_[i], &bits, 8);
  }
  lastStatsMs_ = nowMs();
  hostsChangedLocked();
}

Reactor::~Reactor() {
  for (auto& h : hosts_) {
    if (h->enet) enet_host_destroy(h->enet);
  }
  hosts_.clear();
  byId_.clear();
}

Reactor::Host* Reactor::findHost(uint32_t id) const {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : it->second;
}

void Reactor::markDirty(Host& h) {
  if (h.dirty) return;
  h.dirty = true;
  dirty_.push_back(h.id);
}

void Reactor::epollAdd(int epollFd, const Host& h) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = h.id;
  // Cannot fail for a fresh socket short of ENOMEM; then the host is still serviced on its timers.
  (void)::epoll_ctl(epollFd, EPOLL_CTL_ADD, h.enet->socket, &ev);
}

void Reactor::epollDel(int epollFd, const Host& h) {
  epoll_event ev{};
  (void)::epoll_ctl(epollFd, EPOLL_CTL_DEL, h.enet->socket, &ev);
}

// ---------------------------------------------------------------------------------------------
// Hosts

HostCreated Reactor::createHost(const HostOptions& o) {
  HostCreated result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) throw ReactorError("ERR_INVALID_PARAMETER", "the reactor is destroyed");
    if (REC_HEADER_BYTES + static_cast<uint64_t>(o.maxPacketSize) > ring::maxPayload(inCapacity_)) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         "maxPacketSize " + std::to_string(o.maxPacketSize) +
                             " does not fit the inbound ring (at most " +
                             std::to_string(ring::maxPayload(inCapacity_) - REC_HEADER_BYTES) +
                             " for a capacity of " + std::to_string(inCapacity_) + ")");
    }
    if (!compress::isKnownMode(o.compression)) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         "compression mode " + std::to_string(o.compression) + " is not one of 0..4");
    }
    ENetHost* enet = nullptr;
    if (o.server) {
      ENetAddress addr;
      addr.host = ENET_HOST_ANY;
      addr.port = o.port;
      if (!o.address.empty() && o.address != "0.0.0.0" &&
          enet_address_set_host_ip(&addr, o.address.c_str()) != 0) {
        throw ReactorError("ERR_INVALID_PARAMETER",
                           "address '" + o.address + "' is not a dotted IPv4 address");
      }
      errno = 0;
      enet = o.reusePort ? createReusePortHost(addr, o.peers, o.channels) : enet_host_create(&addr, o.peers, o.channels, 0, 0);
      if (enet == nullptr) {
        const int e = errno;
        std::string msg = "could not bind UDP " + (o.address.empty() ? std::string("0.0.0.0") : o.address) +
                          ":" + std::to_string(o.port) + " (in use or not permitted)";
        if (e == EADDRINUSE || e == EACCES || e == EPERM || e == EADDRNOTAVAIL) {
          msg += ": " + errnoText(e);
        }
        throw ReactorError("ERR_CANT_CREATE", msg);
      }
      // Every peer's datagrams reach this one socket: ENet's 256 KiB buffers hold a few hundred
      // small datagrams, a few milliseconds of a thousand busy peers, and what overflows is dropped
      // by the kernel and retransmitted by ENet (seconds of RTT). The kernel caps the request at
      // net.core.rmem_max / wmem_max; a failure leaves ENet's size.
      enet_socket_set_option(enet->socket, ENET_SOCKOPT_RCVBUF, SERVER_SOCKET_BUFFER_BYTES);
      enet_socket_set_option(enet->socket, ENET_SOCKOPT_SNDBUF, SERVER_SOCKET_BUFFER_BYTES);
      ENetAddress bound;
      if (enet_socket_get_address(enet->socket, &bound) == 0) {
        result.port = bound.port;
      } else {
        result.port = o.port;
      }
    } else {
      enet = enet_host_create(nullptr, o.peers, o.channels, 0, 0);
      if (enet == nullptr) throw ReactorError("ERR_CANT_CREATE", "could not create an ENet client host");
      result.port = 0;
    }
    enet->maximumPacketSize = o.maxPacketSize;
    // Bytes one peer may have waiting in ENet (fragments of incomplete packets, and packets not
    // dispatched yet), not ENet's 32 MiB default (FACTS.md: fragment pinning). Past it ENet drops
    // incoming commands yet acknowledges them: reliable data lost. We dispatch everything before
    // reading again, and one read takes at most ENET_MAX_DATAGRAMS datagrams, so this never cuts
    // legitimate traffic.
    enet->maximumWaitingData = std::max<size_t>(2 * static_cast<size_t>(o.maxPacketSize),
                                                o.maxPacketSize + ENET_MAX_DATAGRAMS * size_t{ENET_PROTOCOL_MAXIMUM_MTU});
    // maxPeersPerAddress is the guard's (it can count, and trust some addresses), not ENet's duplicatePeers.
    if (o.server) enet->intercept = &Reactor::interceptDatagram;
    if (!compress::applyCompression(enet, o.compression)) {
      enet_host_destroy(enet);
      throw ReactorError("ERR_CANT_CREATE", "could not set up compression mode " +
                                                std::to_string(o.compression) + " (out of memory)");
    }
    auto h = std::make_unique<Host>();
    h->enet = enet;
    h->id = nextHostId_++;
    h->pos = static_cast<uint32_t>(hosts_.size());
    h->server = o.server;
    h->maxPacketSize = o.maxPacketSize;
    h->stats = reinterpret_cast<uint32_t*>(o.stats.data);
    if (o.server && o.peerIds.data != nullptr) h->sharedPeerIds = reinterpret_cast<uint32_t*>(o.peerIds.data);
    h->peerId.assign(enet->peerCount, 0);
    h->slotFlags.assign(enet->peerCount, 0);
    h->route.assign(enet->peerCount, SUPERVISOR_RING);
    h->reason.assign(enet->peerCount, std::string());
    h->processed.assign(enet->peerCount, 0);
    if (o.server) h->guard = std::make_unique<Guard>(o.guard, enet, o.maxPacketSize);
    for (uint32_t s = 0; s < enet->peerCount; ++s) zeroStatsRow(*h, s);
    result.host = h->id;
    epollAdd(epollFd_.get(), *h);
    byId_.emplace(h->id, h.get());
    hosts_.push_back(std::move(h));
    hostsChangedLocked();
  }
  wake();  // the servicing thread may be in its quiet sleep
  return result;
}

void Reactor::hostsChangedLocked() {
  inlineHosts_ = 0;
  maxRecord_ = REC_HEADER_BYTES;
  for (auto& h : hosts_) {
    if (REC_HEADER_BYTES + h->maxPacketSize > maxRecord_) maxRecord_ = REC_HEADER_BYTES + h->maxPacketSize;
    if (h->inlined) ++inlineHosts_;
  }
  counters_[C_HOSTS] = static_cast<double>(hosts_.size());
}

void Reactor::destroyHostLocked(Host* h) {
  const uint32_t id = h->id;
  enet_host_flush(h->enet);
  accountWireLocked(*h);
  epollDel(h->inlined ? inlineEpollFd_.get() : epollFd_.get(), *h);
  enet_host_destroy(h->enet);
  h->enet = nullptr;
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->host == id ? pending_.erase(it) : it + 1;
  }
  for (auto it = holds_.begin(); it != holds_.end();) {
    it = (it->first >> 32) == id ? holds_.erase(it) : std::next(it);
  }
  if (h->dirty) {
    for (auto it = dirty_.begin(); it != dirty_.end(); ++it) {
      if (*it == id) {
        dirty_.erase(it);
        break;
      }
    }
  }
  // Swap-remove: the list stays compact.
  const uint32_t pos = h->pos;
  byId_.erase(id);
  if (pos + 1 != hosts_.size()) {
    hosts_[pos] = std::move(hosts_.back());
    hosts_[pos]->pos = pos;
  }
  hosts_.pop_back();
  hostsChangedLocked();
}

void Reactor::destroy() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) return;
    for (auto& h : hosts_) {
      enet_host_flush(h->enet);
      epollDel(h->inlined ? inlineEpollFd_.get() : epollFd_.get(), *h);
      enet_host_destroy(h->enet);
      h->enet = nullptr;
    }
    hosts_.clear();
    byId_.clear();
    dirty_.clear();
    pending_.clear();
    holds_.clear();
    hostsChangedLocked();
    destroyed_ = true;
  }
  wake();
}

void Reactor::wake() {
  const uint64_t one = 1;
  const ssize_t n = ::write(eventFd_.get(), &one, sizeof one);  // EAGAIN: the counter is already huge
  (void)n;
}

void Reactor::drainEventFd() {
  uint64_t v;
  const ssize_t n = ::read(eventFd_.get(), &v, sizeof v);
  (void)n;
}

// ---------------------------------------------------------------------------------------------
// service

int Reactor::service(int timeoutMs) {
  pollfd fds[2];
  nfds_t nfds = 0;
  int sleepMs = timeoutMs;
  bool work = false;
  bool stalled = false;
  int flags = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) return SERVICE_DESTROYED;
    // After a settled pass the caller only came back to ring the inbound doorbell: go straight to
    // sleep (poll returns at once if a datagram came meanwhile) instead of a pass that finds nothing.
    if (!settled_) {
      flags = passLocked(&work, &stalled);
      if (work && (flags != 0 || !settled_)) return flags;
    } else {
      stalled = !pending_.empty() || !inboundRoomLocked(maxRecord_);
    }
    settled_ = false;
    // Going to sleep: tell outbound producers to ring, then re-check (Dekker with their
    // store(WRITE) + CAS(CONSUMER_SLEEPING)).
    bool skip = false;
    for (auto& out : outbound_) out.view().store(ring::CONSUMER_SLEEPING, 1);
    for (auto& out : outbound_) skip = skip || out.hasData();
    // Stalled: PRODUCER_WAITING was set in the pass; re-check READ the same way.
    if (stalled && pending_.empty() && inboundRoomLocked(maxRecord_)) skip = true;
    // With no peer at all, ENet has no timer to keep (no pings, retransmits or timeouts): only a
    // datagram or a producer can give work, and both wake the poll. Idle then costs ~nothing.
    quiet_ = !stalled && !anyPeerLocked();
    if (quiet_) sleepMs = QUIET_SLEEP_MS;
    if (!skip) {
      if (stalled) {
        fds[nfds++] = pollfd{eventFd_.get(), POLLIN, 0};  // the eventfd only: the sockets are not to be read
      } else {
        // The epoll set (eventfd + own sockets) is readable when any of them is; the inline sockets
        // join only while the consumer's thread is busy (while it waits, it watches them itself).
        fds[nfds++] = pollfd{epollFd_.get(), POLLIN, 0};
        if (inlineHosts_ > 0 && !consumerWaiting_.load(std::memory_order_relaxed)) {
          fds[nfds++] = pollfd{inlineEpollFd_.get(), POLLIN, 0};
        }
      }
    }
  }
  // EINTR: treat as a wake. The pass collects what is readable (and drains the eventfd).
  if (nfds > 0) (void)::poll(fds, nfds, sleepMs);
  std::lock_guard<std::mutex> lock(mu_);
  if (destroyed_) return SERVICE_DESTROYED;
  for (auto& out : outbound_) out.view().store(ring::CONSUMER_SLEEPING, 0);
  quiet_ = false;
  return flags | passLocked(&work, &stalled);
}

void Reactor::collectReadyLocked() {
  epoll_event events[256];
  const int n = ::epoll_wait(epollFd_.get(), events, 256, 0);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == EVENTFD_TAG) {
      drainEventFd();
      continue;
    }
    Host* h = findHost(static_cast<uint32_t>(events[i].data.u64));
    if (h != nullptr) h->ready = true;
  }
  // More than 256 ready: level-triggered, the rest are reported by the next pass.
}

bool Reactor::clientHostDueLocked(const Host& h, uint32_t now) const {
  return h.ready || h.dirty || ENET_TIME_GREATER_EQUAL(now, h.dueMs) || !enet_list_empty(&h.enet->dispatchQueue);
}

// When ENet next has something to do for this host without a datagram arriving: at once for
// queued acknowledgements or commands, else the earliest retransmission check (nextTimeout, while
// reliable commands are in flight) or ping (pingInterval after the last datagram received). These
// are the conditions of enet_protocol_send_outgoing_commands in ENet 1.3.
uint32_t Reactor::nextDueMs(const ENetHost* host, uint32_t now) {
  uint32_t due = now + MAX_IDLE_SERVICE_MS;
  for (size_t i = 0; i < host->peerCount; ++i) {
    const ENetPeer& p = host->peers[i];
    if (p.state == ENET_PEER_STATE_DISCONNECTED) continue;
    if (!enet_list_empty(&p.acknowledgements) || !enet_list_empty(&p.outgoingCommands)) return now;
    const uint32_t t = !enet_list_empty(&p.sentReliableCommands) ? p.nextTimeout : p.lastReceiveTime + p.pingInterval;
    if (ENET_TIME_LESS(t, due)) due = t;
  }
  return due;
}

int Reactor::passLocked(bool* work, bool* stalled, Host* onlyHost, bool ringDoorbell) {
  emitted_ = 0;
  *stalled = false;
  uint32_t corrupt = 0;
  uint32_t handled = 0;
  for (auto& out : outbound_) {
    handled += out.drain([this](const uint8_t* rec, uint32_t len) { handleOutboundLocked(rec, len); }, &corrupt);
  }
  counters_[C_MALFORMED] += corrupt;
  flushPendingLocked();

  bool events = false;
  uint32_t budget = EVENTS_PER_PASS;
  const uint32_t n = static_cast<uint32_t>(hosts_.size());
  if (onlyHost != nullptr) {
    if (serviceHostLocked(onlyHost->id, *onlyHost, &budget, stalled)) events = true;
  } else {
    collectReadyLocked();
    counters_[C_PASSES] += 1;
    counters_[C_HOST_VISITS] += n;
    // Server hosts every pass; client hosts when they have something to do (Host::ready).
    const uint32_t now = enet_time_get();
    const uint32_t start = n > 0 ? passCount_++ % n : 0;  // rotate so no host starves another
    for (uint32_t k = 0; k < n; ++k) {
      Host& h = *hosts_[(start + k) % n];
      if (!h.server && !clientHostDueLocked(h, now)) continue;
      if (serviceHostLocked(h.id, h, &budget, stalled)) events = true;
    }
    dirty_.clear();  // every dirty host was serviced (flushed)
  }
  const uint64_t now = nowMs();
  if (now - lastStatsMs_ >= STATS_INTERVAL_MS) {
    lastStatsMs_ = now;
    statsPassLocked();
  }
  if (!pending_.empty()) *stalled = true;
  settled_ = !*stalled && budget > 0;  // nothing left that only another pass would take
  if (*stalled) {
    for (auto& in : inbound_) {
      if (!in.canWrite(maxRecord_)) in.markWaiting();
    }
    if (!pending_.empty()) inbound_[pending_.front().ring].markWaiting();
    counters_[C_INBOUND_STALLS] += 1;
  }
  int flags = 0;
  // ringDoorbell false: ring 0's consumer is the calling thread (inline) and reads on at once.
  for (size_t i = 0; i < inbound_.size(); ++i) {
    if (inbound_[i].publish(ringDoorbell || i != SUPERVISOR_RING)) flags |= SERVICE_NOTIFY;
  }
  writeCountersLocked();
  *work = handled > 0 || corrupt > 0 || events || emitted_ > 0;
  return flags;
}

int Reactor::serviceInline(uint32_t host) {
  std::lock_guard<std::mutex> lock(mu_);
  Host* h = destroyed_ ? nullptr : findHost(host);
  if (h == nullptr) return SERVICE_DESTROYED;
  const bool wasSettled = settled_;
  bool work = false;
  bool stalled = false;
  const int flags = passLocked(&work, &stalled, h, false);
  // Work left (budget spent, ring full), or the first peer while the net actor sleeps the quiet
  // sleep: it must come and keep ENet's timers.
  if (!settled_ || (quiet_ && anyPeerLocked())) wake();
  settled_ = wasSettled && settled_;
  return flags;
}

int Reactor::setInline(uint32_t host, bool on) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Host* found = destroyed_ ? nullptr : findHost(host);
    if (found == nullptr) return -1;
    Host& h = *found;
    if (h.inlined != on) {
      epollDel(h.inlined ? inlineEpollFd_.get() : epollFd_.get(), h);
      h.inlined = on;
      epollAdd(h.inlined ? inlineEpollFd_.get() : epollFd_.get(), h);
    }
    fd = static_cast<int>(h.enet->socket);
    hostsChangedLocked();
  }
  wake();  // the net actor rebuilds its poll set
  return fd;
}

int Reactor::flushOutbound() {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || destroyed_) return -1;
  emitted_ = 0;
  uint32_t corrupt = 0;
  for (auto& out : outbound_) {
    out.drain([this](const uint8_t* rec, uint32_t len) { handleOutboundLocked(rec, len); }, &corrupt);
  }
  counters_[C_MALFORMED] += corrupt;
  flushPendingLocked();
  const uint32_t now = enet_time_get();
  for (const uint32_t id : dirty_) {
    Host* h = findHost(id);
    if (h == nullptr || !h->dirty) continue;
    h->dirty = false;
    enet_host_flush(h->enet);
    accountWireLocked(*h);
    // What was just sent may be in flight (a retransmission to check) before any answer comes.
    if (!h->server) h->dueMs = nextDueMs(h->enet, now);
  }
  dirty_.clear();
  writeCountersLocked();
  int flags = 0;
  for (auto& in : inbound_) {
    if (in.publish()) flags |= SERVICE_NOTIFY;
  }
  return flags;
}

bool Reactor::serviceHostLocked(uint32_t index, Host& h, uint32_t* budget, bool* stalled) {
  const uint32_t maxRecord = REC_HEADER_BYTES + h.maxPacketSize;
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
      h.ready = false;  // what is left past ENet's 256 datagrams is reported again
      // A connect or disconnect returns from enet_host_service before its second send: the acks
      // of that datagram (a handshake's last step) would wait for the next pass, inflating the
      // first round trip by up to pollRate.
      if (r > 0 && ev.type != ENET_EVENT_TYPE_RECEIVE) unsent = true;
    }
    if (r < 0) {
      const int e = errno;
      const uint64_t now = nowMs();
      // At most one IN_ERROR per host per second: a persistent failure must not flood the ring.
      if (!h.errorReported || now - h.lastErrorMs >= 1000) {
        h.errorReported = true;
        h.lastErrorMs = now;
        uint8_t rec[REC_HEADER_BYTES + IN_ERROR_BODY];
        writeHeader(rec, IN_ERROR, 0, 0, index, 0, 0);
        wr32(rec + REC_HEADER_BYTES, static_cast<uint32_t>(e != 0 ? e : r));
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
      uint8_t rec[REC_HEADER_BYTES + IN_CONNECT_BODY];
      writeHeader(rec, IN_CONNECT, 0, 0, index, slot, id);
      uint8_t* b = rec + REC_HEADER_BYTES;
      wr32(b, ev.data);
      std::memcpy(b + 4, &ev.peer->address.host, 4);
      wr16(b + 8, ev.peer->address.port);
      wr16(b + 10, static_cast<uint16_t>(ev.peer->channelCount));  // as agreed in the handshake
      emitControl(SUPERVISOR_RING, index, rec, sizeof rec);
      counters_[C_CONNECTS] += 1;
      writeStatsRow(h, slot);
      return;
    }
    case ENET_EVENT_TYPE_DISCONNECT: {
      if (h.peerId[slot] == 0) return;  // never reported as connected (or already forgotten)
      const uint8_t f = h.slotFlags[slot];
      const uint32_t cause = (f & SLOT_REQUESTED)    ? CAUSE_REQUESTED
                             : (f & SLOT_CONNECTED) ? CAUSE_REMOTE
                                                    : CAUSE_CONNECT_FAILED;
      emitDisconnect(index, h, slot, ev.data, cause);
      return;
    }
    case ENET_EVENT_TYPE_RECEIVE: {
      ENetPacket* packet = ev.packet;
      const uint32_t id = h.peerId[slot];
      const size_t len = packet->dataLength;
      if (id != 0 && len <= h.maxPacketSize && !(h.guard && h.guard->onPacket(slot, len, nowMs()))) {
        const uint16_t flags = (packet->flags & ENET_PACKET_FLAG_RELIABLE) ? FLAG_RELIABLE : 0;
        const uint32_t route = h.route[slot];
        const uint32_t recLen = REC_HEADER_BYTES + static_cast<uint32_t>(len);
        if (route & ROUTE_HELD) {
          std::vector<uint8_t> rec(recLen);
          writeHeader(rec.data(), IN_RECEIVE, ev.channelID, flags, index, slot, id);
          std::memcpy(rec.data() + REC_HEADER_BYTES, packet->data, len);
          holds_[holdKey(index, id)].records.push_back(std::move(rec));
        } else {
          uint8_t* p = appendRecord(route, recLen);
          if (p != nullptr) {  // always: the pass checked room for a maximum-size record
            writeHeader(p, IN_RECEIVE, ev.channelID, flags, index, slot, id);
            std::memcpy(p + REC_HEADER_BYTES, packet->data, len);
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

bool Reactor::anyPeerLocked() const {
  for (const auto& h : hosts_) {
    if (h->liveIds > 0) return true;
    // Handshakes in progress have no id yet but need ENet's retransmit timer.
    for (size_t s = 0; s < h->enet->peerCount; ++s) {
      if (h->enet->peers[s].state != ENET_PEER_STATE_DISCONNECTED) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Outbound records

ENetPeer* Reactor::livePeer(Host* h, uint32_t slot, uint32_t peerId) const {
  if (h == nullptr || peerId == 0 || slot >= h->peerId.size() || h->peerId[slot] != peerId) return nullptr;
  return &h->enet->peers[slot];
}

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

// ---------------------------------------------------------------------------------------------
// Routing a peer to a game actor (docs/protocol.md "Routing")

void Reactor::outRouteLocked(uint32_t index, Host* h, const uint8_t* rec, uint32_t len) {
  if (len < REC_HEADER_BYTES + 4) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  const uint32_t ring = rd32(rec + REC_HEADER_BYTES);
  const uint32_t slot = rd32(rec + REC_SLOT);
  const uint32_t peerId = rd32(rec + REC_PEER_ID);
  if (ring == SUPERVISOR_RING || ring >= inbound_.size()) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  if (livePeer(h, slot, peerId) == nullptr) {  // gone first: its disconnect went to the supervisor
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  if (h->route[slot] != SUPERVISOR_RING) {
    counters_[C_MALFORMED] += 1;  // routed once only
    return;
  }
  h->route[slot] = ring | ROUTE_HELD;
  holds_[holdKey(index, peerId)] = Hold{ring, {}};
  const uint32_t attachLen = len - REC_HEADER_BYTES - 4;
  std::vector<uint8_t> attach(REC_HEADER_BYTES + attachLen);
  writeHeader(attach.data(), IN_ATTACH, 0, 0, index, slot, peerId);
  std::memcpy(attach.data() + REC_HEADER_BYTES, rec + REC_HEADER_BYTES + 4, attachLen);
  emitControl(ring, index, attach.data(), static_cast<uint32_t>(attach.size()));
  uint8_t routed[REC_HEADER_BYTES];
  writeHeader(routed, IN_ROUTED, 0, 0, index, slot, peerId);
  emitControl(SUPERVISOR_RING, index, routed, sizeof routed);
}

void Reactor::outRouteDoneLocked(uint32_t index, const uint8_t* rec) {
  const uint32_t slot = rd32(rec + REC_SLOT);
  const uint32_t peerId = rd32(rec + REC_PEER_ID);
  auto it = holds_.find(holdKey(index, peerId));
  if (it == holds_.end()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  const uint32_t ring = it->second.ring;
  for (const auto& held : it->second.records) {
    emitControl(ring, index, held.data(), static_cast<uint32_t>(held.size()));
  }
  holds_.erase(it);
  Host* h = findHost(index);
  if (h != nullptr && slot < h->peerId.size() && h->peerId[slot] == peerId) h->route[slot] = ring;
}

void Reactor::outForwardLocked(uint32_t index, const uint8_t* rec, uint32_t len) {
  auto it = holds_.find(holdKey(index, rd32(rec + REC_PEER_ID)));
  if (it == holds_.end()) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  std::vector<uint8_t> out(rec, rec + len);
  out[REC_KIND] = IN_RECEIVE;
  wr16(out.data() + REC_FLAGS, rd16(rec + REC_FLAGS) & FLAG_RELIABLE);
  emitControl(it->second.ring, index, out.data(), len);
}

void Reactor::outRelayLocked(const uint8_t* rec, uint32_t len) {
  if (len < 2 * REC_HEADER_BYTES) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  std::vector<uint8_t> out(rec + REC_HEADER_BYTES, rec + len);
  wr16(out.data() + REC_FLAGS, rd16(out.data() + REC_FLAGS) | FLAG_RELAYED);
  emitControl(SUPERVISOR_RING, rd32(out.data() + REC_HOST), out.data(), static_cast<uint32_t>(out.size()));
}

// ---------------------------------------------------------------------------------------------
// The guard (guard.h)

int Reactor::interceptDatagram(ENetHost* host, ENetEvent* /*event*/) {
  if (servicedGuard == nullptr || servicedHost != host) return 0;
  return servicedGuard->onDatagram(host, nowMs()) ? 1 : 0;
}

void Reactor::outBanLocked(Host* h, const uint8_t* rec, uint32_t len) {
  if (len < REC_HEADER_BYTES + 8) {
    counters_[C_MALFORMED] += 1;
    return;
  }
  if (h == nullptr || !h->guard) {
    counters_[C_DROPPED_STALE] += 1;
    return;
  }
  uint32_t address;
  std::memcpy(&address, rec + REC_HEADER_BYTES, 4);
  h->guard->ban(address, rd32(rec + REC_HEADER_BYTES + 4), nowMs());
}

void Reactor::emitKicksLocked(uint32_t index, Host& h) {
  for (const auto& [slot, cause] : h.guard->takeKicks()) {
    if (slot >= h.peerId.size() || h.peerId[slot] == 0) continue;  // not a peer the supervisor knows
    uint8_t rec[REC_HEADER_BYTES + 4];
    writeHeader(rec, IN_KICK_REQUEST, 0, 0, index, slot, h.peerId[slot]);
    wr32(rec + REC_HEADER_BYTES, static_cast<uint32_t>(cause));
    emitControl(SUPERVISOR_RING, index, rec, sizeof rec);
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

void Reactor::emitDisconnect(uint32_t index, Host& h, uint32_t slot, uint32_t data, uint32_t cause) {
  const std::string& reason = h.reason[slot];
  std::vector<uint8_t> rec(REC_HEADER_BYTES + IN_DISCONNECT_BODY + reason.size());
  writeHeader(rec.data(), IN_DISCONNECT, 0, 0, index, slot, h.peerId[slot]);
  wr32(rec.data() + REC_HEADER_BYTES, data);
  wr32(rec.data() + REC_HEADER_BYTES + 4, cause);
  std::memcpy(rec.data() + REC_HEADER_BYTES + IN_DISCONNECT_BODY, reason.data(), reason.size());
  // A peer routed to a game actor hears of it there; the actor passes it on to the supervisor.
  emitRouted(index, h, slot, rec.data(), static_cast<uint32_t>(rec.size()));
  counters_[C_DISCONNECTS] += 1;
  forgetSlot(h, slot);
}

void Reactor::assignSlot(Host& h, uint32_t slot, uint32_t peerId) {
  if (h.guard) h.guard->resetSlot(slot, nowMs());
  if (h.peerId[slot] == 0) ++h.liveIds;
  h.peerId[slot] = peerId;
  h.route[slot] = SUPERVISOR_RING;
  h.reason[slot].clear();
  h.processed[slot] = 0;
}

void Reactor::forgetSlot(Host& h, uint32_t slot) {
  if (h.peerId[slot] != 0) --h.liveIds;
  h.peerId[slot] = 0;
  h.slotFlags[slot] = 0;
  h.route[slot] = SUPERVISOR_RING;
  h.reason[slot].clear();
  h.processed[slot] = 0;
  zeroStatsRow(h, slot);
}

// ---------------------------------------------------------------------------------------------
// Tables

void Reactor::writeStatsRow(Host& h, uint32_t slot) {
  const ENetPeer& p = h.enet->peers[slot];
  uint32_t* row = h.stats + slot * STATS_ROW_U32;
  const uint32_t values[14] = {
      p.packetLoss,           p.packetLossVariance,         p.packetLossEpoch,
      p.roundTripTime,        p.roundTripTimeVariance,      p.lastRoundTripTime,
      p.lastRoundTripTimeVariance, p.packetThrottle,        p.packetThrottleLimit,
      p.packetThrottleCounter, p.packetThrottleEpoch,       p.packetThrottleAcceleration,
      p.packetThrottleDeceleration, p.packetThrottleInterval,
  };
  storeRelaxed(row + STATS_STATE, static_cast<uint32_t>(p.state));
  for (uint32_t i = 0; i < STATS_STATISTICS; ++i) storeRelaxed(row + STATS_FIRST_STATISTIC + i, values[i]);
  if (h.guard) {
    const uint64_t queued = queuedBytesOf(h.enet->peers[slot]);
    h.queuedBytes += queued;
    storeRelaxed(row + STATS_QUEUED_BYTES, queued > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(queued));
    storeRelaxed(row + STATS_GENERATION, row[STATS_GENERATION] + 1);
    storeRelaxed(row + STATS_PROCESSED_BYTES, h.processed[slot]);
  }
  storeRelaxed(row + STATS_PEER_ID, h.peerId[slot]);
}

void Reactor::zeroStatsRow(Host& h, uint32_t slot) {
  uint32_t* row = h.stats + slot * STATS_ROW_U32;
  storeRelaxed(row + STATS_PEER_ID, 0);
  for (uint32_t i = 1; i < STATS_ROW_U32; ++i) storeRelaxed(row + i, 0);
}

void Reactor::statsPassLocked() {
  counters_[C_HOST_VISITS] += static_cast<double>(hosts_.size());
  const uint64_t now = nowMs();
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
                       (f & SLOT_REQUESTED)    ? CAUSE_REQUESTED
                       : (f & SLOT_CONNECTED) ? CAUSE_REMOTE
                                              : CAUSE_CONNECT_FAILED);
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
  for (const auto& h : hosts_) {
    if (!h->guard) continue;
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
  for (uint32_t i = 0; i < C_COUNT; ++i) {
    uint64_t bits;
    std::memcpy(&bits, &counters_[i], 8);
    __atomic_store_n(reinterpret_cast<uint64_t*>(countersMem_ + i), bits, __ATOMIC_RELAXED);
  }
}

// ---------------------------------------------------------------------------------------------
// Registry

namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<uint32_t, std::shared_ptr<Reactor>> reactors;
  uint32_t nextId = 1;
};

// Leaked on purpose: worker threads may still be inside service() while the process exits.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

}  // namespace

uint32_t registerReactor(std::shared_ptr<Reactor> reactor) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const uint32_t id = r.nextId++;
  r.reactors.emplace(id, std::move(reactor));
  return id;
}

std::shared_ptr<Reactor> findReactor(uint32_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.reactors.find(id);
  return it == r.reactors.end() ? nullptr : it->second;
}

std::shared_ptr<Reactor> unregisterReactor(uint32_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.reactors.find(id);
  if (it == r.reactors.end()) return nullptr;
  std::shared_ptr<Reactor> reactor = std::move(it->second);
  r.reactors.erase(it);
  return reactor;
}

void ensureEnetInitialized() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = enet_initialize(); });
  if (result != 0) throw ReactorError("ERR_CANT_CREATE", "enet_initialize failed");
}

}  // namespace enet_actor
