// Tests of the Q8_0 matmul: x quantized per block of 32 values, the skinny kernel against a
// double reference on the quantized x, and every 8-bit dot instruction against the scalar
// kernel, bitwise.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ppd/common/cpu_features.h"
#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_internal.h"
#include "ppd/kernels/kernels_test_util.h"
#include "ppd/kernels/matmul_test_util.h"

namespace ppd::kernels {
namespace {

using test_util::encode;
using test_util::EncodedProblem;
using test_util::expect_matches_reference;
using test_util::Problem;
using test_util::random_int;
using test_util::random_problem;

struct QuantizedRows {
  std::vector<int8_t> q;
  std::vector<float> d;

  Q8Activations view() const { return {q.data(), d.data()}; }
};

QuantizedRows quantize(const std::vector<float>& x, int m, int k) {
  QuantizedRows r{std::vector<int8_t>(static_cast<size_t>(m) * k), std::vector<float>(static_cast<size_t>(m) * k / 32)};
  internal::quantize_activations_q8(x.data(), m, k, r.q.data(), r.d.data());
  return r;
}

// The problem with x replaced by what its quantized rows stand for (d * q).
Problem with_quantized_x(Problem p) {
  const QuantizedRows r = quantize(p.x, p.m, p.k);
  for (size_t i = 0; i < p.x.size(); ++i) p.x[i] = r.d[i / 32] * static_cast<float>(r.q[i]);
  return p;
}

TEST(Q8ActivationsTest, EachBlockOfThirtyTwoGetsItsOwnScale) {
  std::mt19937 rng(1);
  std::vector<float> x = test_util::random_floats(rng, 6 * 32, -3.0f, 3.0f);
  for (int i = 32; i < 64; ++i) x[i] = 0.0f;                                  // block 1: zeros
  x[64 + 5] = std::numeric_limits<float>::quiet_NaN();                        // block 2: a NaN
  x[96 + 31] = -std::numeric_limits<float>::infinity();                       // block 3: an infinity
  for (int i = 128; i < 160; ++i) x[i] = i % 2 == 0 ? 1.0f : -1.0f;           // block 4: ties at ±127
  for (int i = 160; i < 192; ++i) x[i] = static_cast<float>(i - 160) * 0.5f;  // block 5: 0 .. 15.5
  const QuantizedRows r = quantize(x, 2, 96);
  EXPECT_EQ(r.d[1], 0.0f);
  EXPECT_TRUE(std::isnan(r.d[2]));
  EXPECT_TRUE(std::isnan(r.d[3]));
  for (int b : {1, 2, 3}) {
    for (int i = 0; i < 32; ++i) EXPECT_EQ(r.q[b * 32 + i], 0) << "block " << b;
  }
  for (int i = 128; i < 160; ++i) EXPECT_EQ(r.q[i], i % 2 == 0 ? 127 : -127);
  EXPECT_FLOAT_EQ(r.d[5], 15.5f / 127.0f);
  EXPECT_EQ(r.q[160 + 31], 127);
  EXPECT_EQ(r.q[160 + 1], 4);  // 0.5 / (15.5 / 127) = 4.097
  for (int b : {0, 4, 5}) {
    for (int i = b * 32; i < (b + 1) * 32; ++i) {
      EXPECT_LE(std::fabs(x[i] - r.d[b] * r.q[i]), r.d[b] * 0.5f * 1.0001f) << "value " << i;
    }
  }
}

// Up to the crossover matmul runs the skinny kernel on quantized x; above it, the BLAS path on
// the floats. Both against a double reference of what they multiply.
TEST(Q8MatmulTest, MatchesTheReferenceOfTheQuantizedRows) {
  ThreadPool pool1(1), pool2(2);
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int m = seed <= 6 ? random_int(rng, 1, 20) : random_int(rng, 20, 120);
    const int n = random_int(rng, 1, 130);
    const int k = 32 * random_int(rng, 1, 12);
    const EncodedProblem p = encode(random_problem(rng, m, n, k, seed % 2 == 0), WeightFormat::kQ8_0);
    const Problem quantized = with_quantized_x(p.decoded);
    std::vector<float> y;
    for (KernelPath path : test_util::runnable_paths()) {
      for (ThreadPool* pool : {&pool1, &pool2}) {
        matmul(path, p.args(y), *pool);
        expect_matches_reference(m <= skinny_matmul_max_rows() ? quantized : p.decoded, y);
        internal::skinny_matmul(path, p.args(y), *pool);
        expect_matches_reference(quantized, y);
        internal::blas_matmul(path, p.args(y), *pool);
        expect_matches_reference(p.decoded, y);
      }
    }
  }
}

using Q8Kernel = void (*)(const MatmulArgs&, const Q8Activations&, int, int);

// The vectorized kernels this CPU can run, by name.
std::vector<std::pair<const char*, Q8Kernel>> vector_kernels() {
  std::vector<std::pair<const char*, Q8Kernel>> kernels;
  const CpuFeatures f = detect_cpu_features();
  if (best_kernel_path() == KernelPath::kAvx2) kernels.emplace_back("avx2", &avx2::skinny_matmul_q8);
  if (f.avx_vnni) kernels.emplace_back("avx-vnni", &avxvnni::skinny_matmul_q8);
  if (f.avx512_vnni) kernels.emplace_back("avx512-vnni", &avx512vnni::skinny_matmul_q8);
  return kernels;
}

// Equal bits, or both NaN.
bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(float)) == 0;
}

// Every instruction's kernel gives the scalar kernel's bits, on any column range: random rows,
// rows at ±max|x| against weights at ±127 (the largest products: no int16 saturation), and a
// row holding a NaN.
TEST(Q8MatmulTest, EveryDotInstructionGivesTheScalarBits) {
  const auto kernels = vector_kernels();
  if (kernels.empty()) GTEST_SKIP() << "no AVX2";
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int m = random_int(rng, 1, 7);
    const int n = random_int(rng, 1, 70);
    const int k = 32 * random_int(rng, 1, 9);
    Problem p = random_problem(rng, m, n, k, seed % 2 == 0);
    for (int kk = 0; kk < 32; ++kk) {
      p.x[kk] = kk % 3 == 0 ? -2.0f : 2.0f;  // row 0, block 0: q = ±127
      if (n > 1) p.w[int64_t{1} * k + kk] = kk % 3 == 0 ? -0.5f : 0.5f;
    }
    if (m > 2) p.x[int64_t{2} * k + 3] = std::numeric_limits<float>::quiet_NaN();
    const EncodedProblem e = encode(p, WeightFormat::kQ8_0);
    const QuantizedRows xq = quantize(p.x, m, k);
    std::vector<float> expected, got;
    scalar::skinny_matmul_q8(e.args(expected), xq.view(), 0, n);
    for (const auto& [name, kernel] : kernels) {
      const MatmulArgs args = e.args(got);
      const int split = random_int(rng, 0, n);
      kernel(args, xq.view(), 0, split);
      kernel(args, xq.view(), split, n);
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(same_float(got[i], expected[i])) << name << " at " << i << ": " << got[i] << " vs " << expected[i];
      }
    }
    if (m > 2) {
      EXPECT_TRUE(std::isnan(expected[int64_t{2} * n]));
    }
  }
}

}  // namespace
}  // namespace ppd::kernels
