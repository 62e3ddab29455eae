// Tests of paged attention against a dense double-precision reference on random mixes of
// decode rows, prefills and prefill chunks over shuffled block tables, and of the bitwise
// independence of a query row from the batch, tile and thread count it is computed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_test_util.h"

namespace ppd::kernels {
namespace {

using test_util::random_floats;
using test_util::random_int;

struct Scenario {
  kv::KvLayout layout;
  int layer = 1;
  int q_stride = 0;
  int num_rows = 0;
  std::vector<uint8_t> kv_pool;                    // [num_blocks][block_bytes], NaN if unwritten
  std::vector<std::vector<int32_t>> block_tables;  // per sequence
  std::vector<AttentionSequence> sequences;
  std::vector<float> q;                    // [num_rows][q_stride]
  std::vector<std::vector<float>> keys;    // per sequence: [position][num_kv_heads][head_dim]
  std::vector<std::vector<float>> values;  // per sequence: [position][num_kv_heads][head_dim]

  int out_stride() const { return layout.num_heads * layout.head_dim; }
  AttentionArgs args(std::vector<float>& out) const {
    out.assign(static_cast<size_t>(num_rows) * out_stride(), std::nanf(""));
    return {layout,
            kv_pool.data(),
            layer,
            q.data(),
            q_stride,
            out.data(),
            1.0f / std::sqrt(static_cast<float>(layout.head_dim)),
            sequences};
  }
};

// Several sequences: decode rows, prefills from 0 and prefill chunks after a cached prefix.
// Rounds values to `dtype` (what the cache then holds, and the reference must use).
void round_to(Dtype dtype, std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * dtype_size_bytes(dtype));
  convert_from_f32(dtype, values.data(), values.size(), bytes.data());
  convert_to_f32(dtype, bytes.data(), values.size(), values.data());
}

Scenario make_scenario(std::mt19937& rng, int group, int block_size, int head_dim, Dtype dtype = Dtype::kF32) {
  Scenario s;
  const int num_kv_heads = random_int(rng, 1, 2);
  s.layout = {.num_layers = 2,
              .num_kv_heads = num_kv_heads,
              .num_heads = num_kv_heads * group,
              .head_dim = head_dim,
              .block_size = block_size,
              .dtype = dtype};
  s.q_stride = s.layout.num_heads * head_dim + random_int(rng, 0, 1) * 8;
  const int num_sequences = random_int(rng, 1, 4);
  std::vector<int> num_blocks;
  for (int i = 0; i < num_sequences; ++i) {
    AttentionSequence seq;
    switch (random_int(rng, 0, 2)) {
      case 0:
        seq.first_position = random_int(rng, 0, 90), seq.num_query_tokens = 1;
        break;
      case 1:
        seq.first_position = 0, seq.num_query_tokens = random_int(rng, 1, 70);
        break;
      default:
        seq.first_position = random_int(rng, 1, 60), seq.num_query_tokens = random_int(rng, 1, 40);
    }
    seq.first_row = s.num_rows;
    s.num_rows += seq.num_query_tokens;
    num_blocks.push_back((seq.first_position + seq.num_query_tokens + block_size - 1) / block_size);
    s.sequences.push_back(seq);
  }
  std::vector<int32_t> ids(std::accumulate(num_blocks.begin(), num_blocks.end(), 3));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  s.kv_pool.assign(ids.size() * s.layout.block_bytes(), 0xff);  // all-ones: NaN in every dtype
  const int kv_floats = num_kv_heads * head_dim;
  size_t next_id = 0;
  for (int i = 0; i < num_sequences; ++i) {
    s.block_tables.emplace_back(ids.begin() + next_id, ids.begin() + next_id + num_blocks[i]);
    next_id += num_blocks[i];
    s.sequences[i].block_table = s.block_tables.back().data();
    const int num_positions = s.sequences[i].first_position + s.sequences[i].num_query_tokens;
    s.keys.push_back(random_floats(rng, int64_t{num_positions} * kv_floats));
    s.values.push_back(random_floats(rng, int64_t{num_positions} * kv_floats));
    round_to(dtype, s.keys.back());
    round_to(dtype, s.values.back());
    const std::vector<float> other = random_floats(rng, kv_floats);  // another layer's data
    for (int p = 0; p < num_positions; ++p) {
      const int32_t block = s.block_tables[i][p / block_size];
      write_kv(s.layout, s.kv_pool.data(), block, p % block_size, s.layer, s.keys[i].data() + int64_t{p} * kv_floats,
               s.values[i].data() + int64_t{p} * kv_floats);
      write_kv(s.layout, s.kv_pool.data(), block, p % block_size, 0, other.data(), other.data());
    }
  }
  s.q = random_floats(rng, int64_t{s.num_rows} * s.q_stride, -2.0f, 2.0f);
  return s;
}

// Dense causal softmax attention in double over the per-sequence key/value arrays.
std::vector<double> reference_attention(const Scenario& s) {
  const kv::KvLayout& l = s.layout;
  const int hd = l.head_dim;
  const int group = l.num_heads / l.num_kv_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<double> out(static_cast<size_t>(s.num_rows) * s.out_stride());
  for (size_t i = 0; i < s.sequences.size(); ++i) {
    const AttentionSequence& seq = s.sequences[i];
    for (int t = 0; t < seq.num_query_tokens; ++t) {
      const int pos = seq.first_position + t;
      const int row = seq.first_row + t;
      for (int h = 0; h < l.num_heads; ++h) {
        const float* q = s.q.data() + int64_t{row} * s.q_stride + h * hd;
        const int kv_offset = (h / group) * hd;
        std::vector<double> p(pos + 1);
        for (int j = 0; j <= pos; ++j) {
          const float* k = s.keys[i].data() + int64_t{j} * l.num_kv_heads * hd + kv_offset;
          for (int d = 0; d < hd; ++d) p[j] += double{q[d]} * k[d];
          p[j] *= scale;
        }
        const double max = *std::max_element(p.begin(), p.end());
        double sum = 0.0;
        for (double& x : p) sum += (x = std::exp(x - max));
        double* o = out.data() + int64_t{row} * s.out_stride() + h * hd;
        for (int j = 0; j <= pos; ++j) {
          const float* v = s.values[i].data() + int64_t{j} * l.num_kv_heads * hd + kv_offset;
          for (int d = 0; d < hd; ++d) o[d] += p[j] / sum * v[d];
        }
      }
    }
  }
  return out;
}

void expect_matches_reference(const Scenario& s, const std::vector<float>& out) {
  const std::vector<double> want = reference_attention(s);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(out[i], want[i], 2e-5) << "row " << i / s.out_stride() << " element " << i % s.out_stride();
  }
}

