// The N-API surface of enet_actor: argument checking and JS <-> C++ conversion only.
// Everything else lives in the Reactor (reactor.h; reactor*.cc by role). See docs/protocol.md
// ("Native module API").
//
// JS argument types
// -----------------
// "shared memory" below means: a SharedArrayBuffer, or any TypedArray / DataView whose buffer is
// a SharedArrayBuffer (then the view's own bytes are used: its byteOffset is where the table or
// ring header starts). Plain ArrayBuffers are refused (they can be detached or moved; the
// native side keeps raw pointers). JS must keep the memory alive until reactorDestroy().
//
//   reactorCreate(inbound: ring | ring[], outbound: ring | ring[], counters: shared memory): number
//       a ring: shared memory with a 256-byte header whose CAPACITY slot (Int32 #32) is already
//       written (a power of two >= 65536, and 256 + CAPACITY <= byteLength), 8-aligned. Ring 0 of
//       each direction is the supervisor's, ring k game actor k-1's (1 to 256 rings each).
//       counters: >= proto::COUNTERS_BYTES (COUNTERS_SLOTS = 32 f64: 256 bytes), 8-aligned.
//   hostCreate(reactorId: number, options: {
//         address?: string,           // dotted IPv4, default "0.0.0.0"; ignored for client hosts
//         port?: number,              // integer 0..65535; undefined = client host (no bind)
//         peers: number,              // integer 1..4095
//         channels: number,           // integer 1..255
//         compression: number,        // integer 0..4: none, range coder, FastLZ, zlib, zstd
//         maxPacketSize: number,      // integer >= 1; 16 + it must be <= inbound capacity/2 - 8
//         stats: shared memory,       // >= peers * STATS_ROW_BYTES (20 u32: 80 bytes), 4-aligned
//         guard?, reusePort?, peerIds?,  // server hosts (see hostCreate below)
//         peerTimeout?: { limit?, minimumMs?, maximumMs? }, // enet_peer_timeout for every peer as it connects (0/unset = ENet's default)
//         sessionOutboxBytes?: number, // server hosts: integer 0..2^32-1, each session's outbox bound; 0 = no sessions
//       }): { host: number, port: number }
//   service(reactorId: number, timeoutMs: number): number   // bits: 1 notify, 2 destroyed
//       timeoutMs is clamped to 0..2^31-1 (NaN -> 0). An unknown id returns 2.
//   flushOutbound(reactorId: number): number  // -1: a thread is in service() (wake it), else bits
//   attachInline(reactorId: number, host: number, onServiced: (bits: number) => void): undefined
//       From now on this thread's event loop watches the host's socket; when it is readable, one
//       inline pass (Reactor::serviceInline) runs on this thread and onServiced(bits) is called
//       right after (the inbound ring has the new records, published without a doorbell).
//   detachInline(reactorId: number, host: number): undefined   // idempotent; before destroying
//   setInlineReferenced(reactorId: number, referenced: boolean): undefined  // uv_ref / uv_unref
//   wake(reactorId: number): undefined                       // unknown id: no-op
//   reactorDestroy(reactorId: number): undefined             // idempotent
//
// Errors: a wrong JS type -> TypeError, a value out of range -> RangeError (both with
// code 'ERR_INVALID_PARAMETER'); ENet / OS failures -> Error with code 'ERR_CANT_CREATE'
// (thrown as ReactorError, reactor.h).
//
// Lifetime of the shared memory: native code keeps raw pointers into it. As a safety net (a
// forgotten SharedArrayBuffer would otherwise be collected while native code still writes into
// it: silent heap corruption), every environment keeps a strong reference to each buffer it hands
// to reactorCreate until that reactor is destroyed (released by reactorDestroy in the same
// environment, by a later call of this environment once the reactor is gone, or at the
// environment's teardown), and to each buffer it hands to hostCreate until that host is destroyed
// (released by this environment's next hostCreate on that reactor: a client network creating and
// destroying hosts all day keeps only its live hosts' buffers). JS should still own its buffers for as long as the reactor lives:
// a buffer handed over by a worker that then exits is kept alive only by the JS that still has it.
//
// No static JS state: each environment (main thread, every worker) gets its own instance data;
// the only process-wide state is the reactor registry (registry.cc).

