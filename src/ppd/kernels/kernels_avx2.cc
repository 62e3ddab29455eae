// AVX2/FMA implementations of the element-wise kernels (rmsnorm, rope, silu_mul,
// add_inplace). Compiled with -mavx2 -mfma; reached only through run-time dispatch.
// Tails (lengths not a multiple of 8) are handled with scalar code of the same formula.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/vec_math_avx2.h"

namespace ppd::kernels::avx2 {

void rmsnorm(const float* x, const float* weight, float eps, int dim, float* out) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i);
    const __m256 b = _mm256_loadu_ps(x + i + 8);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
    acc1 = _mm256_fmadd_ps(b, b, acc1);
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
  }
  float sum_squares = hsum_ps(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum_squares += x[i] * x[i];
  const float inv_rms = 1.0f / std::sqrt(sum_squares / static_cast<float>(dim > 0 ? dim : 1) + eps);
  const __m256 scale = _mm256_set1_ps(inv_rms);
  i = 0;
  for (; i + 8 <= dim; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), scale);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(v, _mm256_loadu_ps(weight + i)));
  }
  for (; i < dim; ++i) out[i] = x[i] * inv_rms * weight[i];
}

void rope(float* x, int num_heads, int head_dim, const float* cos_sin) {
  const int half = head_dim / 2;
  const float* cos = cos_sin;
  const float* sin = cos_sin + half;
  for (int h = 0; h < num_heads; ++h) {
    float* head = x + int64_t{h} * head_dim;
    int i = 0;
    for (; i + 8 <= half; i += 8) {
      const __m256 a = _mm256_loadu_ps(head + i);
      const __m256 b = _mm256_loadu_ps(head + i + half);
      const __m256 c = _mm256_loadu_ps(cos + i);
      const __m256 s = _mm256_loadu_ps(sin + i);
      // Separate mul and add/sub (no FMA) so the result matches the scalar formula exactly.
      _mm256_storeu_ps(head + i, _mm256_sub_ps(_mm256_mul_ps(a, c), _mm256_mul_ps(b, s)));
      _mm256_storeu_ps(head + i + half, _mm256_add_ps(_mm256_mul_ps(b, c), _mm256_mul_ps(a, s)));
    }
    for (; i < half; ++i) {
      const float a = head[i];
      const float b = head[i + half];
      const float ac = a * cos[i];
      const float bs = b * sin[i];
      const float bc = b * cos[i];
      const float as = a * sin[i];
      head[i] = ac - bs;
      head[i + half] = bc + as;
    }
  }
}

void silu_mul(const float* gate, const float* up, int n, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_ps(_mm256_xor_ps(g, sign));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_inplace(float* y, const float* x, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  }
  for (; i < n; ++i) y[i] += x[i];
}

}  // namespace ppd::kernels::avx2
