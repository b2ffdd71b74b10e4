#include "compress.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <new>

namespace enet_actor {
namespace compress {

// ---------------------------------------------------------------------------------------------
// FastLZ block format (levels 1 and 2), as Godot's thirdparty/misc/fastlz.c reads and writes it.
//
// A block is a sequence of instructions. The first byte's top 3 bits hold the level minus one
// (0 = level 1, 1 = level 2); that first instruction is always a literal run, and its level bits are
// ignored when it is read as an instruction. Each instruction starts with a control byte `c`:
//   c >> 5 == 0        literal run: the next (c & 31) + 1 bytes are copied to the output (1..32).
//   c >> 5 == 1..6     match of length (c >> 5) + 2 (3..8), then one byte `d`.
//   c >> 5 == 7        long match: level 1: one more byte `e`, length 9 + e (9..264);
//                      level 2: bytes e1, e2, ... added while they are 255, length 9 + sum.
//                      Then one byte `d`.
//   Distance back from the current output position: ((c & 31) << 8) + d + 1 (1..8192). Level 2 only:
//   when (c & 31) == 31 and d == 255, a big-endian u16 `f` follows and the distance is f + 8192.
// A match may overlap its own output (distance < length): it is copied byte by byte, forwards.

namespace {

constexpr size_t LITERAL_MAX = 32;
constexpr size_t MATCH_MIN = 3;
constexpr size_t MATCH_MAX_L1 = 264;  // 9 + 255
// Level-1 distances we emit: d <= 8190 once biased, as FastLZ's own encoder does (the format could
// carry 8191; staying one below keeps every FastLZ decoder version happy).
constexpr size_t DISTANCE_MAX_L1 = 8191;
constexpr size_t L2_FAR_BASE = 8192;
constexpr uint32_t NO_POSITION = 0xFFFFFFFFu;
constexpr unsigned HASH_BITS_MIN = 8;
constexpr unsigned HASH_BITS_MAX = 13;
static_assert(FASTLZ_HASH_ENTRIES == (size_t{1} << HASH_BITS_MAX), "hash table size");

inline uint32_t hash3(const uint8_t* p, unsigned bits) {
  const uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                     static_cast<uint32_t>(p[2]) << 16;
  return (v * 2654435761u) >> (32 - bits);
}

// Output cursor that refuses to write past the end (ok becomes false, the rest is ignored).
struct Sink {
  uint8_t* out;
  size_t cap;
  size_t size = 0;
  bool ok = true;

