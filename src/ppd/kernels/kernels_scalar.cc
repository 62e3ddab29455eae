// Scalar reference implementations of the element-wise kernels and of the skinny matmul.
// Plain loops in baseline x86-64; they define the semantics the AVX2 paths are tested against.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ppd/kernels/kernels_internal.h"

namespace ppd::kernels::scalar {

void rmsnorm(const float* x, const float* weight, float eps, int dim, float* out) {
  double sum_squares = 0.0;
  for (int i = 0; i < dim; ++i) sum_squares += double{x[i]} * x[i];
  const float inv_rms = static_cast<float>(1.0 / std::sqrt(sum_squares / std::max(dim, 1) + double{eps}));
  for (int i = 0; i < dim; ++i) out[i] = x[i] * inv_rms * weight[i];
}

void rope(float* x, int num_heads, int head_dim, const float* cos_sin) {
  const int half = head_dim / 2;
  const float* cos = cos_sin;
  const float* sin = cos_sin + half;
  for (int h = 0; h < num_heads; ++h) {
    float* head = x + int64_t{h} * head_dim;
    for (int i = 0; i < half; ++i) {
      const float a = head[i];
      const float b = head[i + half];
      head[i] = a * cos[i] - b * sin[i];
      head[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

void silu_mul(const float* gate, const float* up, int n, float* out) {
  for (int i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_inplace(float* y, const float* x, int n) {
  for (int i = 0; i < n; ++i) y[i] += x[i];
}

void skinny_matmul(const MatmulArgs& args, int n_begin, int n_end) {
  const int k = args.k;
  const size_t row_bytes = weight_row_bytes(args.w.format, k);
  std::vector<float> w_row(static_cast<size_t>(k));  // [k]
  for (int j = n_begin; j < n_end; ++j) {
    decode_weight_row(args.w.format, args.w.bytes() + static_cast<size_t>(j) * row_bytes, k, w_row.data());
    for (int i = 0; i < args.m; ++i) {
      const float* x_row = args.x + int64_t{i} * k;  // [k]
      float sum = 0.0f;
      for (int kk = 0; kk < k; ++kk) sum += x_row[kk] * w_row[kk];
      if (args.bias != nullptr) sum += args.bias[j];
      args.y[int64_t{i} * args.n + j] = sum;
    }
  }
}

}  // namespace ppd::kernels::scalar
