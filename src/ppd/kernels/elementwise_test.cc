// Tests of the element-wise kernels (AVX2 vs scalar vs direct formulas), kernel-path parsing
// and write_kv placement.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_test_util.h"

namespace ppd::kernels {
namespace {

using test_util::random_floats;
using test_util::random_int;

void expect_near_rel(const std::vector<float>& got, const std::vector<float>& want, double rel, double abs) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i])) << "at index " << i;
  }
}

bool has_avx2() { return best_kernel_path() == KernelPath::kAvx2; }

TEST(KernelPathTest, ParsesNames) {
  EXPECT_EQ(*parse_kernel_path("scalar"), KernelPath::kScalar);
  EXPECT_EQ(*parse_kernel_path("auto"), best_kernel_path());
  if (has_avx2()) {
    EXPECT_EQ(*parse_kernel_path("avx2"), KernelPath::kAvx2);
  } else {
    EXPECT_EQ(parse_kernel_path("avx2").status().message(), "kernels: \"avx2\" requested but this CPU lacks AVX2/FMA");
  }
  const Result<KernelPath> bad = parse_kernel_path("avx512");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "kernels: unknown \"avx512\"; supported: auto, scalar, avx2");
  EXPECT_EQ(kernel_path_name(KernelPath::kScalar), "scalar");
  EXPECT_EQ(kernel_path_name(KernelPath::kAvx2), "avx2");
}

TEST(ElementwiseTest, RmsnormMatchesDoubleFormula) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int dim = random_int(rng, 1, 300);
    const std::vector<float> x = random_floats(rng, dim, -3.0f, 3.0f);
    const std::vector<float> w = random_floats(rng, dim, 0.5f, 1.5f);
    double ss = 0.0;
    for (float v : x) ss += double{v} * v;
    const double inv = 1.0 / std::sqrt(ss / dim + 1e-5);
    std::vector<float> want(dim);
    for (int i = 0; i < dim; ++i) want[i] = static_cast<float>(x[i] * inv * w[i]);
    for (KernelPath path : test_util::runnable_paths()) {
      std::vector<float> out(dim);
      rmsnorm(path, x.data(), w.data(), 1e-5f, dim, out.data());
      expect_near_rel(out, want, 1e-5, 1e-6);
      std::vector<float> in_place = x;  // out may alias x
      rmsnorm(path, in_place.data(), w.data(), 1e-5f, dim, in_place.data());
      EXPECT_EQ(in_place, out);
    }
  }
}

TEST(ElementwiseTest, RopeMatchesDirectFormula) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int head_dim = 2 * random_int(rng, 1, 80);
    const int num_heads = random_int(rng, 1, 5);
    const int pos = random_int(rng, 0, 5000);
    const int half = head_dim / 2;
    std::vector<float> cos_sin(head_dim);  // [half cos][half sin]
    for (int i = 0; i < half; ++i) {
      const double angle = pos * std::pow(10000.0, -2.0 * i / head_dim);
      cos_sin[i] = static_cast<float>(std::cos(angle));
      cos_sin[half + i] = static_cast<float>(std::sin(angle));
    }
    const std::vector<float> x = random_floats(rng, int64_t{num_heads} * head_dim);
    std::vector<float> want(x.size());
    for (int h = 0; h < num_heads; ++h) {
      const float* a = x.data() + h * head_dim;
      for (int i = 0; i < half; ++i) {
        const double c = cos_sin[i], s = cos_sin[half + i];
        want[h * head_dim + i] = static_cast<float>(a[i] * c - a[i + half] * s);
        want[h * head_dim + i + half] = static_cast<float>(a[i + half] * c + a[i] * s);
      }
    }
    for (KernelPath path : test_util::runnable_paths()) {
      std::vector<float> got = x;
      rope(path, got.data(), num_heads, head_dim, cos_sin.data());
      expect_near_rel(got, want, 1e-6, 1e-6);
    }
  }
}

