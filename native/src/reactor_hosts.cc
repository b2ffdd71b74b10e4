// Host lifecycle and the slot table, under the reactor's mutex on whichever thread calls
// (createHost: the JS thread creating a host; the rest: the thread running a pass). Creates, binds
// (SO_REUSEPORT shards) and destroys ENet hosts, and keeps each slot's peer id, route and flags.
#include "reactor.h"

#include "compress.h"
#include "records.h"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>

namespace enet_actor {

namespace {

// enet_host_service reads at most this many datagrams per call (docs/enet-facts.md "Servicing a host").
constexpr size_t ENET_MAX_DATAGRAMS = 256;

// Socket buffers asked for a server host's socket (each direction).
constexpr int SERVER_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

// A server host whose socket joins a SO_REUSEPORT group (docs/enet-facts.md "SO_REUSEPORT":
// enet_host_create offers no such option, so the host is created unbound and bound here). nullptr
// with errno set on failure.
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
// Hosts

Reactor::Host* Reactor::findHost(uint32_t id) const {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : it->second;
}

void Reactor::markDirty(Host& h) {
  if (h.dirty) return;
  h.dirty = true;
  dirty_.push_back(h.id);
}

HostCreated Reactor::createHost(const HostOptions& o) {
  HostCreated result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) throw ReactorError("ERR_INVALID_PARAMETER", "the reactor is destroyed");
    if (RECORD_HEADER_BYTES + static_cast<uint64_t>(o.maxPacketSize) > ring::maxPayload(inCapacity_)) {
      throw ReactorError("ERR_INVALID_PARAMETER",
                         "maxPacketSize " + std::to_string(o.maxPacketSize) +
                             " does not fit the inbound ring (at most " +
                             std::to_string(ring::maxPayload(inCapacity_) - RECORD_HEADER_BYTES) +
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
      // Every peer's datagrams reach this one socket (docs/enet-facts.md "Socket buffers"): ENet's
      // 256 KiB buffers hold a few hundred small datagrams, a few milliseconds of a thousand busy
      // peers, and what overflows is dropped by the kernel and retransmitted by ENet (seconds of
      // RTT). The kernel caps the request at net.core.rmem_max / wmem_max; a failure leaves ENet's
      // size.
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
    // dispatched yet), not ENet's 32 MiB default (docs/enet-facts.md "Waiting data and fragment
    // pinning"). Past it ENet refuses the peer's incoming commands. We dispatch everything before
    // reading again, and one read takes at most ENET_MAX_DATAGRAMS datagrams of at most
    // ENET_PROTOCOL_MAXIMUM_MTU bytes, so this never cuts legitimate traffic.
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
    h->lostSeen.assign(enet->peerCount, 0);
    h->session.assign(enet->peerCount, nullptr);
    if (o.server) h->sessionLimit = o.sessionOutboxBytes;
    h->timeoutLimit = o.timeoutLimit;
    h->timeoutMinimumMs = o.timeoutMinimumMs;
    h->timeoutMaximumMs = o.timeoutMaximumMs;
    if (o.server) h->guard = std::make_unique<Guard>(o.guard, enet, o.maxPacketSize);
    for (uint32_t s = 0; s < enet->peerCount; ++s) zeroStatsRow(*h, s);
    h->allSlots = enet->peerCount;
    if (o.server) fitPeerWindow(*h);
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
  maxRecord_ = RECORD_HEADER_BYTES;
  guardedHosts_.clear();
  for (auto& h : hosts_) {
    if (records::receiveBytes(h->maxPacketSize) > maxRecord_) maxRecord_ = records::receiveBytes(h->maxPacketSize);
    if (h->inlined) ++inlineHosts_;
    if (h->guard) guardedHosts_.push_back(h.get());
  }
  counters_[C_HOSTS] = static_cast<double>(hosts_.size());
}

// ENet walks peers[0 .. peerCount) on every service pass and flush (twice in enet_host_service), so a
// server host's peerCount is kept to the highest slot in use plus the most connects one pass can
// bring: ENet gives a connect the lowest free slot, and one enet_host_service reads at most
// ENET_MAX_DATAGRAMS datagrams, each at most one connect — a connect always finds a slot inside the
// window. Slots past it are disconnected (ENet ignores datagrams naming them, as it would anyway).
// Measured with the game of bench/game.mjs (docs/benchmarks.md): maxPeers 4,000, 1,000 players.
void Reactor::fitPeerWindow(Host& h) {
  ENetHost* enet = h.enet;
  size_t high = enet->peerCount;
  while (high > 0 && enet->peers[high - 1].state == ENET_PEER_STATE_DISCONNECTED) --high;
  enet->peerCount = std::min(h.allSlots, high + ENET_MAX_DATAGRAMS);
}

// Every slot again, before ENet resets and frees them all.
void Reactor::destroyEnetHost(Host& h) {
  h.enet->peerCount = h.allSlots;
  enet_host_destroy(h.enet);
  h.enet = nullptr;
}

void Reactor::destroyHostLocked(Host* h) {
  const uint32_t id = h->id;
  enet_host_flush(h->enet);
  accountWireLocked(*h);
  epollDel(h->inlined ? inlineEpollFd_.get() : epollFd_.get(), *h);
  destroyEnetHost(*h);
  h->enet = nullptr;
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->host == id ? pending_.erase(it) : it + 1;
  }
  for (auto it = holds_.begin(); it != holds_.end();) {
    it = (it->first >> 32) == id ? holds_.erase(it) : std::next(it);
  }
  freeHostSessionsLocked(id);
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
  destroyedHosts_.push_back(id);
}

std::vector<uint32_t> Reactor::takeDestroyedHosts() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint32_t> ids;
  ids.swap(destroyedHosts_);
  return ids;
}

void Reactor::destroy() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (destroyed_) return;
    for (auto& h : hosts_) {
      enet_host_flush(h->enet);
      epollDel(h->inlined ? inlineEpollFd_.get() : epollFd_.get(), *h);
      destroyEnetHost(*h);
    }
    hosts_.clear();
    byId_.clear();
    dirty_.clear();
    pending_.clear();
    holds_.clear();
    destroyedHosts_.clear();  // the environments release everything of a destroyed reactor
    sessions_.clear();  // releases their packets
    ackQueue_.clear();
    sessionBytes_ = 0;
    hostsChangedLocked();
    destroyed_ = true;
  }
  wake();
}

// ---------------------------------------------------------------------------------------------
// Slots

ENetPeer* Reactor::livePeer(Host* h, uint32_t slot, uint32_t peerId) const {
  if (h == nullptr || peerId == 0 || slot >= h->peerId.size() || h->peerId[slot] != peerId) return nullptr;
  return &h->enet->peers[slot];
}

void Reactor::assignSlot(Host& h, uint32_t slot, uint32_t peerId) {
  if (h.guard) h.guard->resetSlot(slot, nowMs());
  if (h.peerId[slot] == 0) ++h.liveIds;
  h.peerId[slot] = peerId;
  h.route[slot] = SUPERVISOR_RING;
  h.reason[slot].clear();
  h.processed[slot] = 0;
  h.lostSeen[slot] = 0;
}

void Reactor::forgetSlot(Host& h, uint32_t slot) {
  if (h.peerId[slot] != 0) --h.liveIds;
  h.peerId[slot] = 0;
  h.slotFlags[slot] = 0;
  h.route[slot] = SUPERVISOR_RING;
  h.reason[slot].clear();
  h.processed[slot] = 0;
  h.lostSeen[slot] = 0;
  zeroStatsRow(h, slot);
}

}  // namespace enet_actor