#include <napi.h>
#include <uv.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "compress.h"
#include "reactor.h"

namespace {

using enet_actor::HostCreated;
using enet_actor::HostOptions;
using enet_actor::Reactor;
using enet_actor::ReactorError;
using enet_actor::SharedMemory;

constexpr const char* INVALID = "ERR_INVALID_PARAMETER";

template <typename E>
[[noreturn]] void throwWithCode(Napi::Env env, const char* code, const std::string& message) {
  E err = E::New(env, message);
  err.Value().Set("code", Napi::String::New(env, code));
  throw err;
}

[[noreturn]] void typeError(Napi::Env env, const std::string& message) {
  throwWithCode<Napi::TypeError>(env, INVALID, message);
}

[[noreturn]] void rangeError(Napi::Env env, const std::string& message) {
  throwWithCode<Napi::RangeError>(env, INVALID, message);
}

[[noreturn]] void reactorError(Napi::Env env, const ReactorError& e) {
  throwWithCode<Napi::Error>(env, e.code(), e.what());
}

// A reactor id: must be a number; anything that is not a valid id maps to 0 (never registered).
uint32_t reactorIdArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) typeError(info.Env(), "reactorId must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 4294967295.0) || std::floor(d) != d) return 0;
  return static_cast<uint32_t>(d);
}

// An integer in [lo, hi]; `name` for messages.
uint32_t integerValue(Napi::Env env, Napi::Value v, const std::string& name, double lo, double hi) {
  if (!v.IsNumber()) typeError(env, name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || std::floor(d) != d) {
    rangeError(env, name + " must be an integer from " + std::to_string(static_cast<uint64_t>(lo)) +
                        " to " + std::to_string(static_cast<uint64_t>(hi)));
  }
  return static_cast<uint32_t>(d);
}

size_t elementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 0;
  }
}

// See "shared memory" above. In Node 20, napi_get_arraybuffer_info refuses a SharedArrayBuffer,
// so a bare SharedArrayBuffer is wrapped in a Uint8Array and read with napi_get_typedarray_info.
SharedMemory sharedMemoryArg(Napi::Env env, Napi::Value v, const std::string& name) {
  Napi::Object global = env.Global();
  Napi::Value sabCtorValue = global.Get("SharedArrayBuffer");
  if (!sabCtorValue.IsFunction()) typeError(env, "SharedArrayBuffer is not available in this context");
  Napi::Function sabCtor = sabCtorValue.As<Napi::Function>();
  const std::string expected = name + " must be a SharedArrayBuffer or a TypedArray/DataView over one";

  Napi::Value view = v;
  if (!v.IsTypedArray() && !v.IsDataView()) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(sabCtor)) typeError(env, expected);
    view = global.Get("Uint8Array").As<Napi::Function>().New({v});
  }

  SharedMemory mem;
  napi_value buffer = nullptr;
  void* data = nullptr;
  size_t offset = 0;
  if (view.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, view, &type, &length, &data, &buffer, &offset),
                         SharedMemory());
    const size_t size = elementSize(type);
    if (size == 0) typeError(env, expected);
    mem.length = length * size;
  } else {
    size_t length = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_dataview_info(env, view, &length, &data, &buffer, &offset),
                         SharedMemory());
    mem.length = length;
  }
  if (!Napi::Value(env, buffer).As<Napi::Object>().InstanceOf(sabCtor)) typeError(env, expected);
  mem.data = static_cast<uint8_t*>(data);
  return mem;
}

// Whether this environment's event loop is waiting, told to a reactor whose hosts it watches: one
// pair of handles per reactor, shared by its inline hosts (a client network has a thousand, and a
// pair per host ran two thousand callbacks per loop turn: ~10% of a load test's CPU samples under perf).
struct LoopWatch {
  uv_prepare_t beforeWait;  // the loop is about to wait: its inline sockets are watched
  uv_check_t afterWait;     // the loop runs callbacks: busy, the net actor watches them too
  int open = 0;             // handles not closed yet
  int users = 0;            // InlineWatches of this reactor in this environment
  std::shared_ptr<Reactor> reactor;

