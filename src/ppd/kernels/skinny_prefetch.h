// Software prefetch of a skinny matmul's weight stream, shared by the float kernel
// (matmul_avx2.cc) and the Q8_0 ones (matmul_q8_tile.h). The hardware prefetcher loses track
// of a tile's several interleaved row streams, so the kernels prefetch the contiguous weight
// memory at a fixed distance ahead, as many bytes per step as the tile consumes.
// Internal linkage, like the Q8_0 kernels that include it from translation units built for
// other instruction sets.
#pragma once

#include <cstdint>

namespace ppd::kernels {
namespace {  // NOLINT(google-build-namespaces): one copy per instruction set

constexpr int64_t kPrefetchCacheLine = 64;

// Prefetches each cache line whose start falls in [offset, offset + step_bytes) and below
// `limit` once, with locality hint kHint (3: to L1, 2: to L2), and advances offset.
template <int kHint>
inline void prefetch_step(const uint8_t* base, int64_t& offset, int64_t limit, int64_t step_bytes) {
  const int64_t end = offset + step_bytes;
  for (int64_t line = (offset + kPrefetchCacheLine - 1) & ~(kPrefetchCacheLine - 1); line < end && line < limit;
       line += kPrefetchCacheLine) {
    __builtin_prefetch(base + line, 0, kHint);
  }
  offset = end;
}

}  // namespace
}  // namespace ppd::kernels