TEST(ElementwiseTest, SiluMulAndAddMatchScalar) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int n = random_int(rng, 1, 500);
    std::vector<float> gate = random_floats(rng, n, -12.0f, 12.0f);
    gate[0] = -100.0f;  // exp(-g) overflows in float: silu must still be ~0, not NaN
    const std::vector<float> up = random_floats(rng, n, -2.0f, 2.0f);
    std::vector<float> want(n);
    for (int i = 0; i < n; ++i) {
      want[i] = static_cast<float>(gate[i] / (1.0 + std::exp(-double{gate[i]})) * up[i]);
    }
    std::vector<float> sum_want(n);
    for (int i = 0; i < n; ++i) sum_want[i] = up[i] + gate[i];
    for (KernelPath path : test_util::runnable_paths()) {
      std::vector<float> out(n);
      silu_mul(path, gate.data(), up.data(), n, out.data());
      expect_near_rel(out, want, 1e-5, 1e-6);
      std::vector<float> y = up;
      add_inplace(path, y.data(), gate.data(), n);
      EXPECT_EQ(y, sum_want);
    }
  }
}

TEST(WriteKvTest, PlacesValuesWhereLayoutSays) {
  kv::KvLayout layout{.num_layers = 3, .num_kv_heads = 2, .num_heads = 4, .head_dim = 8, .block_size = 16};
  const int num_blocks = 4;
  std::vector<float> pool(num_blocks * layout.block_values(), -7.0f);
  std::mt19937 rng(5);
  const std::vector<float> k = random_floats(rng, layout.num_kv_heads * layout.head_dim);
  const std::vector<float> v = random_floats(rng, layout.num_kv_heads * layout.head_dim);
  const int block = 2, slot = 11, layer = 1;
  write_kv(layout, reinterpret_cast<uint8_t*>(pool.data()), block, slot, layer, k.data(), v.data());
  int64_t written = 0;
  for (int h = 0; h < layout.num_kv_heads; ++h) {
    for (int d = 0; d < layout.head_dim; ++d) {
      // Direct formula: block-major, [layer][K|V][kv_head], K slab [d][slot], V slab [slot][d].
      const int64_t slab = ((int64_t{layer} * 2 + 0) * layout.num_kv_heads + h) * 16 * 8;
      const int64_t base = block * layout.block_values();
      EXPECT_EQ(pool[base + slab + d * 16 + slot], k[h * 8 + d]);
      EXPECT_EQ(pool[base + slab + layout.num_kv_heads * 16 * 8 + slot * 8 + d], v[h * 8 + d]);
      written += 2;
    }
  }
  int64_t untouched = 0;
  for (float f : pool) untouched += f == -7.0f;
  EXPECT_EQ(untouched, static_cast<int64_t>(pool.size()) - written);
}

TEST(WriteKvTest, HalfPrecisionStoresTheRoundedValues) {
  for (const Dtype dtype : {Dtype::kF16, Dtype::kBF16}) {
    kv::KvLayout layout{.num_layers = 2, .num_kv_heads = 2, .num_heads = 2, .head_dim = 8, .block_size = 8};
    layout.dtype = dtype;
    EXPECT_EQ(layout.block_bytes(), static_cast<size_t>(layout.block_values()) * 2);
    std::vector<uint8_t> pool(3 * layout.block_bytes(), 0);
    std::mt19937 rng(6);
    const std::vector<float> k = random_floats(rng, 16);
    const std::vector<float> v = random_floats(rng, 16);
    write_kv(layout, pool.data(), 1, 5, 1, k.data(), v.data());
    const uint8_t* v_slab = layout.slab(pool.data(), 1, 1, 1, 1);  // V of kv head 1
    const uint8_t* k_slab = layout.slab(pool.data(), 1, 1, 0, 1);  // K of kv head 1
    for (int d = 0; d < 8; ++d) {
      float got_v, got_k, want_v, want_k;
      convert_to_f32(dtype, v_slab + (5 * 8 + d) * 2, 1, &got_v);
      convert_to_f32(dtype, k_slab + (d * 8 + 5) * 2, 1, &got_k);
      uint8_t bits[2];
      convert_from_f32(dtype, &v[8 + d], 1, bits);
      convert_to_f32(dtype, bits, 1, &want_v);
      convert_from_f32(dtype, &k[8 + d], 1, bits);
      convert_to_f32(dtype, bits, 1, &want_k);
      EXPECT_EQ(got_v, want_v) << dtype_name(dtype) << " d " << d;
      EXPECT_EQ(got_k, want_k) << dtype_name(dtype) << " d " << d;
      EXPECT_NEAR(got_v, v[8 + d], 1e-2);
    }
  }
}

}  // namespace
}  // namespace ppd::kernels
