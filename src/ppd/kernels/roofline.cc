#include "ppd/kernels/roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ppd/kernels/kernels.h"
#include "ppd/kernels/kernels_internal.h"

namespace ppd::kernels {
namespace avx2 {
float sum_floats(const float* data, size_t n);
}  // namespace avx2

namespace {

float sum_floats_scalar(const float* data, size_t n) {
  float acc[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += data[i + static_cast<size_t>(j)];
  }
  float total = 0;
  for (float a : acc) total += a;
  return total;
}

// The read probe's unit of work: 1 MiB.
constexpr size_t kChunkFloats = size_t{1} << 18;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool* pool, size_t bytes)
    : pool_(pool),
      buffer_(bytes / sizeof(float) / kChunkFloats * kChunkFloats),
      sinks_(static_cast<size_t>(pool->num_threads())) {
  measure_gbs(1);  // first touch: page faults are not bandwidth
}

double ReadBandwidthProbe::measure_gbs(int passes) {
  const size_t num_chunks = buffer_.size() / kChunkFloats;
  const bool avx2 = best_kernel_path() == KernelPath::kAvx2;
  double best = 0;
  for (int r = 0; r < passes; ++r) {
    std::atomic<size_t> next{0};
    const auto start = std::chrono::steady_clock::now();
    pool_->run_on_all([&](int index, int) {
      float sum = 0;
      for (size_t c = next.fetch_add(1); c < num_chunks; c = next.fetch_add(1)) {
        const float* p = buffer_.data() + c * kChunkFloats;
        sum += avx2 ? avx2::sum_floats(p, kChunkFloats) : sum_floats_scalar(p, kChunkFloats);
      }
      sinks_[static_cast<size_t>(index)] = sum;
    });
    best = std::max(best, static_cast<double>(buffer_.size() * sizeof(float)) / seconds_since(start) * 1e-9);
  }
  volatile float sink = 0;
  for (float v : sinks_) sink = sink + v;
  return best;
}

SgemmProbe::SgemmProbe(ThreadPool* pool, int m, int n, int k)
    : pool_(pool),
      m_(m),
      n_(n),
      k_(k),
      x_(static_cast<size_t>(m) * static_cast<size_t>(k), 0.5f),
      w_(static_cast<size_t>(n) * static_cast<size_t>(k), 0.25f),
      y_(static_cast<size_t>(m) * static_cast<size_t>(n)) {}

double SgemmProbe::measure_gflops(int calls) {
  const MatmulArgs args{.x = x_.data(), .w = w_.data(), .y = y_.data(), .m = m_, .n = n_, .k = k_};
  double best = 0;
  for (int r = 0; r <= calls; ++r) {
    const auto start = std::chrono::steady_clock::now();
    internal::blas_matmul(KernelPath::kScalar, args, *pool_);  // F32: the path is unused
    const double s = seconds_since(start);
    if (r > 0) best = std::max(best, 2.0 * m_ * n_ * k_ / s * 1e-9);
  }
  return best;
}

}  // namespace ppd::kernels
