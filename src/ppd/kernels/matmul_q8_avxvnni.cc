// The Q8_0 skinny matmul with AVX-VNNI's vpdpbusd (VEX encoded, on ymm): four u8 × s8 products
// summed into each int32 lane in one instruction. Built with -mavxvnni; called only when
// CpuFeatures::avx_vnni.
#include "ppd/kernels/matmul_q8_tile.h"

namespace ppd::kernels::avxvnni {
namespace {

struct Dpbusd {
  static __m256i run(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_avx_epi32(acc, u, s); }
};

// 2 x rows x 4 w rows: 8 accumulators, the x operands and those in flight fit the 16
// registers of a VEX encoding.
using Dot = VnniDot<Dpbusd, 2, 4>;

}  // namespace

void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end) {
  q8_skinny_matmul<Dot>(args, xq, n_begin, n_end);
}

}  // namespace ppd::kernels::avxvnni
