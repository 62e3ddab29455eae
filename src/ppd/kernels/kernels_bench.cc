// Micro-benchmarks of the kernels: skinny matmul vs OpenBLAS sgemm across M (the evidence for
// default_skinny_matmul_max_rows), weight-streaming GB/s against an AVX2 read-loop baseline, and
// each weight format and each 8-bit dot instruction of the Q8_0 kernel, and paged attention
// for a 512-token prefill and a batch-8 decode. Arguments end in the thread
// count; the skinny kernel and attention use a ThreadPool, sgemm OpenBLAS's own threads.
// Like `ppd`, the binary first restarts itself with the OpenBLAS kernels `ppd` runs on this
// CPU (decision record 0004), and its context names them.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ppd/common/cpu_features.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_internal.h"

namespace ppd::kernels {
namespace bench {
float stream_read_sum(const float* data, int64_t n);  // kernels_bench_avx2.cc
}  // namespace bench
namespace {

// A cached buffer of `n` pseudo-random floats in [-1, 1) (filled once per size).
const std::vector<float>& random_buffer(int64_t n, int tag) {
  static std::map<std::pair<int64_t, int>, std::unique_ptr<std::vector<float>>> cache;
  auto& slot = cache[{n, tag}];
  if (!slot) {
    slot = std::make_unique<std::vector<float>>(static_cast<size_t>(n));
    std::mt19937 rng(static_cast<uint32_t>(n + tag));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : *slot) v = dist(rng);
  }
  return *slot;
}

void set_rate_counters(benchmark::State& state, double bytes_per_iter, double flops_per_iter) {
  using benchmark::Counter;
  if (bytes_per_iter > 0) {
    state.counters["bytes/s"] = Counter(bytes_per_iter, Counter::kIsIterationInvariantRate);
  }
  if (flops_per_iter > 0) {
    state.counters["FLOP/s"] = Counter(flops_per_iter, Counter::kIsIterationInvariantRate);
  }
}

// Arg 0: threads. Streams 256 MiB, split across the pool's threads.
void BM_ReadBandwidth(benchmark::State& state) {
  const int64_t n = int64_t{64} << 20;
  const std::vector<float>& data = random_buffer(n, 0);
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pool.parallel_for(n / 32, [&](int64_t begin, int64_t end) {
      benchmark::DoNotOptimize(bench::stream_read_sum(data.data() + begin * 32, (end - begin) * 32));
    });
  }
  set_rate_counters(state, static_cast<double>(n) * sizeof(float), 0);
}

enum class MatmulImpl { kSkinny, kBlas };

