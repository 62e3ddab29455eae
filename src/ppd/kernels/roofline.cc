#include "ppd/kernels/roofline.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ppd/common/aligned_buffer.h"
#include "ppd/kernels/kernels.h"

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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

double measure_read_bandwidth_gbs(ThreadPool& pool, size_t bytes, int repeats) {
  // Allocated like the model weights (huge pages), so the probe and the engine read memory
  // the same way.
  const size_t n = bytes / sizeof(float) / 64 * 64;
  AlignedBuffer buffer(n);
  const bool avx2 = best_kernel_path() == KernelPath::kAvx2;
  std::vector<float> sinks(static_cast<size_t>(pool.num_threads()));
  double best = 0;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.run_on_all([&](int index, int num_threads) {
      const size_t begin = n * static_cast<size_t>(index) / static_cast<size_t>(num_threads) / 64 * 64;
      const size_t end = n * static_cast<size_t>(index + 1) / static_cast<size_t>(num_threads) / 64 * 64;
      const float* p = buffer.data() + begin;
      sinks[static_cast<size_t>(index)] = avx2 ? avx2::sum_floats(p, end - begin) : sum_floats_scalar(p, end - begin);
    });
    const double s = seconds_since(start);
    if (r > 0) best = std::max(best, static_cast<double>(n * sizeof(float)) / s * 1e-9);
  }
  // Keep the sums observable so the reads cannot be optimized away.
  volatile float sink = 0;
  for (float v : sinks) sink = sink + v;
  return best;
}

double measure_sgemm_gflops(int m, int n, int k, int repeats) {
  std::vector<float> x(static_cast<size_t>(m) * static_cast<size_t>(k), 0.5f);
  std::vector<float> w(static_cast<size_t>(n) * static_cast<size_t>(k), 0.25f);
  std::vector<float> y(static_cast<size_t>(m) * static_cast<size_t>(n));
  double best = 0;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n);
    const double s = seconds_since(start);
    if (r > 0) best = std::max(best, 2.0 * m * n * k / s * 1e-9);
  }
  return best;
}

}  // namespace ppd::kernels