  void close() {
    reactor->setConsumerWaiting(false);
    uv_prepare_stop(&beforeWait);
    uv_check_stop(&afterWait);
    auto closed = [](uv_handle_t* h) {
      LoopWatch* w = static_cast<LoopWatch*>(h->data);
      if (--w->open == 0) delete w;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&beforeWait), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&afterWait), closed);
  }
};

// A host socket watched by this environment's event loop (attachInline).
struct InlineWatch {
  uv_poll_t handle;
  napi_env env = nullptr;
  std::shared_ptr<Reactor> reactor;
  uint32_t reactorId = 0;
  uint32_t host = 0;
  struct EnvData* owner = nullptr;
  LoopWatch* loop = nullptr;  // its reactor's, shared
  Napi::FunctionReference onServiced;
  std::unique_ptr<Napi::AsyncContext> context;

  static uint64_t key(uint32_t reactorId, uint32_t host) { return (uint64_t{reactorId} << 32) | host; }

  // Stops watching; the memory goes once libuv has closed the handle. `envEnding`: called by the
  // environment's cleanup hook, while JS still exists but the close callback may run after it is
  // gone, so the JS references go now (never from inside onServiced, which may itself detach).
  void close(bool envEnding = false);
};

// Per-environment data: the buffers this environment handed to each reactor (see the top), and
// the sockets its event loop watches.
struct EnvData {
  struct Kept {
    std::vector<Napi::Reference<Napi::Value>> buffers;  // the reactor's rings and counters
    std::unordered_map<uint32_t, std::vector<Napi::Reference<Napi::Value>>> hosts;  // by host id
  };
  std::unordered_map<uint32_t, Kept> keep;
  std::unordered_map<uint64_t, InlineWatch*> watches;
  std::unordered_map<uint32_t, LoopWatch*> loops;  // by reactor id, while it has watches here

  ~EnvData() {
    // close() takes each watch's share of its LoopWatch (the last one closes it): not `watches`.
    for (auto& entry : watches) entry.second->close();
  }

  void hold(uint32_t id, Napi::Value v) { keep[id].buffers.push_back(Napi::Persistent(v)); }
  void holdForHost(uint32_t id, uint32_t host, Napi::Value v) { keep[id].hosts[host].push_back(Napi::Persistent(v)); }
  void release(uint32_t id) { keep.erase(id); }
  // Drops the references of the reactor's hosts destroyed since (native no longer points into them).
  void releaseDestroyedHosts(uint32_t id, Reactor& reactor) {
    const std::vector<uint32_t> gone = reactor.takeDestroyedHosts();
    auto it = keep.find(id);
    if (it == keep.end()) return;
    for (uint32_t host : gone) it->second.hosts.erase(host);
  }
  // Drops the references of reactors destroyed from another environment.
  void sweep() {
    for (auto it = keep.begin(); it != keep.end();) {
      it = enet_actor::findReactor(it->first) ? std::next(it) : keep.erase(it);
    }
  }
};

EnvData& envData(Napi::Env env) { return *env.GetInstanceData<EnvData>(); }

void InlineWatch::close(bool envEnding) {
  if (envEnding) {
    onServiced.Reset();
    context.reset();
  }
  uv_poll_stop(&handle);
  if (--loop->users == 0) {
    owner->loops.erase(reactorId);
    loop->close();
  }
  loop = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle), [](uv_handle_t* h) { delete static_cast<InlineWatch*>(h->data); });
}

// A thread that ends with a socket attached (a worker, or the process exiting with a server
// running) closes its watch while its loop and JS still exist: cleanup hooks run before the
// environment's loop and instance data go (in reverse order of registration, so this one before
// N-API's own). Closing from the instance data's destructor crashed in napi_async_destroy.
void OnEnvCleanup(void* arg) {
  InlineWatch* w = static_cast<InlineWatch*>(arg);
  w->owner->watches.erase(InlineWatch::key(w->reactorId, w->host));
  w->reactor->setInline(w->host, false);
  w->close(true);
}

