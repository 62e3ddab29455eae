// The AVX2 read loop behind measure_read_bandwidth_gbs: four independent accumulators so
// the loop is bound by loads, not by the add latency.
#include <immintrin.h>

#include <cstddef>

namespace ppd::kernels::avx2 {

float sum_floats(const float* data, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(data + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(data + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(data + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(data + i + 24));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float total = 0;
  for (float v : lanes) total += v;
  for (; i < n; ++i) total += data[i];
  return total;
}

}  // namespace ppd::kernels::avx2
