#include "ppd/common/cpu_features.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>

namespace ppd {

namespace {

CpuFeatures query_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  // CPUID leaf 1, ECX bit 29 (clang before 15 has no "f16c" for __builtin_cpu_supports).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  f.f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
  // CPUID leaf 7: subleaf 0 ECX bit 11 is AVX512_VNNI; subleaf 1 EAX bit 4 is AVX-VNNI.
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0) f.avx512_vnni = f.avx512 && (ecx & (1u << 11)) != 0;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0) f.avx_vnni = f.avx2 && (eax & (1u << 4)) != 0;
#endif
  return f;
}

}  // namespace

// Queried once: cpuid exits to the hypervisor in a virtual machine (tens of microseconds), and
// benchmarks ask for the kernel path on every iteration.
CpuFeatures detect_cpu_features() {
  static const CpuFeatures features = query_cpu_features();
  return features;
}

std::string describe_machine() {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  }
  return fmt::format("{}, {} logical cores", model, std::thread::hardware_concurrency());
}

}  // namespace ppd