// Each row computed alone (one sequence, one query) equals its value inside the batch.
void expect_rows_invariant(KernelPath path, const Scenario& s, const std::vector<float>& out, ThreadPool& pool) {
  for (const AttentionSequence& seq : s.sequences) {
    for (int t = 0; t < seq.num_query_tokens; ++t) {
      const int row = seq.first_row + t;
      const AttentionSequence alone_seq{seq.block_table, seq.first_position + t, 1, 0};
      std::vector<float> out_alone;
      AttentionArgs args = s.args(out_alone);  // sized for all rows; only row 0 is written
      args.q = s.q.data() + int64_t{row} * s.q_stride;
      args.sequences = {&alone_seq, 1};
      attention(path, args, pool);
      ASSERT_EQ(
          0, std::memcmp(out_alone.data(), out.data() + int64_t{row} * s.out_stride(), sizeof(float) * s.out_stride()))
          << "row " << row;
    }
  }
}

struct Shape {
  int group, block_size, head_dim;
};

std::vector<Shape> all_shapes() {
  std::vector<Shape> shapes;
  for (int group : {1, 2, 4}) {
    for (int bs : {8, 16, 24, 32, 64}) {
      for (int hd : {16, 64, 72, 128}) shapes.push_back({group, bs, hd});
    }
  }
  shapes.push_back({2, 5, 12});  // neither a multiple of 8: scalar fallback on the AVX2 path
  shapes.push_back({1, 16, 20});
  return shapes;
}

TEST(AttentionTest, MatchesDenseReferenceOnRandomMixes) {
  ThreadPool pool1(1), pool2(2);
  uint32_t seed = 0;
  for (const Shape& shape : all_shapes()) {
    for (int rep = 0; rep < 2; ++rep) {
      ++seed;
      SCOPED_TRACE(::testing::Message() << "seed " << seed << " group " << shape.group << " bs " << shape.block_size
                                        << " hd " << shape.head_dim);
      std::mt19937 rng(seed);
      const Scenario s = make_scenario(rng, shape.group, shape.block_size, shape.head_dim);
      for (KernelPath path : test_util::runnable_paths()) {
        SCOPED_TRACE(kernel_path_name(path));
        std::vector<float> out1, out2;
        attention(path, s.args(out1), pool1);
        expect_matches_reference(s, out1);
        attention(path, s.args(out2), pool2);
        ASSERT_EQ(out1, out2) << "thread count changed the result";
      }
    }
  }
}

// F16 and BF16 caches: the kernels read back exactly what write_kv stored.
TEST(AttentionTest, HalfPrecisionCachesMatchTheReferenceOnTheirValues) {
  ThreadPool pool2(2);
  uint32_t seed = 500;
  for (const Dtype dtype : {Dtype::kF16, Dtype::kBF16}) {
    for (const Shape& shape : {Shape{1, 16, 64}, Shape{2, 8, 16}, Shape{4, 32, 128}, Shape{2, 5, 12}}) {
      ++seed;
      SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " seed " << seed);
      std::mt19937 rng(seed);
      const Scenario s = make_scenario(rng, shape.group, shape.block_size, shape.head_dim, dtype);
      EXPECT_EQ(s.layout.block_bytes() * 2, static_cast<size_t>(s.layout.block_values()) * 4);
      for (KernelPath path : test_util::runnable_paths()) {
        SCOPED_TRACE(kernel_path_name(path));
        std::vector<float> out;
        attention(path, s.args(out), pool2);
        expect_matches_reference(s, out);
        expect_rows_invariant(path, s, out, pool2);
      }
    }
  }
}

TEST(AttentionTest, RowsAreBitwiseIndependentOfTheBatch) {
  ThreadPool pool1(1), pool2(2);
  uint32_t seed = 1000;
  for (const Shape& shape : {Shape{1, 16, 64}, Shape{2, 8, 16}, Shape{4, 32, 128}, Shape{2, 24, 72}, Shape{2, 5, 12}}) {
    ++seed;
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const Scenario s = make_scenario(rng, shape.group, shape.block_size, shape.head_dim);
    for (KernelPath path : test_util::runnable_paths()) {
      SCOPED_TRACE(kernel_path_name(path));
      std::vector<float> out;
      attention(path, s.args(out), pool2);
      expect_rows_invariant(path, s, out, seed % 2 == 0 ? pool1 : pool2);
    }
  }
}

}  // namespace
}  // namespace ppd::kernels
