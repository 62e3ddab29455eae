// Dispatch of the public kernels to their scalar or AVX2 implementation, kernel-path parsing,
// the matmul split between the skinny kernel and OpenBLAS, and write_kv.
#include "ppd/kernels/kernels.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ppd/common/check.h"
#include "ppd/common/cpu_features.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/kernels/kernels_internal.h"

namespace ppd::kernels {
namespace {

// Below this many weight floats per call a skinny matmul runs on the calling thread only:
// waking the pool costs more than the work.
constexpr int64_t kMinParallelMatmulFloats = 64 * 1024;
// The skinny kernel's threads split the output columns in units of this many columns,
// taken in about this many chunks per thread.
constexpr int kSkinnyColumnUnit = 8;
constexpr int kSkinnyChunksPerThread = 8;
// The BLAS path splits output columns between threads in multiples of OpenBLAS's tile width.
constexpr int kBlasColumnUnit = 16;
// Floats of a non-F32 weight decoded per sgemm call on the BLAS path: each call packs x anew,
// so fewer, larger calls win until the decoded block falls out of L2.
constexpr int64_t kBlasDecodeFloats = int64_t{1} << 20;

// The process's crossover; -1 until first read.
std::atomic<int> g_skinny_max_rows{-1};

}  // namespace

KernelPath best_kernel_path() {
  const CpuFeatures f = detect_cpu_features();
  return f.avx2 && f.fma && f.f16c ? KernelPath::kAvx2 : KernelPath::kScalar;
}

std::string_view kernel_path_name(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return "scalar";
    case KernelPath::kAvx2:
      return "avx2";
  }
  return "unknown";
}

Result<KernelPath> parse_kernel_path(std::string_view name) {
  if (name == "auto") return best_kernel_path();
  if (name == "scalar") return KernelPath::kScalar;
  if (name == "avx2") {
    if (best_kernel_path() != KernelPath::kAvx2) {
      return failed_precondition("kernels: \"avx2\" requested but this CPU lacks AVX2/FMA/F16C");
    }
    return KernelPath::kAvx2;
  }
  return invalid_argument("kernels: unknown \"{}\"; supported: auto, scalar, avx2", name);
}

void rmsnorm(KernelPath path, const float* x, const float* weight, float eps, int dim, float* out) {
  if (path == KernelPath::kAvx2) return avx2::rmsnorm(x, weight, eps, dim, out);
  scalar::rmsnorm(x, weight, eps, dim, out);
}

void rope(KernelPath path, float* x, int num_heads, int head_dim, const float* cos_sin) {
  PPD_CHECK(head_dim % 2 == 0);
  if (path == KernelPath::kAvx2) return avx2::rope(x, num_heads, head_dim, cos_sin);
  scalar::rope(x, num_heads, head_dim, cos_sin);
}

void silu_mul(KernelPath path, const float* gate, const float* up, int n, float* out) {
  if (path == KernelPath::kAvx2) return avx2::silu_mul(gate, up, n, out);
  scalar::silu_mul(gate, up, n, out);
}

void add_inplace(KernelPath path, float* y, const float* x, int n) {
  if (path == KernelPath::kAvx2) return avx2::add_inplace(y, x, n);
  scalar::add_inplace(y, x, n);
}

void matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool) {
  PPD_CHECK(args.m >= 0 && args.n >= 0 && args.k >= 0);
  PPD_CHECK(args.w.format != WeightFormat::kQ8_0 || args.k % kQ8BlockValues == 0);
  if (args.m == 0 || args.n == 0) return;
  if (args.m <= skinny_matmul_max_rows()) return internal::skinny_matmul(path, args, pool);
  internal::blas_matmul(path, args, pool);
}

int skinny_matmul_max_rows() {
  int rows = g_skinny_max_rows.load(std::memory_order_relaxed);
  if (rows < 0) {
    rows = default_skinny_matmul_max_rows(blas_core_name());
    g_skinny_max_rows.store(rows, std::memory_order_relaxed);
  }
  return rows;
}

void set_skinny_matmul_max_rows(int rows) {
  PPD_CHECK(rows >= 0);
  g_skinny_max_rows.store(rows, std::memory_order_relaxed);
}

int default_skinny_matmul_max_rows(std::string_view blas_core) {
  constexpr std::string_view kAvx512Cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
  return std::ranges::find(kAvx512Cores, blas_core) != std::end(kAvx512Cores) ? 32 : 96;
}

void set_blas_threads(int num_threads) { openblas_set_num_threads(std::max(1, num_threads)); }
int blas_threads() { return openblas_get_num_threads(); }

