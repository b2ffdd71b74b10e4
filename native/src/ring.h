// The SPSC byte ring of docs/protocol.md ("Ring layout"), over raw SharedArrayBuffer memory.
// Header slots are accessed with sequentially consistent __atomic builtins, exactly like the
// JS side's Atomics.* calls; record bytes are plain memory ordered by those header accesses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace enet_actor {
namespace ring {

constexpr uint32_t HEADER_BYTES = 256;
constexpr uint32_t MIN_CAPACITY = 64 * 1024;
constexpr uint32_t MAX_CAPACITY = 1u << 30;
constexpr uint32_t WRAP_MARKER = 0xFFFFFFFFu;

// Int32 slot indices in the header.
constexpr int WRITE = 0;
constexpr int DOORBELL = 1;
constexpr int CONSUMER_SLEEPING = 2;
constexpr int STALLS = 3;
constexpr int READ = 16;
constexpr int PRODUCER_WAITING = 17;
constexpr int CAPACITY = 32;

inline constexpr uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }

// Largest payload a ring of this capacity accepts.
inline constexpr uint32_t maxPayload(uint32_t capacity) { return capacity / 2 - 8; }

inline bool validCapacity(uint64_t capacity) {
  return capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY && (capacity & (capacity - 1)) == 0;
}

// A view of one ring's memory. Does not own it.
class View {
 public:
  View() = default;
  View(uint8_t* base, uint32_t capacity) : base_(base), capacity_(capacity) {}

  int32_t load(int slot) const { return __atomic_load_n(at(slot), __ATOMIC_SEQ_CST); }
  void store(int slot, int32_t v) const { __atomic_store_n(at(slot), v, __ATOMIC_SEQ_CST); }
  int32_t add(int slot, int32_t d) const { return __atomic_fetch_add(at(slot), d, __ATOMIC_SEQ_CST); }
  // compareExchange(slot, expected, desired) == expected
  bool cas(int slot, int32_t expected, int32_t desired) const {
    return __atomic_compare_exchange_n(at(slot), &expected, desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
  }
  uint32_t loadU(int slot) const { return static_cast<uint32_t>(load(slot)); }
  void storeU(int slot, uint32_t v) const { store(slot, static_cast<int32_t>(v)); }

  uint8_t* data() const { return base_ + HEADER_BYTES; }
  uint32_t capacity() const { return capacity_; }
  uint32_t mask() const { return capacity_ - 1; }

 private:
  int32_t* at(int slot) const { return reinterpret_cast<int32_t*>(base_) + slot; }
  uint8_t* base_ = nullptr;
  uint32_t capacity_ = 0;
};

// Producer side. Keeps its own copy of WRITE; publishes once per batch.
class Producer {
 public:
  Producer() = default;
  explicit Producer(View v) : v_(v), w_(v.loadU(WRITE)), published_(w_) {}

  const View& view() const { return v_; }

  // Would appending a record of `len` payload bytes succeed now?
  bool canWrite(uint32_t len) const {
    if (len > maxPayload(v_.capacity())) return false;
    const uint32_t cap = v_.capacity();
    const uint32_t need = 4 + align4(len);
    const uint32_t free = cap - (w_ - v_.loadU(READ));
    const uint32_t pos = w_ & v_.mask();
    const uint32_t tail = cap - pos;
    if (need <= tail) return need <= free;
    return tail + need <= free;
  }

  // Reserves a record of `len` payload bytes and writes its length prefix (and the wrap marker
  // if needed). Returns where the payload goes, or nullptr when the ring is FULL. The record
  // becomes visible at the next publish().
  uint8_t* append(uint32_t len) {
    if (len > maxPayload(v_.capacity())) return nullptr;
    const uint32_t cap = v_.capacity();
    const uint32_t need = 4 + align4(len);
    const uint32_t free = cap - (w_ - v_.loadU(READ));
    uint32_t pos = w_ & v_.mask();
    const uint32_t tail = cap - pos;
    uint8_t* d = v_.data();
    if (need <= tail) {
      if (need > free) return nullptr;
      w_ += need;
    } else {
      if (tail + need > free) return nullptr;
      std::memcpy(d + pos, &WRAP_MARKER, 4);
      pos = 0;
      w_ += tail + need;
    }
    std::memcpy(d + pos, &len, 4);
    return d + pos + 4;
  }

  bool dirty() const { return w_ != published_; }

  // store(WRITE); then, if the consumer was asleep (CAS CONSUMER_SLEEPING 1->0), add 1 to
  // DOORBELL and return true: the caller must get the consumer notified. With ringDoorbell false
  // (the consumer's own thread is the producer and reads on at once) the flag is left alone.
  bool publish(bool ringDoorbell = true) {
    if (w_ == published_) return false;
    v_.storeU(WRITE, w_);
    published_ = w_;
    if (ringDoorbell && v_.cas(CONSUMER_SLEEPING, 1, 0)) {
      v_.add(DOORBELL, 1);
      return true;
    }
    return false;
  }

  // The producer found the ring full: PRODUCER_WAITING = 1, STALLS += 1.
  void markWaiting() const {
    v_.store(PRODUCER_WAITING, 1);
    v_.add(STALLS, 1);
  }

 private:
  View v_;
  uint32_t w_ = 0;
  uint32_t published_ = 0;
};

// Consumer side. Keeps its own copy of READ; stores it once per batch, after handling.
class Consumer {
 public:
  Consumer() = default;
  explicit Consumer(View v) : v_(v), r_(v.loadU(READ)) {}

  const View& view() const { return v_; }

  bool hasData() const { return v_.loadU(WRITE) != r_; }

  // Handles every record published so far: handle(const uint8_t* payload, uint32_t len).
  // Returns the number of records handled. A corrupt ring (a length that cannot be right) makes
  // it skip everything published so far and count one in *corrupt.
  template <typename F>
  uint32_t drain(F&& handle, uint32_t* corrupt) {
    const uint32_t w = v_.loadU(WRITE);
    if (w == r_) return 0;
    const uint32_t cap = v_.capacity();
    const uint32_t limit = maxPayload(cap);
    const uint8_t* d = v_.data();
    uint32_t n = 0;
    while (r_ != w) {
      const uint32_t avail = w - r_;
      const uint32_t pos = r_ & v_.mask();
      const uint32_t tail = cap - pos;
      uint32_t len;
      if (avail > cap || avail < 4) {
        ++*corrupt;
        r_ = w;
        break;
      }
      std::memcpy(&len, d + pos, 4);
      if (len == WRAP_MARKER) {
        if (tail > avail) {
          ++*corrupt;
          r_ = w;
          break;
        }
        r_ += tail;
        continue;
      }
      const uint32_t need = 4 + align4(len);
      if (len > limit || need > tail || need > avail) {
        ++*corrupt;
        r_ = w;
        break;
      }
      handle(d + pos + 4, len);
      r_ += need;
      ++n;
    }
    v_.storeU(READ, r_);
    v_.cas(PRODUCER_WAITING, 1, 0);  // JS producers retry on their own
    return n;
  }

 private:
  View v_;
  uint32_t r_ = 0;
};

}  // namespace ring
}  // namespace enet_actor