std::shared_ptr<Reactor> existingReactor(Napi::Env env, uint32_t id) {
  std::shared_ptr<Reactor> r = enet_actor::findReactor(id);
  if (!r) {
    throwWithCode<Napi::Error>(env, INVALID, "reactor " + std::to_string(id) + " does not exist (destroyed?)");
  }
  return r;
}

// ---- reactorCreate(inbound, outbound, counters): number
// One ring, or an array of rings (ring 0 first).
std::vector<SharedMemory> ringsArg(Napi::Env env, Napi::Value v, const std::string& name) {
  std::vector<SharedMemory> rings;
  if (!v.IsArray()) {
    rings.push_back(sharedMemoryArg(env, v, name));
    return rings;
  }
  Napi::Array list = v.As<Napi::Array>();
  if (list.Length() == 0 || list.Length() > enet_actor::proto::MAX_RINGS) {
    rangeError(env, name + " must list 1 to 256 rings");
  }
  for (uint32_t i = 0; i < list.Length(); ++i) {
    rings.push_back(sharedMemoryArg(env, list.Get(i), name + "[" + std::to_string(i) + "]"));
  }
  return rings;
}

Napi::Value ReactorCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<SharedMemory> inbound = ringsArg(env, info[0], "inbound");
  const std::vector<SharedMemory> outbound = ringsArg(env, info[1], "outbound");
  const SharedMemory counters = sharedMemoryArg(env, info[2], "counters");
  std::shared_ptr<Reactor> reactor;
  try {
    enet_actor::ensureEnetInitialized();
    reactor = std::make_shared<Reactor>(inbound, outbound, counters);
  } catch (const ReactorError& e) {
    reactorError(env, e);
  }
  const uint32_t id = enet_actor::registerReactor(std::move(reactor));
  EnvData& data = envData(env);
  data.sweep();
  data.hold(id, info[0]);
  data.hold(id, info[1]);
  data.hold(id, info[2]);
  return Napi::Number::New(env, id);
}

// A number >= 0 (finite), or the default when undefined.
double nonNegative(Napi::Env env, Napi::Object o, const char* name, double fallback) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) typeError(env, std::string("options.guard.") + name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || !std::isfinite(d)) rangeError(env, std::string("options.guard.") + name + " must be a finite number >= 0");
  return d;
}

// options.guard (server hosts): see guard.h. 0 turns a rate limit off.
enet_actor::GuardOptions guardOptions(Napi::Env env, Napi::Object o) {
  enet_actor::GuardOptions g;
  auto count = [&](const char* name, uint32_t fallback) {
    const double d = nonNegative(env, o, name, fallback);
    if (d > 4294967295.0 || std::floor(d) != d) rangeError(env, std::string("options.guard.") + name + " must be an integer");
    return static_cast<uint32_t>(d);
  };
  g.maxPeersPerAddress = count("maxPeersPerAddress", g.maxPeersPerAddress);
  g.maxPendingConnects = count("maxPendingConnects", g.maxPendingConnects);
  g.maxPendingPerAddress = count("maxPendingPerAddress", g.maxPendingPerAddress);
  g.handshakeTimeoutMs = count("handshakeTimeoutMs", g.handshakeTimeoutMs);
  g.connectPerSecond = nonNegative(env, o, "connectPerSecond", g.connectPerSecond);
  g.connectBurst = nonNegative(env, o, "connectBurst", g.connectBurst);
  g.packetsPerSecond = nonNegative(env, o, "packetsPerSecond", g.packetsPerSecond);
  g.bytesPerSecond = nonNegative(env, o, "bytesPerSecond", g.bytesPerSecond);
  g.burstSeconds = nonNegative(env, o, "burstSeconds", g.burstSeconds);
  g.disconnectAfterMs = count("disconnectAfterMs", g.disconnectAfterMs);
  Napi::Value trusted = o.Get("trusted");
  if (!trusted.IsUndefined()) {
    if (!trusted.IsArray()) typeError(env, "options.guard.trusted must be an array of dotted IPv4 addresses");
    Napi::Array list = trusted.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value v = list.Get(i);
      ENetAddress address;
      if (!v.IsString() || enet_address_set_host_ip(&address, v.As<Napi::String>().Utf8Value().c_str()) != 0) {
        typeError(env, "options.guard.trusted must be an array of dotted IPv4 addresses");
      }
      g.trusted.push_back(address.host);
    }
  }
  return g;
}