namespace {

// K of one kv head into column `slot` of its slab ([head_dim][block_size]), as Value.
template <typename Value, typename Convert>
void write_k_column(const float* k, int head_dim, int block_size, int slot, uint8_t* slab, Convert convert) {
  auto* out = reinterpret_cast<Value*>(slab);
  for (int d = 0; d < head_dim; ++d) out[int64_t{d} * block_size + slot] = convert(k[d]);
}

}  // namespace

void write_kv(const kv::KvLayout& layout, uint8_t* kv_base, int32_t block, int slot, int layer, const float* k,
              const float* v) {
  PPD_CHECK(slot >= 0 && slot < layout.block_size);
  const int hd = layout.head_dim;
  const int bs = layout.block_size;
  const size_t value_bytes = layout.value_bytes();
  for (int h = 0; h < layout.num_kv_heads; ++h) {
    // k_slab: [head_dim][block_size]; v_slab: [block_size][head_dim]
    uint8_t* k_slab = layout.slab(kv_base, block, layer, 0, h);
    uint8_t* v_slab = layout.slab(kv_base, block, layer, 1, h);
    switch (layout.dtype) {
      case Dtype::kF32:
        write_k_column<float>(k + h * hd, hd, bs, slot, k_slab, [](float x) { return x; });
        break;
      case Dtype::kF16:
        write_k_column<uint16_t>(k + h * hd, hd, bs, slot, k_slab, f32_to_f16);
        break;
      case Dtype::kBF16:
        write_k_column<uint16_t>(k + h * hd, hd, bs, slot, k_slab, f32_to_bf16);
        break;
    }
    convert_from_f32(layout.dtype, v + h * hd, static_cast<size_t>(hd), v_slab + int64_t{slot} * hd * value_bytes);
  }
}

