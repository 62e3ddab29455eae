// Scalar reference implementations of the element-wise kernels and of the skinny matmul.
// Plain loops in baseline x86-64; they define the semantics the AVX2 paths are tested against.
// The Q8_0 one is exact to the bit: every path computes the same integer sums and float steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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

void skinny_matmul_q8(const MatmulArgs& args, const Q8Activations& xq, int n_begin, int n_end) {
  const int blocks = args.k / kQ8BlockValues;
  const size_t row_bytes = weight_row_bytes(WeightFormat::kQ8_0, args.k);
  for (int j = n_begin; j < n_end; ++j) {
    const uint8_t* w_row = args.w.bytes() + static_cast<size_t>(j) * row_bytes;
    for (int i = 0; i < args.m; ++i) {
      const int8_t* x_row = xq.q + int64_t{i} * args.k;
      float acc[8] = {};
      for (int b = 0; b < blocks; ++b) {
        const uint8_t* block = w_row + int64_t{b} * kQ8BlockBytes;
        uint16_t d_bits;
        std::memcpy(&d_bits, block, sizeof(d_bits));
        const float scale = f16_to_f32(d_bits) * xq.d[int64_t{i} * blocks + b];
        for (int l = 0; l < 8; ++l) {
          int32_t sum = 0;
          for (int t = 4 * l; t < 4 * l + 4; ++t) {
            sum += int32_t{static_cast<int8_t>(block[2 + t])} * x_row[b * kQ8BlockValues + t];
          }
          acc[l] = std::fma(static_cast<float>(sum), scale, acc[l]);
        }
      }
      float v = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
      if (args.bias != nullptr) v += args.bias[j];
      args.y[int64_t{i} * args.n + j] = v;
    }
  }
}

}  // namespace ppd::kernels::scalar
