// The skinny matmul for Q8_0 weights on Q8 activations (kernels_internal.h, Q8Activations),
// as a template over the instruction that sums four u8 × s8 products into each int32 lane:
// AVX2's vpmaddubsw + vpmaddwd, or VNNI's vpdpbusd (VEX or EVEX encoded). The integer sums
// are exact and equal for every variant, so all of them give bitwise the result of
// scalar::skinny_matmul_q8.
//
// Include ONLY from the translation units that instantiate it (matmul_q8_*.cc), each built
// with its own instruction set. Everything here has internal linkage, so no copy compiled for
// one instruction set can be picked by the linker for another.
//
// Per block of 32 values and per (x row, w row) pair, the policy's dot instruction gives 8
// int32 lanes (values 4l..4l+3 in lane l); they are converted to floats and fma'd with the
// pair's scale d_w · d_x into its 8-lane float accumulator. Tiles as in the float kernel
// (matmul_avx2.cc): Dot::kTileRows x rows × Dot::kTileCols w rows, each w block read once per
// call and reused from L1 by every x row group; 8 w rows when M = 1.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/skinny_prefetch.h"

namespace ppd::kernels {
namespace {  // NOLINT(google-build-namespaces): internal linkage per instruction set, see above

// The fixed-order lane sum of the float kernels (vec_math_avx2.h, hsum_ps), kept here with
// internal linkage: ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)).
inline float q8_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int N, typename F>
[[gnu::always_inline]] inline void q8_unroll(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) __attribute__((always_inline)) {
    (f(std::integral_constant<int, I>{}), ...);
  }
  (std::make_integer_sequence<int, N>{});
}

struct Q8Tile {
  const int8_t* xq;   // [MR][k]
  const float* xd;    // [MR][k / 32]
  const uint8_t* w;   // [NR] rows of row_bytes
  const float* bias;  // [NR] or null
  float* y;           // [MR][y_stride]
  WeightPrefetch prefetch;
  int64_t row_bytes;
  int k;
  int y_stride;
};

// One tile. Dot is the instruction policy (matmul_q8_*.cc):
//   X Dot::prepare_x(__m256i xq): an x block's operands, once per x row and block;
//   W Dot::prepare_w(__m256i wq): a w block's operands, once per w row and block;
//   __m256i Dot::dot(const W&, const X&): the block's 8 int32 lane sums for one pair.
template <typename Dot, int MR, int NR>
void q8_tile(const Q8Tile& t) {
  static_assert(NR <= 8);
  const int blocks = t.k / kQ8BlockValues;
  WeightPrefetch pf = t.prefetch;
  __m256 acc[MR][NR];
  q8_unroll<MR>([&](auto i) { q8_unroll<NR>([&](auto j) { acc[i][j] = _mm256_setzero_ps(); }); });
  for (int b = 0; b < blocks; ++b) {
    const uint8_t* w_block = t.w + int64_t{b} * kQ8BlockBytes;
    // The pairs' scales d_w · d_x: the NR F16 scales converted in one instruction, times each
    // x row's scale, kept in memory so that each pair reads its own as a broadcast load.
    __m128i w_bits = _mm_setzero_si128();
    q8_unroll<NR>([&](auto j) {
      uint16_t bits;
      std::memcpy(&bits, w_block + int64_t{j} * t.row_bytes, sizeof(bits));
      w_bits = _mm_insert_epi16(w_bits, bits, j);
    });
    const __m256 w_scales = _mm256_cvtph_ps(w_bits);
    alignas(32) float scales[MR][8];
    typename Dot::X x[MR];
    q8_unroll<MR>([&](auto i) {
      _mm256_store_ps(scales[i], _mm256_mul_ps(w_scales, _mm256_broadcast_ss(t.xd + int64_t{i} * blocks + b)));
      x[i] = Dot::prepare_x(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.xq + int64_t{i} * t.k + b * kQ8BlockValues)));
    });
    q8_unroll<NR>([&](auto j) {
      const typename Dot::W w =
          Dot::prepare_w(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w_block + int64_t{j} * t.row_bytes + 2)));
      q8_unroll<MR>([&](auto i) {
        const __m256 sums = _mm256_cvtepi32_ps(Dot::dot(w, x[i]));
        acc[i][j] = _mm256_fmadd_ps(sums, _mm256_broadcast_ss(&scales[i][j]), acc[i][j]);
      });
    });
    pf.step(int64_t{NR} * kQ8BlockBytes);
  }
  q8_unroll<MR>([&](auto i) {
    q8_unroll<NR>([&](auto j) {
      float v = q8_hsum(acc[i][j]);
      if (t.bias != nullptr) v += t.bias[j];
      t.y[int64_t{i} * t.y_stride + j] = v;
    });
  });
}

