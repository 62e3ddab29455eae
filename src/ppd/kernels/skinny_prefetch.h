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

// How far ahead of the tile being read: 32 KiB, into L2 (hint T1). Against 24 KiB into L1,
// on the Xeon (family 6, model 207): a Q8_0 2816 x 1024 matrix out of cache at one row streamed
// at 10.4 GB/s against 9.8 (7.7 with no prefetch; 12 or 48 KiB: 9.2); `medium` decode at batch
// 1 went from 0.72-0.77 of read bandwidth to 0.80-0.85 in F16 and from 0.70-0.76 to 0.75-0.80
// in BF16; `small` F32 decode at batch 8 from 361-372 to 400 tokens/s (ppd bench engine, two
// interleaved runs each).
constexpr int64_t kPrefetchDistanceBytes = 32 * 1024;

// A tile's prefetch cursor into the whole weight matrix: the byte offset to prefetch next (-1:
// none) and the end of the thread's column range, past which nothing is touched.
struct WeightPrefetch {
  const uint8_t* base = nullptr;
  int64_t offset = -1;
  int64_t limit = 0;

  // Starts kPrefetchDistanceBytes ahead of the tile at byte `tile_start`.
  void start_at(int64_t tile_start) { offset = tile_start + kPrefetchDistanceBytes; }
  // Prefetches each cache line whose start falls in [offset, offset + step_bytes) and below
  // limit once, into L2, and advances offset. Nothing when the cursor is off.
  void step(int64_t step_bytes) {
    if (offset < 0) return;
    const int64_t end = offset + step_bytes;
    for (int64_t line = (offset + kPrefetchCacheLine - 1) & ~(kPrefetchCacheLine - 1); line < end && line < limit;
         line += kPrefetchCacheLine) {
      __builtin_prefetch(base + line, 0, 2);
    }
    offset = end;
  }
};

}  // namespace
}  // namespace ppd::kernels
