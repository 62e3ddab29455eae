#include "ppd/kernels/blas_core.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" char* openblas_get_corename(void);

namespace ppd::kernels {

std::string blas_core_name() { return openblas_get_corename(); }

std::string describe_machine_and_blas() { return describe_machine() + ", OpenBLAS " + blas_core_name(); }

std::string preferred_blas_core(std::string_view current, const CpuFeatures& cpu) {
  constexpr std::array<std::string_view, 6> kAvx2Cores = {"Haswell",        "Zen",      "SkylakeX", "Cooperlake",
                                                          "SapphireRapids", "Excavator"};
  if (std::ranges::find(kAvx2Cores, current) != kAvx2Cores.end()) return {};
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2 && cpu.fma) return "Haswell";
  return {};
}

void restart_with_preferred_blas_core(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string current = blas_core_name();
  const std::string core = preferred_blas_core(current, detect_cpu_features());
  if (core.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  const int error = errno;  // execv returns only on failure; go on with OpenBLAS's own choice
  unsetenv("OPENBLAS_CORETYPE");
  std::fprintf(stderr, "ppd: OpenBLAS runs its %s kernels; restarting with OPENBLAS_CORETYPE=%s failed (%s)\n",
               current.c_str(), core.c_str(), std::strerror(error));
}

}  // namespace ppd::kernels