using Q8TileFn = void (*)(const Q8Tile&);

// The tile for mr <= MR x rows and nr <= NR w rows (at the edges of the matrix).
template <typename Dot, int MR, int NR>
Q8TileFn q8_tile_fn(int mr, int nr) {
  if constexpr (MR > 1) {
    if (mr < MR) return q8_tile_fn<Dot, MR - 1, NR>(mr, nr);
  }
  if constexpr (NR > 1) {
    if (nr < NR) return q8_tile_fn<Dot, MR, NR - 1>(mr, nr);
  }
  return &q8_tile<Dot, MR, NR>;
}

// The VNNI policy, for a Dpbusd with `static __m256i run(__m256i acc, __m256i u8, __m256i s8)`
// (acc + per lane the sum of four u8 × s8 products: vpdpbusd, VEX or EVEX encoded).
// x · w = x · (w + 128) − 128 · Σx per lane: w + 128 (w with its top bit flipped) is the
// unsigned operand, so one vpdpbusd per pair, starting from the x block's −128 · Σx, gives the
// exact sums; the correction costs two instructions per x block, shared by every w row.
template <typename Dpbusd, int Rows, int Cols>
struct VnniDot {
  static constexpr int kTileRows = Rows;
  static constexpr int kTileCols = Cols;
  struct X {
    __m256i q, correction;
  };
  using W = __m256i;
  static X prepare_x(__m256i xq) {
    const __m256i sums = Dpbusd::run(_mm256_setzero_si256(), _mm256_set1_epi8(static_cast<char>(0x80)), xq);
    return {xq, _mm256_sub_epi32(_mm256_setzero_si256(), sums)};
  }
  static W prepare_w(__m256i wq) { return _mm256_xor_si256(wq, _mm256_set1_epi8(static_cast<char>(0x80))); }
  static __m256i dot(W w, const X& x) { return Dpbusd::run(x.correction, w, x.q); }
};

// With one x row, 8 w rows per tile: 8 accumulators and 8 read streams.
constexpr int kQ8SingleRowTileCols = 8;

template <typename Dot>
void q8_skinny_matmul(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end) {
  const int blocks = args.k / kQ8BlockValues;
  Q8Tile t{};
  t.k = args.k;
  t.y_stride = args.n;
  const uint8_t* w_base = args.w.bytes();
  t.row_bytes = int64_t{blocks} * kQ8BlockBytes;
  t.prefetch = {w_base, -1, int64_t{n_end} * t.row_bytes};
  int j0 = n_begin;
  if (args.m == 1) {
    t.xq = xq.q;
    t.xd = xq.d;
    for (; j0 + kQ8SingleRowTileCols <= n_end; j0 += kQ8SingleRowTileCols) {
      t.w = w_base + int64_t{j0} * t.row_bytes;
      t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
      t.y = args.y + j0;
      t.prefetch.start_at(int64_t{j0} * t.row_bytes);
      q8_tile<Dot, 1, kQ8SingleRowTileCols>(t);
    }
  }
  for (; j0 < n_end; j0 += Dot::kTileCols) {
    const int nr = std::min(Dot::kTileCols, n_end - j0);
    t.w = w_base + int64_t{j0} * t.row_bytes;
    t.bias = args.bias != nullptr ? args.bias + j0 : nullptr;
    // All x row groups reuse this w tile while it is in L1; the first one prefetches.
    for (int i0 = 0; i0 < args.m; i0 += Dot::kTileRows) {
      const int mr = std::min(Dot::kTileRows, args.m - i0);
      t.xq = xq.q + int64_t{i0} * args.k;
      t.xd = xq.d + int64_t{i0} * blocks;
      t.y = args.y + int64_t{i0} * args.n + j0;
      t.prefetch.offset = -1;
      if (i0 == 0) t.prefetch.start_at(int64_t{j0} * t.row_bytes);
      q8_tile_fn<Dot, Dot::kTileRows, Dot::kTileCols>(mr, nr)(t);
    }
  }
}

}  // namespace
}  // namespace ppd::kernels
