// AVX2/FMA "skinny" matmul for decode-sized M: y[M][N] = x[M][K] · w[N][K]^T (+ bias).
// Dot-product form: a tile of NR w rows × MR x rows (4 × 3; 8 × 1 when M = 1) keeps MR*NR
// 8-lane accumulators over k. Each w tile is read from memory once per call and reused from
// L1 by every group of x rows (x stays in L1/L2), so at small M the kernel streams the
// weights at close to memory bandwidth, and at larger M it runs near the FMA peak.
// Invariant (tested bitwise): y[i][j] is one accumulator fma'd over k in order, the tail
// through a masked load, reduced by hsum_ps, plus bias[j]: it depends on neither M, nor the
// tile shape, nor the column range a thread was given.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/vec_math_avx2.h"

namespace ppd::kernels::avx2 {
namespace {

struct SkinnyTile {
  const float* x;     // [MR][k], row stride k
  const float* w;     // [NR][k], row stride k
  const float* bias;  // [NR] or null
  float* y;           // [MR][y_stride]
  // Prefetch cursor into the whole w: offset (floats) to prefetch next, -1 for none; only
  // offsets below prefetch_limit are touched.
  const float* w_base;
  int64_t prefetch_offset;
  int64_t prefetch_limit;
  int k;
  int y_stride;
};

// Software prefetch of the w stream: the hardware prefetcher loses track of several
// interleaved row streams, so the kernel prefetches the contiguous w memory at a fixed
// distance ahead, NR*8 floats (NR/2 cache lines) per k step.
constexpr int64_t kPrefetchDistanceFloats = 24 * 1024 / sizeof(float);

template <int NR>
inline void prefetch_step(const float* base, int64_t& offset, int64_t limit) {
  unroll<(NR * 8 + 15) / 16>([&](auto line) {
    // __builtin_prefetch(p, read, high locality) is prefetcht0; GCC 12 drops _mm_prefetch
    // inside a generic lambda.
    if (offset + 16 * line < limit) __builtin_prefetch(base + offset + 16 * line, 0, 3);
  });
  offset += NR * 8;
}

template <int MR, int NR>
void skinny_tile(const SkinnyTile& t) {
  const int k = t.k;
  int64_t pf = t.prefetch_offset;
  __m256 acc[MR][NR];
  unroll<MR>([&](auto i) { unroll<NR>([&](auto j) { acc[i][j] = _mm256_setzero_ps(); }); });
  // x rows first, then one w row at a time: MR*NR + MR + 1 live ymm registers.
  auto step = [&](int kk, auto load) __attribute__((always_inline)) {
    __m256 xv[MR];
    unroll<MR>([&](auto i) { xv[i] = load(t.x + int64_t{i} * k + kk); });
    unroll<NR>([&](auto j) {
      const __m256 wv = load(t.w + int64_t{j} * k + kk);
      unroll<MR>([&](auto i) { acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]); });
    });
  };
  int kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    step(
        kk, [](const float* p) __attribute__((always_inline)) { return _mm256_loadu_ps(p); });
    if (pf >= 0) prefetch_step<NR>(t.w_base, pf, t.prefetch_limit);
  }
  if (kk < k) {
    const __m256i mask = lane_mask(k - kk);
    step(
        kk, [mask](const float* p) __attribute__((always_inline)) { return _mm256_maskload_ps(p, mask); });
  }
  unroll<MR>([&](auto i) {
    unroll<NR>([&](auto j) {
      float v = hsum_ps(acc[i][j]);
      if (t.bias != nullptr) v += t.bias[j];
      t.y[int64_t{i} * t.y_stride + j] = v;
    });
  });
}

using TileFn = void (*)(const SkinnyTile&);

template <int MR>
TileFn tile_fn(int nr) {
  switch (nr) {
    case 1:
      return &skinny_tile<MR, 1>;
    case 2:
      return &skinny_tile<MR, 2>;
    case 3:
      return &skinny_tile<MR, 3>;
    default:
      return &skinny_tile<MR, 4>;
  }
}

TileFn tile_fn(int mr, int nr) {
  switch (mr) {
    case 1:
      return tile_fn<1>(nr);
    case 2:
      return tile_fn<2>(nr);
    default:
      return tile_fn<3>(nr);
  }
}

// x rows and w rows per tile in the general case: 12 accumulators + 3 x + 1 w = all 16 ymm
// registers (a 4 × 4 tile would spill accumulators to the stack).
constexpr int kTileRows = 3;
constexpr int kTileCols = 4;
// With a single x row, 8 w rows per pass give 8 independent FMA chains and 8 read streams,
// which the hardware prefetcher follows (measured: software prefetch only slows this case).
constexpr int kSingleRowTileCols = 8;

}  // namespace

void skinny_matmul(const MatmulArgs& args, int n_begin, int n_end) {
  SkinnyTile t{};
  t.k = args.k;
  t.y_stride = args.n;
  t.w_base = args.w;
  t.prefetch_offset = -1;
  t.prefetch_limit = int64_t{n_end} * args.k;
  int j0 = n_begin;
  if (args.m == 1) {
    t.x = args.x;
    for (; j0 + kSingleRowTileCols <= n_end; j0 += kSingleRowTileCols) {
      t.w = args.w + int64_t{j0} * args.k;
      t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
      t.y = args.y + j0;
      skinny_tile<1, kSingleRowTileCols>(t);
    }
  }
  for (; j0 < n_end; j0 += kTileCols) {
    const int nr = std::min(kTileCols, n_end - j0);
    t.w = args.w + int64_t{j0} * args.k;
    t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
    // All x row groups reuse this w tile while it is in L1; the first one prefetches.
    for (int i0 = 0; i0 < args.m; i0 += kTileRows) {
      const int mr = std::min(kTileRows, args.m - i0);
      t.x = args.x + int64_t{i0} * args.k;
      t.y = args.y + int64_t{i0} * args.n + j0;
      t.prefetch_offset = i0 == 0 ? int64_t{j0} * args.k + kPrefetchDistanceFloats : -1;
      tile_fn(mr, nr)(t);
    }
  }
}

}  // namespace ppd::kernels::avx2
