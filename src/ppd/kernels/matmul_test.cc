// Tests of matmul: the skinny kernel (scalar and AVX2) and the OpenBLAS path against a naive
// double-precision reference, and the skinny kernel's bitwise row invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ppd/kernels/blas_core.h"
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
using test_util::random_floats;
using test_util::random_int;
using test_util::random_problem;

TEST(MatmulTest, AllPathsMatchDoubleReference) {
  ThreadPool pool1(1), pool2(2);
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int m = static_cast<int>(seed);  // 1 .. 40: both sides of the AVX-512 cores' crossover
    const int n = 2 * random_int(rng, 0, 60) + 1;
    const int k = 2 * random_int(rng, 0, 150) + 1;
    const Problem p = random_problem(rng, m, n, k, seed % 2 == 0);
    std::vector<float> y;
    for (KernelPath path : test_util::runnable_paths()) {
      for (ThreadPool* pool : {&pool1, &pool2}) {
        matmul(path, p.args(y), *pool);
        expect_matches_reference(p, y);
        internal::skinny_matmul(path, p.args(y), *pool);  // the skinny kernel beyond its range
        expect_matches_reference(p, y);
      }
    }
    for (ThreadPool* pool : {&pool1, &pool2}) {
      internal::blas_matmul(KernelPath::kScalar, p.args(y), *pool);
      expect_matches_reference(p, y);
    }
  }
}

TEST(MatmulTest, LargeShapesAreThreadedAndCorrect) {
  ThreadPool pool(2);
  std::mt19937 rng(99);
  for (int m : {1, 3, 16}) {
    const Problem p = random_problem(rng, m, 301, 517, m == 3);
    std::vector<float> y;
    for (KernelPath path : test_util::runnable_paths()) {
      matmul(path, p.args(y), pool);
      expect_matches_reference(p, y);
    }
  }
}

// Row r computed with m = 1 equals row r inside m = 13 and inside the largest skinny m,
// bitwise, for any thread count.
TEST(MatmulTest, SkinnyRowsAreBitwiseInvariant) {
  if (best_kernel_path() != KernelPath::kAvx2) GTEST_SKIP() << "no AVX2";
  ThreadPool pool1(1), pool2(2);
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int n = random_int(rng, 1, 400);
    const int k = random_int(rng, 1, 600);
    const int m = seed <= 7 ? 13 : skinny_matmul_max_rows();
    const Problem all = random_problem(rng, m, n, k, seed % 2 == 1);
    std::vector<float> y_all;
    matmul(KernelPath::kAvx2, all.args(y_all), pool2);
    for (int r = 0; r < all.m; ++r) {
      Problem one{1, n, k, {all.x.begin() + int64_t{r} * k, all.x.begin() + int64_t{r + 1} * k}, all.w, all.bias};
      std::vector<float> y_one;
      matmul(KernelPath::kAvx2, one.args(y_one), r % 2 == 0 ? pool1 : pool2);
      ASSERT_EQ(0, std::memcmp(y_one.data(), y_all.data() + int64_t{r} * n, sizeof(float) * n))
          << "row " << r << " of " << m;
    }
  }
}

// Both crossovers in use (AVX-512 OpenBLAS kernels and the others), whichever this process has.
TEST(MatmulTest, DispatchAroundTheThresholdIsCorrect) {
  ThreadPool pool(2);
  std::mt19937 rng(7);
  const int process_rows = skinny_matmul_max_rows();
  for (int max_rows : {default_skinny_matmul_max_rows("SkylakeX"), default_skinny_matmul_max_rows("Haswell")}) {
    set_skinny_matmul_max_rows(max_rows);
    for (int m : {max_rows - 1, max_rows, max_rows + 1}) {
      const Problem p = random_problem(rng, m, 37, 45, m % 2 == 0);
      std::vector<float> y;
      for (KernelPath path : test_util::runnable_paths()) {
        matmul(path, p.args(y), pool);
        expect_matches_reference(p, y);
      }
    }
  }
  set_skinny_matmul_max_rows(process_rows);
}

// Above the crossover matmul is OpenBLAS's result, at or below it the skinny kernel's, bitwise.
TEST(MatmulTest, TheCrossoverPicksTheKernel) {
  ThreadPool pool(1);
  std::mt19937 rng(11);
  const int process_rows = skinny_matmul_max_rows();
  const Problem p = random_problem(rng, 20, 96, 301, true);
  std::vector<float> skinny, blas, y;
  internal::skinny_matmul(best_kernel_path(), p.args(skinny), pool);
  internal::blas_matmul(best_kernel_path(), p.args(blas), pool);
  ASSERT_NE(skinny, blas);  // they sum in different orders, so the check below can tell them apart
  set_skinny_matmul_max_rows(19);
  matmul(best_kernel_path(), p.args(y), pool);
  EXPECT_EQ(y, blas);
  set_skinny_matmul_max_rows(20);
  matmul(best_kernel_path(), p.args(y), pool);
  EXPECT_EQ(y, skinny);
  set_skinny_matmul_max_rows(process_rows);
}