// ---- hostCreate(reactorId, options): { host, port }
Napi::Value HostCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t id = reactorIdArg(info, 0);
  if (!info[1].IsObject()) typeError(env, "options must be an object");
  Napi::Object o = info[1].As<Napi::Object>();

  HostOptions opt;
  Napi::Value port = o.Get("port");
  opt.server = !port.IsUndefined();
  if (opt.server) {
    opt.port = static_cast<uint16_t>(integerValue(env, port, "options.port", 0, 65535));
    Napi::Value address = o.Get("address");
    if (address.IsUndefined() || address.IsNull()) {
      opt.address = "0.0.0.0";
    } else if (address.IsString()) {
      opt.address = address.As<Napi::String>().Utf8Value();
    } else {
      typeError(env, "options.address must be a string");
    }
  }
  opt.peers = integerValue(env, o.Get("peers"), "options.peers", 1, enet_actor::proto::ENET_MAX_PEERS);
  opt.channels = integerValue(env, o.Get("channels"), "options.channels", 1, enet_actor::proto::ENET_MAX_CHANNELS);
  opt.compression = integerValue(env, o.Get("compression"), "options.compression", 0,
                               enet_actor::compress::MODE_LAST);
  opt.maxPacketSize = integerValue(env, o.Get("maxPacketSize"), "options.maxPacketSize", 1, 1u << 30);
  Napi::Value stats = o.Get("stats");
  opt.stats = sharedMemoryArg(env, stats, "options.stats");
  const uint64_t statsNeeded = static_cast<uint64_t>(opt.peers) * enet_actor::proto::STATS_ROW_BYTES;
  if (opt.stats.length < statsNeeded) {
    rangeError(env, "options.stats must be at least peers * " +
                        std::to_string(enet_actor::proto::STATS_ROW_BYTES) + " = " + std::to_string(statsNeeded) +
                        " bytes (got " + std::to_string(opt.stats.length) + ")");
  }
  if (reinterpret_cast<uintptr_t>(opt.stats.data) % 4 != 0) rangeError(env, "options.stats must be 4-aligned");
  Napi::Value guard = o.Get("guard");
  if (opt.server && guard.IsObject()) opt.guard = guardOptions(env, guard.As<Napi::Object>());
  Napi::Value reusePort = o.Get("reusePort");
  if (opt.server && !reusePort.IsUndefined()) {
    if (!reusePort.IsBoolean()) typeError(env, "options.reusePort must be a boolean");
    opt.reusePort = reusePort.As<Napi::Boolean>().Value();
  }
  Napi::Value sessionOutboxBytes = o.Get("sessionOutboxBytes");
  if (opt.server && !sessionOutboxBytes.IsUndefined()) {
    opt.sessionOutboxBytes = integerValue(env, sessionOutboxBytes, "options.sessionOutboxBytes", 0, 4294967295.0);
  }
  Napi::Value peerTimeout = o.Get("peerTimeout");
  if (!peerTimeout.IsUndefined()) {
    if (!peerTimeout.IsObject()) typeError(env, "options.peerTimeout must be an object");
    Napi::Object t = peerTimeout.As<Napi::Object>();
    auto field = [&](const char* name) -> uint32_t {
      Napi::Value v = t.Get(name);
      return v.IsUndefined() ? 0 : integerValue(env, v, std::string("options.peerTimeout.") + name, 0, 4294967295.0);
    };
    opt.timeoutLimit = field("limit");
    opt.timeoutMinimumMs = field("minimumMs");
    opt.timeoutMaximumMs = field("maximumMs");
  }
  Napi::Value peerIds = o.Get("peerIds");
  if (opt.server && !peerIds.IsUndefined()) {
    opt.peerIds = sharedMemoryArg(env, peerIds, "options.peerIds");
    if (opt.peerIds.length < 4 || reinterpret_cast<uintptr_t>(opt.peerIds.data) % 4 != 0) {
      rangeError(env, "options.peerIds must be at least 4 bytes, 4-aligned");
    }
  }

  std::shared_ptr<Reactor> reactor = existingReactor(env, id);
  envData(env).releaseDestroyedHosts(id, *reactor);
  HostCreated created;
  try {
    created = reactor->createHost(opt);
  } catch (const ReactorError& e) {
    reactorError(env, e);
  }
  envData(env).holdForHost(id, created.host, stats);
  if (opt.peerIds.data != nullptr) envData(env).holdForHost(id, created.host, peerIds);
  Napi::Object result = Napi::Object::New(env);
  result.Set("host", Napi::Number::New(env, created.host));
  result.Set("port", Napi::Number::New(env, created.port));
  return result;
}

