// Matmul problems shared by the matmul tests: random x, w and bias, a naive double-precision
// reference, and weights encoded in another format. Test-only; not linked into the library.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_test_util.h"

namespace ppd::kernels::test_util {

struct Problem {
  int m, n, k;
  std::vector<float> x, w, bias;  // [m][k], [n][k], [n] or empty

  MatmulArgs args(std::vector<float>& y) const {
    y.assign(static_cast<size_t>(m) * n, std::nanf(""));
    return {x.data(), w.data(), bias.empty() ? nullptr : bias.data(), y.data(), m, n, k};
  }
};

inline Problem random_problem(std::mt19937& rng, int m, int n, int k, bool with_bias) {
  Problem p{m, n, k, random_floats(rng, int64_t{m} * k), random_floats(rng, int64_t{n} * k), {}};
  if (with_bias) p.bias = random_floats(rng, n);
  return p;
}

// Checks y against a double reference, with a tolerance scaled by sum |x||w|.
inline void expect_matches_reference(const Problem& p, const std::vector<float>& y) {
  for (int i = 0; i < p.m; ++i) {
    for (int j = 0; j < p.n; ++j) {
      double sum = p.bias.empty() ? 0.0 : p.bias[j];
      double magnitude = std::fabs(sum);
      for (int kk = 0; kk < p.k; ++kk) {
        const double prod = double{p.x[i * p.k + kk]} * p.w[int64_t{j} * p.k + kk];
        sum += prod;
        magnitude += std::fabs(prod);
      }
      ASSERT_NEAR(y[int64_t{i} * p.n + j], sum, 1e-5 * magnitude + 1e-6)
          << "row " << i << " col " << j << " (m=" << p.m << " n=" << p.n << " k=" << p.k << ")";
    }
  }
}

// The weights in another format, and the problem with the weights they decode to (its
// reference: the kernels convert exactly, so only the summation order differs).
struct EncodedProblem {
  Problem decoded;
  WeightFormat format;
  std::vector<uint8_t> w_bytes;

  MatmulArgs args(std::vector<float>& y) const {
    MatmulArgs a = decoded.args(y);
    a.w = WeightRef(w_bytes.data(), format);
    return a;
  }
};

inline EncodedProblem encode(Problem p, WeightFormat format) {
  const size_t row_bytes = weight_row_bytes(format, p.k);
  EncodedProblem e{std::move(p), format, {}};
  e.w_bytes.resize(row_bytes * e.decoded.n + 1);  // + 1: the pointer is never null at k = 0
  for (int j = 0; j < e.decoded.n; ++j) {
    float* row = e.decoded.w.data() + int64_t{j} * e.decoded.k;
    encode_weight_row(format, row, e.decoded.k, e.w_bytes.data() + j * row_bytes);
    decode_weight_row(format, e.w_bytes.data() + j * row_bytes, e.decoded.k, row);
  }
  return e;
}

}  // namespace ppd::kernels::test_util
