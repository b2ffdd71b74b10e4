// The process-wide registry of reactors (id -> shared_ptr<Reactor>, any JS thread, its own mutex),
// the parking map of sessions between an export and a resume (session.h; its own mutex), and the
// once-per-process enet_initialize.
#include <map>
#include "reactor.h"
#include "session.h"

#include <mutex>
#include <unordered_map>

namespace enet_actor {

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

namespace {

struct ParkingMap {
  std::mutex mu;
  std::map<std::pair<uint64_t, uint32_t>, std::unique_ptr<Session>> sessions;
};

// Leaked on purpose, as the registry.
ParkingMap& parking() {
  static ParkingMap* p = new ParkingMap();
  return *p;
}

}  // namespace

void parkSession(std::unique_ptr<Session> session) {
  std::unique_ptr<Session> replaced;  // freed outside the lock
  ParkingMap& p = parking();
  std::lock_guard<std::mutex> lock(p.mu);
  std::unique_ptr<Session>& at = p.sessions[{session->group, session->peerId()}];
  replaced = std::move(at);
  at = std::move(session);
}

std::unique_ptr<Session> unparkSession(uint64_t group, uint32_t peerId) {
  ParkingMap& p = parking();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.sessions.find({group, peerId});
  if (it == p.sessions.end()) return nullptr;
  std::unique_ptr<Session> s = std::move(it->second);
  p.sessions.erase(it);
  return s;
}

bool isSessionParked(uint64_t group, uint32_t peerId) {
  ParkingMap& p = parking();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.sessions.count({group, peerId}) != 0;
}

void ensureEnetInitialized() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = enet_initialize(); });
  if (result != 0) throw ReactorError("ERR_CANT_CREATE", "enet_initialize failed");
}

}  // namespace enet_actor