  void byte(uint32_t b) {
    if (size >= cap) {
      ok = false;
      return;
    }
    out[size++] = static_cast<uint8_t>(b);
  }
  void literals(const uint8_t* p, size_t n) {
    while (n > 0 && ok) {
      const size_t run = n < LITERAL_MAX ? n : LITERAL_MAX;
      if (cap - size < run + 1) {
        ok = false;
        return;
      }
      out[size++] = static_cast<uint8_t>(run - 1);
      std::memcpy(out + size, p, run);
      size += run;
      p += run;
      n -= run;
    }
  }
  // One match instruction; 3 <= len <= MATCH_MAX_L1, 1 <= distance <= DISTANCE_MAX_L1.
  void match(size_t len, size_t distance) {
    const uint32_t d = static_cast<uint32_t>(distance - 1);
    const uint32_t code = static_cast<uint32_t>(len - 2);  // 1..262
    if (code < 7) {
      byte((code << 5) | (d >> 8));
    } else {
      byte((7u << 5) | (d >> 8));
      byte(code - 7);
    }
    byte(d & 255);
  }
  // A match of any length >= 3, split into instructions that each carry at least MATCH_MIN.
  void longMatch(size_t len, size_t distance) {
    while (len > MATCH_MAX_L1) {
      const size_t part = len - MATCH_MAX_L1 >= MATCH_MIN ? MATCH_MAX_L1 : len - MATCH_MIN;
      match(part, distance);
      len -= part;
    }
    match(len, distance);
  }
};

}  // namespace

size_t fastlzCompress(const uint8_t* in, size_t n, uint8_t* out, size_t outCap, uint32_t* table) {
  if (n == 0 || n >= NO_POSITION) return 0;
  Sink sink{out, outCap};
  size_t pending = 0;  // start of the literals not written yet
  if (n > MATCH_MIN) {
    unsigned bits = HASH_BITS_MIN;
    while (bits < HASH_BITS_MAX && (size_t{1} << bits) < n) ++bits;
    std::memset(table, 0xFF, (size_t{1} << bits) * sizeof(uint32_t));
    const size_t last = n - MATCH_MIN;  // last position a match can start at
    size_t i = 0;
    while (i <= last && sink.ok) {
      const uint32_t h = hash3(in + i, bits);
      const uint32_t candidate = table[h];
      table[h] = static_cast<uint32_t>(i);
      // Position 0 never matches (the table is empty), so the block starts with a literal run.
      if (candidate == NO_POSITION || i - candidate > DISTANCE_MAX_L1 ||
          std::memcmp(in + candidate, in + i, MATCH_MIN) != 0) {
        ++i;
        continue;
      }
      size_t len = MATCH_MIN;
      while (i + len < n && in[candidate + len] == in[i + len]) ++len;
      sink.literals(in + pending, i - pending);
      sink.longMatch(len, i - candidate);
      const size_t end = i + len;
      for (size_t p = i + 1; p < end && p <= last; ++p) table[hash3(in + p, bits)] = static_cast<uint32_t>(p);
      i = end;
      pending = end;
    }
  }
  sink.literals(in + pending, n - pending);
  return sink.ok ? sink.size : 0;
}

size_t fastlzDecompress(const uint8_t* in, size_t n, uint8_t* out, size_t outCap) {
  if (n == 0) return 0;
  const unsigned level = (in[0] >> 5) + 1u;
  if (level != 1 && level != 2) return 0;
  size_t ip = 1;
  size_t op = 0;
  uint32_t ctrl = in[0] & 31u;  // the first instruction is a literal run
  for (;;) {
    if (ctrl < 32) {
      const size_t run = ctrl + 1;
      if (run > n - ip || run > outCap - op) return 0;
      std::memcpy(out + op, in + ip, run);
      ip += run;
      op += run;
    } else {
      size_t len = (ctrl >> 5) + 2;
      if ((ctrl >> 5) == 7) {
        uint32_t extra;
        do {
          if (ip >= n) return 0;
          extra = in[ip++];
          len += extra;
        } while (level == 2 && extra == 255);
      }
      if (ip >= n) return 0;
      const uint32_t low = in[ip++];
      size_t distance = ((ctrl & 31u) << 8) + low + 1;
      if (level == 2 && low == 255 && (ctrl & 31u) == 31) {
        if (n - ip < 2) return 0;
        distance = ((static_cast<size_t>(in[ip]) << 8) | in[ip + 1]) + L2_FAR_BASE;
        ip += 2;
      }
      if (distance > op || len > outCap - op) return 0;
      const uint8_t* from = out + op - distance;
      uint8_t* to = out + op;
      for (size_t k = 0; k < len; ++k) to[k] = from[k];  // forwards: overlapping runs repeat
      op += len;
    }
    if (ip >= n) return op;
    ctrl = in[ip++];
  }
}

// ---------------------------------------------------------------------------------------------
// The ENet compressor of modes 2, 3, 4.

namespace {

// Godot's Compression::compress pads FastLZ inputs shorter than this with zeros.
constexpr size_t FASTLZ_MIN_INPUT = 16;
// Godot's zlib and zstd settings (core/io/compression.cpp defaults).
constexpr int ZLIB_LEVEL = Z_DEFAULT_COMPRESSION;
constexpr int ZLIB_WINDOW_BITS = 15;  // zlib wrapper: 2-byte header + Adler-32
constexpr int ZLIB_MEM_LEVEL = 8;
constexpr int ZSTD_LEVEL = 3;
// Room for the largest datagram ENet builds (its MTU limit); grown on demand if ever needed.
constexpr size_t INITIAL_SCRATCH = ENET_PROTOCOL_MAXIMUM_MTU;

class Context {
 public:
  // nullptr when out of memory (nothing is leaked).
  static Context* create(uint32_t mode) {
    Context* c = new (std::nothrow) Context(mode);
    if (c == nullptr) return nullptr;
    if (!c->init()) {
      delete c;
      return nullptr;
    }
    return c;
  }

  ~Context() {
    if (deflateReady_) deflateEnd(&deflater_);
    if (inflateReady_) inflateEnd(&inflater_);
    ZSTD_freeCCtx(cctx_);  // both accept nullptr
    ZSTD_freeDCtx(dctx_);
    delete[] input_;
    delete[] table_;
  }

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  size_t compress(const ENetBuffer* buffers, size_t count, size_t inLimit, uint8_t* out,
                  size_t outLimit) noexcept {
    if (inLimit == 0 || outLimit == 0 || inLimit > UINT32_MAX) return 0;
    const size_t room = inLimit < FASTLZ_MIN_INPUT ? FASTLZ_MIN_INPUT : inLimit;
    if (!reserveInput(room)) return 0;  // out of memory: ENet sends the datagram uncompressed
    size_t n = 0;
    for (size_t i = 0; i < count && n < inLimit; ++i) {
      const size_t take = buffers[i].dataLength < inLimit - n ? buffers[i].dataLength : inLimit - n;
      std::memcpy(input_ + n, buffers[i].data, take);
      n += take;
    }
    if (n == 0) return 0;
    switch (mode_) {
      case MODE_FASTLZ: {
        if (n < FASTLZ_MIN_INPUT) {
          std::memset(input_ + n, 0, FASTLZ_MIN_INPUT - n);
          n = FASTLZ_MIN_INPUT;
        }
        return fastlzCompress(input_, n, out, outLimit, table_);
      }
      case MODE_ZLIB: {
        if (deflateReset(&deflater_) != Z_OK) return 0;
        deflater_.next_in = input_;
        deflater_.avail_in = static_cast<uInt>(n);
        deflater_.next_out = out;
        deflater_.avail_out = static_cast<uInt>(outLimit < UINT32_MAX ? outLimit : UINT32_MAX);
        // Anything but Z_STREAM_END means the stream did not fit outLimit.
        if (deflate(&deflater_, Z_FINISH) != Z_STREAM_END) return 0;
        return deflater_.total_out;
      }
      case MODE_ZSTD: {
        const size_t r = ZSTD_compressCCtx(cctx_, out, outLimit, input_, n, ZSTD_LEVEL);
        return ZSTD_isError(r) ? 0 : r;
      }
      default:
        return 0;
    }
  }

