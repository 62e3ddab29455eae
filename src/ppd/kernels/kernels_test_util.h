// Helpers shared by the kernels' unit tests: seeded random tensors and the list of kernel
// paths this CPU can run. Test-only; not linked into the library.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "ppd/kernels/kernels.h"

namespace ppd::kernels::test_util {

// `n` floats uniform in [lo, hi), from `rng`.
inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline int random_int(std::mt19937& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// kScalar always; kAvx2 when the CPU has it.
inline std::vector<KernelPath> runnable_paths() {
  std::vector<KernelPath> paths = {KernelPath::kScalar};
  if (best_kernel_path() == KernelPath::kAvx2) paths.push_back(KernelPath::kAvx2);
  return paths;
}

}  // namespace ppd::kernels::test_util
