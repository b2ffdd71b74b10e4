// ENet compressors, wire-compatible with Godot's ENetConnection (Godot 4) and
// NetworkedMultiplayerENet (Godot 3) compression modes, after Godot's enet_compress /
// enet_decompress callbacks and core/io/compression.cpp. See docs/godot.md and
// docs/enet-facts.md "Godot compression".
//
// ENet has no negotiation and no algorithm id on the wire: a datagram only carries a "compressed"
// header bit. Both ends must install the same mode. For FASTLZ, ZLIB and ZSTD the framing is exactly
// Godot's: the datagram body (all of ENet's input buffers, concatenated) is compressed as one block
// with no framing of our own, and a result that does not fit ENet's output limit is not used (ENet
// then sends the datagram uncompressed, which any receiver accepts).
//
// No global mutable state: each host gets its own heap context (scratch buffers, z_streams, zstd
// contexts), freed by ENet through the compressor's `destroy` callback when the host is destroyed or
// its compressor replaced. All callbacks run inside enet_host_service / enet_host_flush, i.e. under
// the reactor's mutex, one thread at a time per host.
#pragma once

#include <enet/enet.h>

#include <cstddef>
#include <cstdint>

namespace enet_actor {
namespace compress {

// Godot's ENetConnection.CompressionMode numbering.
constexpr uint32_t MODE_NONE = 0;
constexpr uint32_t MODE_RANGE_CODER = 1;
constexpr uint32_t MODE_FASTLZ = 2;
constexpr uint32_t MODE_ZLIB = 3;
constexpr uint32_t MODE_ZSTD = 4;
constexpr uint32_t MODE_LAST = MODE_ZSTD;

inline constexpr bool isKnownMode(uint32_t mode) { return mode <= MODE_LAST; }

// Installs the compressor of `mode` on `host`: 0 none (enet_host_compress(host, nullptr)),
// 1 ENet's range coder, 2 FastLZ, 3 zlib, 4 zstd. The previous compressor is destroyed by ENet.
// Returns false for an unknown mode or when the new compressor cannot be allocated; the host then
// keeps its previous compressor.
bool applyCompression(ENetHost* host, uint32_t mode);

// The FastLZ block codec (Ariya Hidayat's FastLZ format, written from its description), exposed for
// tests. Both return the number of bytes written, or 0 on error / when the output does not fit.
//   fastlzCompress: level-1 stream of in[0..n), at most outCap bytes; `table` is scratch space of
//     FASTLZ_HASH_ENTRIES entries. It does not pad short inputs as Godot does: the ENet callback does
//     that (see compress.cc).
//   fastlzDecompress: level 1 or level 2 (the level is the top 3 bits of the first byte), bounds-checked
//     against both the input and the output.
constexpr size_t FASTLZ_HASH_ENTRIES = size_t{1} << 13;
size_t fastlzCompress(const uint8_t* in, size_t n, uint8_t* out, size_t outCap, uint32_t* table);
size_t fastlzDecompress(const uint8_t* in, size_t n, uint8_t* out, size_t outCap);

}  // namespace compress
}  // namespace enet_actor