// The crossover follows OpenBLAS's kernels: its AVX-512 sgemm wins from 40 rows on.
TEST(MatmulTest, TheCrossoverFollowsTheBlasKernels) {
  for (const char* core : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    EXPECT_EQ(default_skinny_matmul_max_rows(core), 32) << core;
  }
  for (const char* core : {"Haswell", "Zen", "Prescott", ""}) {
    EXPECT_EQ(default_skinny_matmul_max_rows(core), 96) << core;
  }
  EXPECT_EQ(skinny_matmul_max_rows(), default_skinny_matmul_max_rows(blas_core_name()));
}

// (Q8_0, whose skinny kernel also quantizes x, has its own tests: matmul_q8_test.cc.)
TEST(MatmulTest, EveryWeightFormatMatchesItsDecodedReference) {
  ThreadPool pool1(1), pool2(2);
  for (WeightFormat format : {WeightFormat::kF16, WeightFormat::kBF16}) {
    for (uint32_t seed = 1; seed <= 12; ++seed) {
      SCOPED_TRACE(::testing::Message() << weight_format_name(format) << " seed " << seed);
      std::mt19937 rng(seed);
      const int m = seed <= 6 ? random_int(rng, 1, 20) : random_int(rng, 20, 120);
      const int n = random_int(rng, 1, 130);
      const int k = random_int(rng, 1, 400);
      const EncodedProblem p = encode(random_problem(rng, m, n, k, seed % 2 == 0), format);
      std::vector<float> y;
      for (KernelPath path : test_util::runnable_paths()) {
        for (ThreadPool* pool : {&pool1, &pool2}) {
          matmul(path, p.args(y), *pool);
          expect_matches_reference(p.decoded, y);
          internal::skinny_matmul(path, p.args(y), *pool);
          expect_matches_reference(p.decoded, y);
          internal::blas_matmul(path, p.args(y), *pool);
          expect_matches_reference(p.decoded, y);
        }
      }
    }
  }
}

// The row invariance holds in every format: a row alone equals the same row among 13.
TEST(MatmulTest, SkinnyRowsAreBitwiseInvariantInEveryFormat) {
  if (best_kernel_path() != KernelPath::kAvx2) GTEST_SKIP() << "no AVX2";
  ThreadPool pool2(2);
  std::mt19937 rng(5);
  for (WeightFormat format : {WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kQ8_0}) {
    const int k = format == WeightFormat::kQ8_0 ? 320 : 301;
    const EncodedProblem all = encode(random_problem(rng, 13, 203, k, true), format);
    std::vector<float> y_all;
    matmul(KernelPath::kAvx2, all.args(y_all), pool2);
    for (int r = 0; r < 13; ++r) {
      const Problem& d = all.decoded;
      EncodedProblem one{{1, d.n, k, {d.x.begin() + int64_t{r} * k, d.x.begin() + int64_t{r + 1} * k}, d.w, d.bias},
                         format,
                         all.w_bytes};
      std::vector<float> y_one;
      matmul(KernelPath::kAvx2, one.args(y_one), pool2);
      ASSERT_EQ(0, std::memcmp(y_one.data(), y_all.data() + int64_t{r} * d.n, sizeof(float) * d.n))
          << weight_format_name(format) << " row " << r;
    }
  }
}

// The vectorized row decoding gives the exact values of the reference one.
TEST(MatmulTest, VectorizedDecodingIsExact) {
  if (best_kernel_path() != KernelPath::kAvx2) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(8);
  for (WeightFormat format : {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kQ8_0}) {
    for (int k : {32, 96, 37, 8}) {
      if (format == WeightFormat::kQ8_0 && k % 32 != 0) continue;
      const std::vector<float> values = random_floats(rng, k);
      std::vector<uint8_t> bytes(weight_row_bytes(format, k));
      encode_weight_row(format, values.data(), k, bytes.data());
      std::vector<float> expected(k), got(k);
      decode_weight_row(format, bytes.data(), k, expected.data());
      avx2::decode_weight_row(format, bytes.data(), k, got.data());
      EXPECT_EQ(0, std::memcmp(expected.data(), got.data(), sizeof(float) * k))
          << weight_format_name(format) << " k " << k;
    }
  }
}

TEST(MatmulTest, ZeroKGivesBias) {
  ThreadPool pool(1);
  std::mt19937 rng(3);
  for (int m : {1, 40}) {
    const Problem p = random_problem(rng, m, 9, 0, true);
    std::vector<float> y;
    for (KernelPath path : test_util::runnable_paths()) {
      matmul(path, p.args(y), pool);
      expect_matches_reference(p, y);
    }
  }
}

}  // namespace
}  // namespace ppd::kernels
