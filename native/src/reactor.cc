// Scheduling, on the net actor's thread (service) and on producers' and the consumer's threads
// (flushOutbound, serviceInline, setInline): construction and destruction, passes over the hosts,
// the poll/epoll/eventfd sleep and wake-up, and when a client host is next due.
#include "reactor.h"

#include "records.h"

#include <errno.h>
#include <enet/time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace enet_actor {

namespace {

// epoll data of the eventfd (host ids are u32).
constexpr uint64_t EVENTFD_TAG = ~uint64_t{0};
// The longest a client host goes unserviced (a safety net over nextDueMs).
constexpr uint32_t MAX_IDLE_SERVICE_MS = 1000;
// Readable sockets taken from epoll per pass.
constexpr int READY_BATCH = 256;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction / destruction

Reactor::Reactor(const std::vector<SharedMemory>& inbound, const std::vector<SharedMemory>& outbound,
                 SharedMemory counters) {
  auto ringView = [](SharedMemory m, const char* name) {
    if (m.data == nullptr || m.length < ring::HEADER_BYTES + ring::MIN_CAPACITY) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         std::string(name) + " ring is too small (need " + std::to_string(ring::HEADER_BYTES) +
                             " + at least " + std::to_string(ring::MIN_CAPACITY) + " bytes)");
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
                             ") must be a power of two >= " + std::to_string(ring::MIN_CAPACITY) + " with " +
                             std::to_string(ring::HEADER_BYTES) + " + CAPACITY <= byteLength (" +
                             std::to_string(m.length) + ")");
    }
    return ring::View(m.data, static_cast<uint32_t>(capacity));
  };
  if (inbound.empty() || outbound.empty() || inbound.size() > MAX_RINGS || outbound.size() > MAX_RINGS) {
    throw ReactorError("ERR_INVALID_PARAMETER",
                       "a reactor needs 1 to " + std::to_string(MAX_RINGS) + " inbound and outbound rings");
  }
  std::vector<ring::View> in;
  std::vector<ring::View> out;
  for (const SharedMemory& m : inbound) in.push_back(ringView(m, "inbound"));
  for (const SharedMemory& m : outbound) out.push_back(ringView(m, "outbound"));
  if (counters.data == nullptr || counters.length < COUNTERS_BYTES ||
      reinterpret_cast<uintptr_t>(counters.data) % 8 != 0) {
    throw ReactorError("ERR_INVALID_PARAMETER",
                       "counters table must be >= " + std::to_string(COUNTERS_BYTES) + " bytes, 8-aligned");
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
    if (h->enet) destroyEnetHost(*h);
  }
  hosts_.clear();
  byId_.clear();
}

// ---------------------------------------------------------------------------------------------
// Sleep and wake-up: the epoll sets and the eventfd

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
  epoll_event events[READY_BATCH];
  const int n = ::epoll_wait(epollFd_.get(), events, READY_BATCH, 0);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == EVENTFD_TAG) {
      drainEventFd();
      continue;
    }
    Host* h = findHost(static_cast<uint32_t>(events[i].data.u64));
    if (h != nullptr) h->ready = true;
  }
  // More than READY_BATCH ready: level-triggered, the rest are reported by the next pass.
}

bool Reactor::clientHostDueLocked(const Host& h, uint32_t now) const {
  return h.ready || h.dirty || ENET_TIME_GREATER_EQUAL(now, h.dueMs) || !enet_list_empty(&h.enet->dispatchQueue);
}

// When ENet next has something to do for this host without a datagram arriving: at once for
// queued acknowledgements or commands, else the earliest retransmission check (nextTimeout, while
// reliable commands are in flight) or ping (pingInterval after the last datagram received). These
// are the conditions of enet_protocol_send_outgoing_commands (docs/enet-facts.md "Retransmission,
// pings and timeouts").
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
  counters_[C_MALFORMED_RECORDS] += corrupt;
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
    if (inbound_[i].publish(ringDoorbell || i != SUPERVISOR_RING)) flags |= SERVICE_NOTIFY_INBOUND;
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
  counters_[C_MALFORMED_RECORDS] += corrupt;
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
    if (in.publish()) flags |= SERVICE_NOTIFY_INBOUND;
  }
  return flags;
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

}  // namespace enet_actor
