// Benchmark-only AVX2 code: the streaming-read loop that gives the memory-bandwidth baseline
// the skinny matmul is compared against. Compiled with -mavx2 (see CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

#include "ppd/kernels/vec_math_avx2.h"

namespace ppd::kernels::bench {

// Returns the sum of data[0 .. n); reads every float once, 4 independent accumulators.
// REQUIRES: n % 32 == 0.
float stream_read_sum(const float* data, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(data + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(data + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(data + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(data + i + 24));
  }
  return avx2::hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

}  // namespace ppd::kernels::bench
