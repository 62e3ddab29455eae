// Which vector instruction paths this CPU can run. The build targets baseline x86-64;
// kernels with AVX2/FMA are compiled separately and chosen at run time from this.
#pragma once

#include <string_view>

namespace ppd {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512 = false;       // F, CD, BW, DQ and VL with the OS saving their state (OpenBLAS's SkylakeX kernels)
  bool avx_vnni = false;     // VEX-encoded 8-bit dot products (vpdpbusd on ymm; Alder Lake, Sapphire Rapids, Zen 5)
  bool avx512_vnni = false;  // EVEX-encoded ones, with AVX-512 VL usable (Cascade Lake, Ice Lake, Zen 4)
};

// Returns what the running CPU supports (cpuid, queried on the first call). Thread-safe and cheap.
CpuFeatures detect_cpu_features();

// Returns a one-line description of the machine for benchmark reports:
// "<cpu model name>, <logical cores> logical cores".
std::string describe_machine();

}  // namespace ppd