// ---- service(reactorId, timeoutMs): number
Napi::Value Service(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t id = reactorIdArg(info, 0);
  if (!info[1].IsNumber()) typeError(env, "timeoutMs must be a number");
  double t = info[1].As<Napi::Number>().DoubleValue();
  int timeoutMs = 0;
  if (t > 0) timeoutMs = t >= static_cast<double>(std::numeric_limits<int>::max())
                             ? std::numeric_limits<int>::max()
                             : static_cast<int>(t);
  std::shared_ptr<Reactor> reactor = enet_actor::findReactor(id);
  if (!reactor) return Napi::Number::New(env, enet_actor::proto::SERVICE_DESTROYED);
  return Napi::Number::New(env, reactor->service(timeoutMs));
}

// ---- flushOutbound(reactorId): number   // -1 busy, else service bits
Napi::Value FlushOutbound(const Napi::CallbackInfo& info) {
  const uint32_t id = reactorIdArg(info, 0);
  std::shared_ptr<Reactor> reactor = enet_actor::findReactor(id);
  return Napi::Number::New(info.Env(), reactor ? reactor->flushOutbound() : -1);
}

// ---- attachInline(reactorId, host, onServiced): undefined
void OnSocketReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  InlineWatch* w = static_cast<InlineWatch*>(handle->data);
  const int bits = w->reactor->serviceInline(w->host);
  if (bits & enet_actor::proto::SERVICE_DESTROYED) uv_poll_stop(handle);  // its socket is gone
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  try {
    // `w` may be detached (closed) by the callback: not touched afterwards.
    w->onServiced.MakeCallback(env.Global(), {Napi::Number::New(env, bits)}, *w->context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value AttachInline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t id = reactorIdArg(info, 0);
  const uint32_t host = integerValue(env, info[1], "host", 0, std::numeric_limits<uint32_t>::max());
  if (!info[2].IsFunction()) typeError(env, "onServiced must be a function");
  EnvData& data = envData(env);
  const uint64_t key = InlineWatch::key(id, host);
  if (data.watches.count(key) != 0) throwWithCode<Napi::Error>(env, INVALID, "host is already attached");
  std::shared_ptr<Reactor> reactor = existingReactor(env, id);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throwWithCode<Napi::Error>(env, INVALID, "no event loop on this thread");
  }
  auto w = std::make_unique<InlineWatch>();
  w->env = env;
  w->reactorId = id;
  w->host = host;
  w->owner = &data;
  w->onServiced = Napi::Persistent(info[2].As<Napi::Function>());
  w->context = std::make_unique<Napi::AsyncContext>(env, "enet-actor:inline");
  const int fd = reactor->setInline(host, true);
  if (fd < 0) throwWithCode<Napi::Error>(env, INVALID, "host " + std::to_string(host) + " does not exist");
  if (uv_poll_init(loop, &w->handle, fd) != 0) {
    reactor->setInline(host, false);
    throwWithCode<Napi::Error>(env, "ERR_CANT_CREATE", "cannot watch the host socket");
  }
  LoopWatch*& shared = data.loops[id];
  if (shared == nullptr) {
    shared = new LoopWatch();
    shared->reactor = reactor;
    uv_prepare_init(loop, &shared->beforeWait);
    uv_check_init(loop, &shared->afterWait);
    shared->open = 2;
    shared->beforeWait.data = shared->afterWait.data = shared;
    uv_prepare_start(&shared->beforeWait, [](uv_prepare_t* h) {
      static_cast<LoopWatch*>(h->data)->reactor->setConsumerWaiting(true);
    });
    uv_check_start(&shared->afterWait, [](uv_check_t* h) {
      static_cast<LoopWatch*>(h->data)->reactor->setConsumerWaiting(false);
    });
    // Only the socket watches may keep the loop alive (as the caller decides).
    uv_unref(reinterpret_cast<uv_handle_t*>(&shared->beforeWait));
    uv_unref(reinterpret_cast<uv_handle_t*>(&shared->afterWait));
  }
  shared->users++;
  w->loop = shared;
  w->reactor = std::move(reactor);
  w->handle.data = w.get();
  uv_poll_start(&w->handle, UV_READABLE, OnSocketReadable);
  InlineWatch* watch = w.release();
  data.watches.emplace(key, watch);
  napi_add_env_cleanup_hook(env, OnEnvCleanup, watch);
  return env.Undefined();
}

