// AVX2/FMA "skinny" matmul for decode-sized M: y[M][N] = x[M][K] · w[N][K]^T (+ bias), with w
// in F32, F16 (F16C) or BF16 (a 16-bit shift), converted to floats in registers as it is
// loaded. (Q8_0 weights multiply quantized x in integers: matmul_q8_tile.h. Their widening
// load here serves decode_weight_row.)
// Dot-product form: a tile of NR w rows × MR x rows (4 × 3; 8 × 1 when M = 1) keeps MR*NR
// 8-lane accumulators over k. Each w tile is read from memory once per call and reused from
// L1 by every group of x rows (x stays in L1/L2), so at small M the kernel streams the
// weights at close to memory bandwidth, and at larger M it runs near the FMA peak.
// Invariant (tested bitwise): y[i][j] is one accumulator fma'd over k in order, the tail
// through a masked (zero-filled) load, reduced by hsum_ps, plus bias[j]: it depends on neither
// M, nor the tile shape, nor the column range a thread was given.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ppd/common/check.h"
#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/skinny_prefetch.h"
#include "ppd/kernels/vec_math_avx2.h"

namespace ppd::kernels::avx2 {
namespace {

// Loads 8 consecutive weights of one row as floats: at value `kk` (a multiple of 8), and the
// last `count` < 8 of a row (zeros beyond). Q8_0 has no tail: its rows are whole blocks.
template <WeightFormat F>
struct WeightLoad;

template <>
struct WeightLoad<WeightFormat::kF32> {
  static __m256 load(const uint8_t* row, int kk) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + kk); }
  static __m256 load_tail(const uint8_t* row, int kk, int count) {
    return _mm256_maskload_ps(reinterpret_cast<const float*>(row) + kk, lane_mask(count));
  }
};

inline __m128i load_tail_u16(const uint8_t* row, int kk, int count) {
  uint16_t lanes[8] = {};
  std::memcpy(lanes, row + 2 * int64_t{kk}, 2 * static_cast<size_t>(count));
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes));
}

inline __m128i load_u16x8(const uint8_t* row, int kk) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * int64_t{kk}));
}

template <>
struct WeightLoad<WeightFormat::kF16> {
  static __m256 load(const uint8_t* row, int kk) { return _mm256_cvtph_ps(load_u16x8(row, kk)); }
  static __m256 load_tail(const uint8_t* row, int kk, int count) {
    return _mm256_cvtph_ps(load_tail_u16(row, kk, count));
  }
};

inline __m256 bf16x8_to_ps(__m128i bits) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

template <>
struct WeightLoad<WeightFormat::kBF16> {
  static __m256 load(const uint8_t* row, int kk) { return bf16x8_to_ps(load_u16x8(row, kk)); }
  static __m256 load_tail(const uint8_t* row, int kk, int count) { return bf16x8_to_ps(load_tail_u16(row, kk, count)); }
};

template <>
struct WeightLoad<WeightFormat::kQ8_0> {
  static __m256 load(const uint8_t* row, int kk) {
    const uint8_t* block = row + int64_t{kk / kQ8BlockValues} * kQ8BlockBytes;
    uint16_t d_bits;
    std::memcpy(&d_bits, block, sizeof(d_bits));
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + kk % kQ8BlockValues));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(d_bits)));
  }
  static __m256 load_tail(const uint8_t*, int, int) { return _mm256_setzero_ps(); }
};

struct SkinnyTile {
  const float* x;     // [MR][k], row stride k
  const uint8_t* w;   // [NR] rows of row_bytes
  const float* bias;  // [NR] or null
  float* y;           // [MR][y_stride]
  WeightPrefetch prefetch;
  int64_t row_bytes;
  int k;
  int y_stride;
};