  size_t decompress(const uint8_t* in, size_t inLimit, uint8_t* out, size_t outLimit) noexcept {
    if (inLimit == 0 || outLimit == 0 || inLimit > UINT32_MAX) return 0;
    if (outLimit > UINT32_MAX) outLimit = UINT32_MAX;
    switch (mode_) {
      case MODE_FASTLZ:
        return fastlzDecompress(in, inLimit, out, outLimit);
      case MODE_ZLIB: {
        if (inflateReset(&inflater_) != Z_OK) return 0;
        inflater_.next_in = const_cast<Bytef*>(in);
        inflater_.avail_in = static_cast<uInt>(inLimit);
        inflater_.next_out = out;
        inflater_.avail_out = static_cast<uInt>(outLimit);
        if (inflate(&inflater_, Z_FINISH) != Z_STREAM_END) return 0;
        return inflater_.total_out;
      }
      case MODE_ZSTD: {
        const size_t r = ZSTD_decompressDCtx(dctx_, out, outLimit, in, inLimit);
        return ZSTD_isError(r) ? 0 : r;
      }
      default:
        return 0;
    }
  }

 private:
  explicit Context(uint32_t mode) : mode_(mode) {
    std::memset(&deflater_, 0, sizeof deflater_);
    std::memset(&inflater_, 0, sizeof inflater_);
  }

  bool init() {
    if (!reserveInput(INITIAL_SCRATCH)) return false;
    switch (mode_) {
      case MODE_FASTLZ:
        table_ = new (std::nothrow) uint32_t[FASTLZ_HASH_ENTRIES];
        return table_ != nullptr;
      case MODE_ZLIB:
        deflateReady_ = deflateInit2(&deflater_, ZLIB_LEVEL, Z_DEFLATED, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL,
                                     Z_DEFAULT_STRATEGY) == Z_OK;
        if (!deflateReady_) return false;
        inflateReady_ = inflateInit2(&inflater_, ZLIB_WINDOW_BITS) == Z_OK;
        return inflateReady_;
      case MODE_ZSTD:
        cctx_ = ZSTD_createCCtx();
        dctx_ = ZSTD_createDCtx();
        return cctx_ != nullptr && dctx_ != nullptr;
      default:
        return false;
    }
  }

  bool reserveInput(size_t n) {
    if (n <= inputCap_) return true;
    uint8_t* grown = new (std::nothrow) uint8_t[n];
    if (grown == nullptr) return false;
    delete[] input_;
    input_ = grown;
    inputCap_ = n;
    return true;
  }

  const uint32_t mode_;
  uint8_t* input_ = nullptr;  // ENet's input buffers, concatenated
  size_t inputCap_ = 0;
  uint32_t* table_ = nullptr;  // FastLZ hash table
  z_stream deflater_;
  z_stream inflater_;
  bool deflateReady_ = false;
  bool inflateReady_ = false;
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
};

size_t ENET_CALLBACK compressCallback(void* context, const ENetBuffer* inBuffers, size_t inBufferCount,
                                      size_t inLimit, enet_uint8* outData, size_t outLimit) noexcept {
  return static_cast<Context*>(context)->compress(inBuffers, inBufferCount, inLimit, outData, outLimit);
}

size_t ENET_CALLBACK decompressCallback(void* context, const enet_uint8* inData, size_t inLimit,
                                        enet_uint8* outData, size_t outLimit) noexcept {
  return static_cast<Context*>(context)->decompress(inData, inLimit, outData, outLimit);
}

void ENET_CALLBACK destroyCallback(void* context) noexcept { delete static_cast<Context*>(context); }

}  // namespace

bool applyCompression(ENetHost* host, uint32_t mode) {
  switch (mode) {
    case MODE_NONE:
      enet_host_compress(host, nullptr);
      return true;
    case MODE_RANGE_CODER:
      return enet_host_compress_with_range_coder(host) == 0;
    case MODE_FASTLZ:
    case MODE_ZLIB:
    case MODE_ZSTD: {
      Context* context = Context::create(mode);
      if (context == nullptr) return false;
      ENetCompressor compressor;
      compressor.context = context;
      compressor.compress = compressCallback;
      compressor.decompress = decompressCallback;
      compressor.destroy = destroyCallback;
      enet_host_compress(host, &compressor);  // destroys the previous compressor's context
      return true;
    }
    default:
      return false;
  }
}

}  // namespace compress
}  // namespace enet_actor