// ---- detachInline(reactorId, host): undefined
Napi::Value DetachInline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t id = reactorIdArg(info, 0);
  const uint32_t host = integerValue(env, info[1], "host", 0, std::numeric_limits<uint32_t>::max());
  EnvData& data = envData(env);
  auto it = data.watches.find(InlineWatch::key(id, host));
  if (it == data.watches.end()) return env.Undefined();
  InlineWatch* w = it->second;
  data.watches.erase(it);
  napi_remove_env_cleanup_hook(env, OnEnvCleanup, w);
  w->reactor->setInline(host, false);
  w->close();
  return env.Undefined();
}

// ---- setInlineReferenced(reactorId, referenced): undefined
Napi::Value SetInlineReferenced(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t id = reactorIdArg(info, 0);
  const bool referenced = info[1].ToBoolean().Value();
  for (auto& entry : envData(env).watches) {
    if ((entry.first >> 32) != id) continue;
    uv_handle_t* h = reinterpret_cast<uv_handle_t*>(&entry.second->handle);
    if (referenced) {
      uv_ref(h);
    } else {
      uv_unref(h);
    }
  }
  return env.Undefined();
}

// ---- wake(reactorId): undefined
Napi::Value Wake(const Napi::CallbackInfo& info) {
  const uint32_t id = reactorIdArg(info, 0);
  std::shared_ptr<Reactor> reactor = enet_actor::findReactor(id);
  if (reactor) reactor->wake();
  return info.Env().Undefined();
}

// ---- reactorDestroy(reactorId): undefined
Napi::Value ReactorDestroy(const Napi::CallbackInfo& info) {
  const uint32_t id = reactorIdArg(info, 0);
  std::shared_ptr<Reactor> reactor = enet_actor::findReactor(id);
  if (reactor) {
    reactor->destroy();  // flush + destroy hosts, mark destroyed, wake
    enet_actor::unregisterReactor(id);
  }
  // Nothing native points into this reactor's buffers any more once destroy() returned: a
  // service() still running on another thread re-checks `destroyed` under the mutex first.
  EnvData& data = envData(info.Env());
  data.release(id);
  data.sweep();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new EnvData());  // deleted (references released) at environment teardown
  exports.Set("reactorCreate", Napi::Function::New(env, ReactorCreate, "reactorCreate"));
  exports.Set("hostCreate", Napi::Function::New(env, HostCreate, "hostCreate"));
  exports.Set("service", Napi::Function::New(env, Service, "service"));
  exports.Set("flushOutbound", Napi::Function::New(env, FlushOutbound, "flushOutbound"));
  exports.Set("attachInline", Napi::Function::New(env, AttachInline, "attachInline"));
  exports.Set("detachInline", Napi::Function::New(env, DetachInline, "detachInline"));
  exports.Set("setInlineReferenced", Napi::Function::New(env, SetInlineReferenced, "setInlineReferenced"));
  exports.Set("wake", Napi::Function::New(env, Wake, "wake"));
  exports.Set("reactorDestroy", Napi::Function::New(env, ReactorDestroy, "reactorDestroy"));
  return exports;
}

}  // namespace

NODE_API_MODULE(enet_actor, Init)