template <WeightFormat F, int MR, int NR>
void skinny_tile(const SkinnyTile& t) {
  using W = WeightLoad<F>;
  const int k = t.k;
  WeightPrefetch pf = t.prefetch;
  // Bytes of w per k step of 8 values.
  const int64_t pf_step = NR * static_cast<int64_t>(weight_row_bytes(F, 8));
  __m256 acc[MR][NR];
  unroll<MR>([&](auto i) { unroll<NR>([&](auto j) { acc[i][j] = _mm256_setzero_ps(); }); });
  // x rows first, then one w row at a time: MR*NR + MR + 1 live ymm registers.
  auto step = [&](int kk, auto load_x, auto load_w) __attribute__((always_inline)) {
    __m256 xv[MR];
    unroll<MR>([&](auto i) { xv[i] = load_x(t.x + int64_t{i} * k + kk); });
    unroll<NR>([&](auto j) {
      const __m256 wv = load_w(t.w + int64_t{j} * t.row_bytes, kk);
      unroll<MR>([&](auto i) { acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]); });
    });
  };
  int kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    step(
        kk, [](const float* p) __attribute__((always_inline)) { return _mm256_loadu_ps(p); },
        [](const uint8_t* row, int at) __attribute__((always_inline)) { return W::load(row, at); });
    pf.step(pf_step);
  }
  if (kk < k) {
    const int count = k - kk;
    const __m256i mask = lane_mask(count);
    step(
        kk, [mask](const float* p) __attribute__((always_inline)) { return _mm256_maskload_ps(p, mask); },
        [count](const uint8_t* row, int at) __attribute__((always_inline)) { return W::load_tail(row, at, count); });
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

template <WeightFormat F, int MR>
TileFn tile_fn(int nr) {
  switch (nr) {
    case 1:
      return &skinny_tile<F, MR, 1>;
    case 2:
      return &skinny_tile<F, MR, 2>;
    case 3:
      return &skinny_tile<F, MR, 3>;
    default:
      return &skinny_tile<F, MR, 4>;
  }
}

template <WeightFormat F>
TileFn tile_fn(int mr, int nr) {
  switch (mr) {
    case 1:
      return tile_fn<F, 1>(nr);
    case 2:
      return tile_fn<F, 2>(nr);
    default:
      return tile_fn<F, 3>(nr);
  }
}

// x rows and w rows per tile in the general case: 12 accumulators + 3 x + 1 w = all 16 ymm
// registers (a 4 × 4 tile would spill accumulators to the stack).
constexpr int kTileRows = 3;
constexpr int kTileCols = 4;
// With a single x row, 8 w rows per pass give 8 independent FMA chains and 8 read streams.
// F32 rows: the hardware prefetcher follows them (software prefetch slowed decode at batch 1
// to 0.89x). Narrower rows (F16, BF16) it follows too slowly: with software prefetch
// the `small` preset's F16 decode at batch 1 went from 165 to 260 tokens/s (ppd bench engine,
// Xeon family 6 model 207, one thread).
constexpr int kSingleRowTileCols = 8;

template <WeightFormat F>
void skinny_matmul_as(const MatmulArgs& args, int n_begin, int n_end) {
  SkinnyTile t{};
  t.k = args.k;
  t.y_stride = args.n;
  const uint8_t* w_base = args.w.bytes();
  t.row_bytes = static_cast<int64_t>(weight_row_bytes(F, args.k));
  t.prefetch = {w_base, -1, int64_t{n_end} * t.row_bytes};
  int j0 = n_begin;
  if (args.m == 1) {
    t.x = args.x;
    for (; j0 + kSingleRowTileCols <= n_end; j0 += kSingleRowTileCols) {
      t.w = w_base + int64_t{j0} * t.row_bytes;
      t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
      t.y = args.y + j0;
      if (F != WeightFormat::kF32) t.prefetch.start_at(int64_t{j0} * t.row_bytes);
      skinny_tile<F, 1, kSingleRowTileCols>(t);
    }
  }
  for (; j0 < n_end; j0 += kTileCols) {
    const int nr = std::min(kTileCols, n_end - j0);
    t.w = w_base + int64_t{j0} * t.row_bytes;
    t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
    // All x row groups reuse this w tile while it is in L1; the first one prefetches.
    for (int i0 = 0; i0 < args.m; i0 += kTileRows) {
      const int mr = std::min(kTileRows, args.m - i0);
      t.x = args.x + int64_t{i0} * args.k;
      t.y = args.y + int64_t{i0} * args.n + j0;
      t.prefetch.offset = -1;
      if (i0 == 0) t.prefetch.start_at(int64_t{j0} * t.row_bytes);
      tile_fn<F>(mr, nr)(t);
    }
  }
}

}  // namespace

void skinny_matmul(const MatmulArgs& args, int n_begin, int n_end) {
  switch (args.w.format) {
    case WeightFormat::kF32:
      return skinny_matmul_as<WeightFormat::kF32>(args, n_begin, n_end);
    case WeightFormat::kF16:
      return skinny_matmul_as<WeightFormat::kF16>(args, n_begin, n_end);
    case WeightFormat::kBF16:
      return skinny_matmul_as<WeightFormat::kBF16>(args, n_begin, n_end);
    case WeightFormat::kQ8_0:
      PPD_CHECK(false && "Q8_0 runs skinny_matmul_q8 on quantized x");
  }
}

void decode_weight_row(WeightFormat format, const uint8_t* src, int64_t k, float* dst) {
  auto run = [&](auto load) {
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) _mm256_storeu_ps(dst + i, load(src, static_cast<int>(i)));
    if (i < k) ppd::decode_weight_row(format, src, k, dst);  // odd lengths: whole row, exactly
  };
  switch (format) {
    case WeightFormat::kF32:
      return run(WeightLoad<WeightFormat::kF32>::load);
    case WeightFormat::kF16:
      return run(WeightLoad<WeightFormat::kF16>::load);
    case WeightFormat::kBF16:
      return run(WeightLoad<WeightFormat::kBF16>::load);
    case WeightFormat::kQ8_0:
      return run(WeightLoad<WeightFormat::kQ8_0>::load);
  }
}

}  // namespace ppd::kernels::avx2
