// The Q8_0 skinny matmul with AVX2's 8-bit products: vpmaddubsw sums pairs of u8 × s8 into
// int16 (|w| ≤ 128 and |x| ≤ 127, so a pair stays below 32767 and never saturates), vpmaddwd
// sums pairs of those into int32.
#include "ppd/kernels/matmul_q8_tile.h"

namespace ppd::kernels::avx2 {
namespace {

// x · w = |w| · (x signed as w): an unsigned × signed product, as vpmaddubsw takes them.
struct MaddubsDot {
  // x rows x w rows per tile: 8 accumulators, the x operands and those in flight fit the
  // 16 registers of a VEX encoding.
  static constexpr int kTileRows = 2;
  static constexpr int kTileCols = 4;
  using X = __m256i;
  struct W {
    __m256i magnitude, sign;
  };
  static X prepare_x(__m256i xq) { return xq; }
  static W prepare_w(__m256i wq) { return {_mm256_sign_epi8(wq, wq), wq}; }
  static __m256i dot(const W& w, X x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w.magnitude, _mm256_sign_epi8(x, w.sign)), _mm256_set1_epi16(1));
  }
};

}  // namespace

void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end) {
  q8_skinny_matmul<MaddubsDot>(args, xq, n_begin, n_end);
}

}  // namespace ppd::kernels::avx2
