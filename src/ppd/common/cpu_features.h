// Which vector instruction paths this CPU can run. The build targets baseline x86-64;
// kernels with AVX2/FMA are compiled separately and chosen at run time from this.
#pragma once

#include <string_view>

namespace ppd {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512 = false;  // F, CD, BW, DQ and VL with the OS saving their state (OpenBLAS's SkylakeX kernels)
};

// Returns what the running CPU supports (cpuid). Pure; cheap enough to call at start-up.
CpuFeatures detect_cpu_features();

// Returns a one-line description of the machine for benchmark reports:
// "<cpu model name>, <logical cores> logical cores".
std::string describe_machine();

}  // namespace ppd
