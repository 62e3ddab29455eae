// The Q8_0 skinny matmul with AVX512-VNNI's vpdpbusd on ymm (EVEX encoded, AVX-512 VL; Cascade
// Lake, Ice Lake, Sapphire Rapids, Zen 4). Built with -mavx512vnni -mavx512vl, so the
// compiler has 32 ymm registers; called only when CpuFeatures::avx512_vnni.
#include "ppd/kernels/matmul_q8_tile.h"

namespace ppd::kernels::avx512vnni {
namespace {

struct Dpbusd {
  static __m256i run(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
};

// 3 x rows x 6 w rows: 18 accumulators, 6 x operands and 4 in flight of the 32 registers EVEX
// reaches (BM_MatmulQ8Dot at 32 rows: 3 x 7 ran as fast, 4 x 4 and 2 x 8 slower).
using Dot = VnniDot<Dpbusd, 3, 6>;

}  // namespace

void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end) {
  q8_skinny_matmul<Dot>(args, xq, n_begin, n_end);
}

}  // namespace ppd::kernels::avx512vnni