// Args: m, n, k, threads.
template <MatmulImpl kImpl>
void BM_Matmul(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const int k = static_cast<int>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const std::vector<float>& w = random_buffer(int64_t{n} * k, 1);
  const std::vector<float>& x = random_buffer(int64_t{m} * k, 2);
  std::vector<float> y(static_cast<size_t>(m) * n);
  const MatmulArgs args{x.data(), w.data(), nullptr, y.data(), m, n, k};
  ThreadPool pool(threads);
  set_blas_threads(1);  // as in the engine: the pool splits the columns
  for (auto _ : state) {
    if (kImpl == MatmulImpl::kSkinny) internal::skinny_matmul(best_kernel_path(), args, pool);
    if (kImpl == MatmulImpl::kBlas) internal::blas_matmul(best_kernel_path(), args, pool);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate_counters(state, double{sizeof(float)} * n * k, 2.0 * m * n * k);
}

// The matmul with its weights in each format. Args: m, n, k, threads, WeightFormat, impl (0
// skinny, 1 BLAS path). Bytes/s counts the weights' bytes in their format.
void BM_MatmulFormat(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const int k = static_cast<int>(state.range(2));
  const auto format = static_cast<WeightFormat>(state.range(4));
  const std::vector<float>& w = random_buffer(int64_t{n} * k, 1);
  const size_t row_bytes = weight_row_bytes(format, k);
  std::vector<uint8_t> w_bytes(row_bytes * n);
  for (int j = 0; j < n; ++j) encode_weight_row(format, w.data() + int64_t{j} * k, k, w_bytes.data() + j * row_bytes);
  const std::vector<float>& x = random_buffer(int64_t{m} * k, 2);
  std::vector<float> y(static_cast<size_t>(m) * n);
  const MatmulArgs args{x.data(), WeightRef(w_bytes.data(), format), nullptr, y.data(), m, n, k};
  ThreadPool pool(static_cast<int>(state.range(3)));
  set_blas_threads(1);
  for (auto _ : state) {
    if (state.range(5) == 0) internal::skinny_matmul(best_kernel_path(), args, pool);
    if (state.range(5) == 1) internal::blas_matmul(best_kernel_path(), args, pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(weight_format_name(format)));
  set_rate_counters(state, static_cast<double>(w_bytes.size()), 2.0 * m * n * k);
}

// The Q8_0 skinny kernel with each 8-bit dot instruction, x quantized once outside the loop.
// Args: m, instruction (0 vpmaddubsw, 1 AVX-VNNI, 2 AVX512-VNNI); one thread, 1408 x 512.
void BM_MatmulQ8Dot(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = 1408, k = 512;
  using Kernel = void (*)(const MatmulArgs&, const Q8Activations&, int, int);
  const Kernel kernels[] = {&avx2::skinny_matmul_q8, &avxvnni::skinny_matmul_q8, &avx512vnni::skinny_matmul_q8};
  const char* names[] = {"vpmaddubsw", "avx-vnni", "avx512-vnni"};
  const CpuFeatures f = detect_cpu_features();
  const bool runnable[] = {best_kernel_path() == KernelPath::kAvx2, f.avx_vnni, f.avx512_vnni};
  const auto which = static_cast<size_t>(state.range(1));
  if (!runnable[which]) return state.SkipWithError("this CPU lacks the instruction");
  const std::vector<float>& w = random_buffer(int64_t{n} * k, 1);
  const size_t row_bytes = weight_row_bytes(WeightFormat::kQ8_0, k);
  std::vector<uint8_t> w_bytes(row_bytes * n);
  for (int j = 0; j < n; ++j)
    encode_weight_row(WeightFormat::kQ8_0, w.data() + int64_t{j} * k, k, w_bytes.data() + j * row_bytes);
  std::vector<int8_t> x_q(static_cast<size_t>(m) * k);
  std::vector<float> x_d(static_cast<size_t>(m) * k / kQ8BlockValues), y(static_cast<size_t>(m) * n);
  internal::quantize_activations_q8(random_buffer(int64_t{m} * k, 2).data(), m, k, x_q.data(), x_d.data());
  const MatmulArgs args{nullptr, WeightRef(w_bytes.data(), WeightFormat::kQ8_0), nullptr, y.data(), m, n, k};
  for (auto _ : state) {
    kernels[which](args, {x_q.data(), x_d.data()}, 0, n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(names[which]);
  set_rate_counters(state, static_cast<double>(w_bytes.size()), 2.0 * m * n * k);
}

void matmul_format_args(benchmark::internal::Benchmark* b) {
  for (int format = 0; format <= static_cast<int>(WeightFormat::kQ8_0); ++format) {
    for (int m : {1, 8, 32}) b->Args({m, 1408, 512, 1, format, 0});
    b->Args({512, 1408, 512, 1, format, 1});
  }
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    for (int m : {1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256}) {
      b->Args({m, 1408, 512, threads});
      b->Args({m, 512, 1408, threads});
    }
    for (int m : {1, 2, 4, 8, 16, 32, 64, 96, 128}) b->Args({m, 32000, 768, threads});  // 98 MB
    b->Args({512, 1408, 512, threads});                                                 // prefill-sized GEMM
    for (int m : {32, 64, 96, 128, 192}) {
      b->Args({m, 1024, 2816, threads});
      b->Args({m, 5632, 1024, threads});
    }
  }
}

// The "small" preset's weights (fused qkv, o, fused gate-up, down, LM head) around the
// crossover, one thread as in a node of the sim-vs-measured runs.
void small_preset_matmul_args(benchmark::internal::Benchmark* b) {
  for (int m : {8, 12, 16, 24, 32, 48, 64, 96}) {
    for (auto [n, k] : {std::pair{1024, 512}, {512, 512}, {2816, 512}, {512, 1408}, {8192, 512}}) {
      b->Args({m, n, k, 1});
    }
  }
}

// Args: m, threads, crossover. The matmuls of one step of m tokens of the "small" preset
// (hidden 512, ffn 1408, 8 layers, 8 heads / 4 kv heads, vocab 8192, tied): 33 distinct
// weights, 111 MB, more than the caches hold, through the public matmul with
// skinny_matmul_max_rows() set to the crossover (-1: this process's default); bytes/s counts
// each weight once per step.
void BM_DecodeStepMatmuls(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const int default_rows = skinny_matmul_max_rows();
  set_skinny_matmul_max_rows(state.range(2) < 0 ? default_rows : static_cast<int>(state.range(2)));
  struct Shape {
    int n, k;
  };
  std::vector<Shape> shapes;
  for (int layer = 0; layer < 8; ++layer) {
    for (Shape s : {Shape{1024, 512}, Shape{512, 512}, Shape{2816, 512}, Shape{512, 1408}}) {
      shapes.push_back(s);
    }
  }
  shapes.push_back({8192, 512});
  std::vector<std::vector<float>> weights;
  double bytes = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    weights.push_back(random_buffer(int64_t{shapes[i].n} * shapes[i].k, 10 + static_cast<int>(i)));
    bytes += double{sizeof(float)} * shapes[i].n * shapes[i].k;
  }
  const std::vector<float>& x = random_buffer(int64_t{m} * 1408, 2);
  std::vector<float> y(static_cast<size_t>(m) * 8192);
  ThreadPool pool(static_cast<int>(state.range(1)));
  set_blas_threads(1);  // as in the engine: the pool splits the columns
  for (auto _ : state) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      matmul(best_kernel_path(), {x.data(), weights[i].data(), nullptr, y.data(), m, shapes[i].n, shapes[i].k}, pool);
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_skinny_matmul_max_rows(default_rows);
  set_rate_counters(state, bytes, 2.0 * m * bytes / sizeof(float));
}

// Both crossovers in use (32 and 96) on step sizes around and between them, one thread;
// crossover 16 as well, to show where sgemm starts to lead.
void step_crossover_args(benchmark::internal::Benchmark* b) {
  for (int m : {16, 24, 32, 40, 48, 64, 96}) {
    for (int rows : {16, 32, 96}) b->Args({m, 1, rows});
  }
}

struct AttentionSetup {
  kv::KvLayout layout{.num_layers = 1, .num_kv_heads = 4, .num_heads = 8, .head_dim = 64, .block_size = 16};
  std::vector<float> kv_pool;  // [num_blocks][block_values], F32
  std::vector<std::vector<int32_t>> block_tables;
  std::vector<AttentionSequence> sequences;
  std::vector<float> q, out;  // [num_rows][num_heads * head_dim]
  double flops = 0;           // QK^T and PV multiply-adds × 2
  double kv_bytes = 0;        // K and V bytes read once

  // `num_sequences` sequences, each with `num_queries` queries ending at position context-1,
  // in a cache of `num_layers` layers (the figures count one layer).
  AttentionSetup(int num_sequences, int num_queries, int context, int num_layers = 1) {
    layout.num_layers = num_layers;
    const int blocks_per_seq = (context + layout.block_size - 1) / layout.block_size;
    kv_pool = random_buffer(int64_t{num_sequences} * blocks_per_seq * layout.block_values(), 3);
    const int row_floats = layout.num_heads * layout.head_dim;
    for (int s = 0; s < num_sequences; ++s) {
      block_tables.emplace_back(blocks_per_seq);
      std::iota(block_tables.back().begin(), block_tables.back().end(), s * blocks_per_seq);
      sequences.push_back({block_tables.back().data(), context - num_queries, num_queries, s * num_queries});
      for (int t = 0; t < num_queries; ++t) {
        flops += 4.0 * (context - num_queries + t + 1) * layout.head_dim * layout.num_heads;
      }
      kv_bytes += 2.0 * context * layout.num_kv_heads * layout.head_dim * sizeof(float);
    }
    q = random_buffer(int64_t{num_sequences} * num_queries * row_floats, 4);
    out.resize(q.size());
  }

  AttentionArgs args() {
    return {layout,
            reinterpret_cast<const uint8_t*>(kv_pool.data()),
            0,
            q.data(),
            layout.num_heads * layout.head_dim,
            out.data(),
            1.0f / std::sqrt(static_cast<float>(layout.head_dim)),
            sequences};
  }
};

// Args: threads. One 512-token prefill, 8 heads, 4 kv heads, head_dim 64.
void BM_AttentionPrefill(benchmark::State& state) {
  AttentionSetup setup(1, 512, 512);
  ThreadPool pool(static_cast<int>(state.range(0)));
  const AttentionArgs args = setup.args();
  for (auto _ : state) attention(best_kernel_path(), args, pool);
  set_rate_counters(state, 0, setup.flops);
}

// Args: threads, decode rows, layers. Rows with 512 tokens of context each, all layers per
// iteration: 8 rows of one layer stay in cache; 32 rows of the small preset's 8 layers read
// 268 MB of KV per iteration, like one engine decode step at batch 32.
void BM_AttentionDecode(benchmark::State& state) {
  const int num_layers = static_cast<int>(state.range(2));
  AttentionSetup setup(static_cast<int>(state.range(1)), 1, 512, num_layers);
  ThreadPool pool(static_cast<int>(state.range(0)));
  AttentionArgs args = setup.args();
  for (auto _ : state) {
    for (args.layer = 0; args.layer < num_layers; ++args.layer) attention(best_kernel_path(), args, pool);
  }
  set_rate_counters(state, setup.kv_bytes * num_layers, setup.flops * num_layers);
}

BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Matmul<MatmulImpl::kSkinny>)->Name("BM_MatmulSkinny")->Apply(matmul_args)->UseRealTime();
BENCHMARK(BM_Matmul<MatmulImpl::kBlas>)->Name("BM_MatmulBlas")->Apply(matmul_args)->UseRealTime();
BENCHMARK(BM_Matmul<MatmulImpl::kSkinny>)->Name("BM_MatmulSkinnySmall")->Apply(small_preset_matmul_args)->UseRealTime();
BENCHMARK(BM_Matmul<MatmulImpl::kBlas>)->Name("BM_MatmulBlasSmall")->Apply(small_preset_matmul_args)->UseRealTime();
BENCHMARK(BM_MatmulFormat)->Apply(matmul_format_args)->UseRealTime();
BENCHMARK(BM_MatmulQ8Dot)->ArgsProduct({{1, 8, 32}, {0, 1, 2}})->UseRealTime();
BENCHMARK(BM_DecodeStepMatmuls)->ArgsProduct({{1, 4, 16, 64}, {1, 2}, {-1}})->UseRealTime();
BENCHMARK(BM_DecodeStepMatmuls)->Name("BM_StepMatmulsCrossover")->Apply(step_crossover_args)->UseRealTime();
BENCHMARK(BM_AttentionPrefill)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_AttentionDecode)->Args({1, 8, 1})->Args({2, 8, 1})->Args({1, 32, 8})->Args({2, 32, 8})->UseRealTime();

}  // namespace
}  // namespace ppd::kernels

int main(int argc, char** argv) {
  ppd::kernels::restart_with_preferred_blas_core(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("machine", ppd::kernels::describe_machine_and_blas());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