namespace internal {

void quantize_activations_q8(const float* x, int m, int k, int8_t* q, float* d) {
  const int64_t blocks = int64_t{m} * (k / kQ8BlockValues);
  for (int64_t b = 0; b < blocks; ++b) {
    const float* in = x + b * kQ8BlockValues;
    int8_t* out = q + b * kQ8BlockValues;
    float amax = 0.0f;
    for (int i = 0; i < kQ8BlockValues; ++i) amax = std::max(amax, std::fabs(in[i]));
    // A NaN never wins std::max; adding each value times zero turns a NaN or an infinity into NaN.
    float check = amax;
    for (int i = 0; i < kQ8BlockValues; ++i) check += in[i] * 0.0f;
    if (!std::isfinite(check)) {
      d[b] = std::numeric_limits<float>::quiet_NaN();
      std::memset(out, 0, kQ8BlockValues);
      continue;
    }
    d[b] = amax / 127.0f;
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    // Round to nearest even by adding and subtracting 1.5 * 2^23 (|x * inv| <= 127 is far below
    // 2^22): exact in float arithmetic, and no libm call (std::nearbyint is one in baseline x86-64).
    constexpr float kRound = 12582912.0f;
    for (int i = 0; i < kQ8BlockValues; ++i) {
      const float r = (in[i] * inv + kRound) - kRound;
      out[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
  }
}

}  // namespace internal

namespace {

using Q8MatmulFn = void (*)(const MatmulArgs&, const Q8Activations&, int, int);

// The Q8_0 kernel for `path`: on AVX2, with the CPU's best 8-bit dot instruction (all give
// the same bits). AVX512-VNNI first: its EVEX encoding reaches 32 vector registers, so its
// tiles are larger (3 x 6 against 2 x 4; BM_MatmulQ8Dot at 32 rows: 0.78x AVX-VNNI's time).
Q8MatmulFn q8_matmul_fn(KernelPath path) {
  if (path == KernelPath::kScalar) return &scalar::skinny_matmul_q8;
  static const Q8MatmulFn best = [] {
    const CpuFeatures f = detect_cpu_features();
    return f.avx512_vnni ? &avx512vnni::skinny_matmul_q8
           : f.avx_vnni  ? &avxvnni::skinny_matmul_q8
                         : &avx2::skinny_matmul_q8;
  }();
  return best;
}

}  // namespace

namespace internal {

void skinny_matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool) {
  // Q8_0 weights multiply x quantized the same way, once per call, before the threads split
  // the columns: 8-bit dot products do four times the work of float FMAs per instruction.
  thread_local std::vector<int8_t> x_q;
  thread_local std::vector<float> x_d;
  Q8Activations xq;
  const Q8MatmulFn q8 = args.w.format == WeightFormat::kQ8_0 ? q8_matmul_fn(path) : nullptr;
  if (q8 != nullptr) {
    x_q.resize(static_cast<size_t>(args.m) * args.k);
    x_d.resize(static_cast<size_t>(args.m) * (args.k / kQ8BlockValues));
    quantize_activations_q8(args.x, args.m, args.k, x_q.data(), x_d.data());
    xq = {x_q.data(), x_d.data()};
  }
  auto run = [&](int n_begin, int n_end) {
    if (q8 != nullptr) return q8(args, xq, n_begin, n_end);
    if (path == KernelPath::kAvx2) return avx2::skinny_matmul(args, n_begin, n_end);
    scalar::skinny_matmul(args, n_begin, n_end);
  };
  if (int64_t{args.n} * args.k < kMinParallelMatmulFloats || pool.num_threads() == 1) {
    return run(0, args.n);
  }
  // Threads take column chunks from a shared counter: a static half-and-half split leaves
  // one thread waiting whenever the other is slowed (it shares the memory bus and the core).
  const int64_t num_units = (args.n + kSkinnyColumnUnit - 1) / kSkinnyColumnUnit;
  const int64_t num_chunks = std::min<int64_t>(num_units, int64_t{pool.num_threads()} * kSkinnyChunksPerThread);
  std::atomic<int64_t> next{0};
  pool.run_on_all([&](int, int) {
    for (int64_t c = next.fetch_add(1); c < num_chunks; c = next.fetch_add(1)) {
      const int64_t begin = num_units * c / num_chunks * kSkinnyColumnUnit;
      const int64_t end = std::min<int64_t>(num_units * (c + 1) / num_chunks * kSkinnyColumnUnit, args.n);
      run(static_cast<int>(begin), static_cast<int>(end));
    }
  });
}

void decode_weight_rows(KernelPath path, const WeightRef& w, int k, int first_row, int num_rows, float* dst) {
  const size_t row_bytes = weight_row_bytes(w.format, k);
  for (int r = 0; r < num_rows; ++r) {
    const uint8_t* src = w.bytes() + static_cast<size_t>(first_row + r) * row_bytes;
    float* out = dst + int64_t{r} * k;
    if (path == KernelPath::kAvx2) {
      avx2::decode_weight_row(w.format, src, k, out);
    } else {
      decode_weight_row(w.format, src, k, out);
    }
  }
}

// Each pool thread runs single-threaded sgemm on its own slice of output columns (OpenBLAS
// is kept at one thread by the engine): OpenBLAS's own worker threads would compete for
// the same cores with the pool's workers, which spin briefly between the step's loops.
// Weights in another format are decoded a block of rows (kBlasDecodeFloats) at a time into a
// per-thread buffer and multiplied from there.
void blas_matmul(KernelPath path, const MatmulArgs& args, ThreadPool& pool) {
  float beta = 0.0f;
  if (args.bias != nullptr) {
    for (int i = 0; i < args.m; ++i) {
      std::memcpy(args.y + int64_t{i} * args.n, args.bias, sizeof(float) * args.n);
    }
    beta = 1.0f;
  }
  const int ld = std::max(1, args.k);
  const int64_t num_units = (args.n + kBlasColumnUnit - 1) / kBlasColumnUnit;
  const bool f32 = args.w.format == WeightFormat::kF32;
  pool.parallel_for(num_units, [&](int64_t begin, int64_t end) {
    const int n0 = static_cast<int>(begin * kBlasColumnUnit);
    const int n1 = static_cast<int>(std::min<int64_t>(end * kBlasColumnUnit, args.n));
    if (f32) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, args.m, n1 - n0, args.k, 1.0f, args.x, ld,
                  static_cast<const float*>(args.w.data) + int64_t{n0} * args.k, ld, beta, args.y + n0, args.n);
      return;
    }
    const int block_rows = static_cast<int>(std::max<int64_t>(
        kBlasColumnUnit, kBlasDecodeFloats / std::max(1, args.k) / kBlasColumnUnit * kBlasColumnUnit));
    thread_local std::vector<float> decoded;
    decoded.resize(static_cast<size_t>(block_rows) * args.k);
    for (int c0 = n0; c0 < n1; c0 += block_rows) {
      const int rows = std::min(block_rows, n1 - c0);
      decode_weight_rows(path, args.w, args.k, c0, rows, decoded.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, args.m, rows, args.k, 1.0f, args.x, ld, decoded.data(), ld,
                  beta, args.y + c0, args.n);
    }
  });
}

}  // namespace internal
}  // namespace ppd::kernels
