// Which OpenBLAS kernels the process runs. OpenBLAS picks them for the CPU once, as it loads,
// and OPENBLAS_CORETYPE (read then) overrides its choice. Debian 12's OpenBLAS 0.3.21 does not
// know recent Intel Xeons (family 6 model 207 among them) and falls back to its SSE3
// "Prescott" kernels: sgemm at 13-31 GFLOP/s there against 90-110 with its AVX-512 ones, and
// every prefill of more than a few tokens several times slower. See decision record 0004.
#pragma once

#include <string>
#include <string_view>

#include "ppd/common/cpu_features.h"

namespace ppd::kernels {

// The kernels OpenBLAS chose for this process ("Prescott", "Haswell", "Zen", "SkylakeX"...).
std::string blas_core_name();

// describe_machine() and the OpenBLAS kernels, for the reports of runs that compute:
// "<cpu model name>, <n> logical cores, OpenBLAS <core>".
std::string describe_machine_and_blas();

// The core to ask OpenBLAS for instead of `current`, or empty to keep it: "SkylakeX" on a CPU
// with AVX-512, else "Haswell" on one with AVX2 and FMA, when `current` is not one of
// OpenBLAS's AVX2 cores (a fallback that leaves the CPU's vector units half used). Pure.
std::string preferred_blas_core(std::string_view current, const CpuFeatures& cpu);

// Restarts this process (execv of /proc/self/exe with the same argv) with OPENBLAS_CORETYPE
// set to preferred_blas_core(), so that OpenBLAS loads again with it. Returns without doing
// anything when OPENBLAS_CORETYPE is already set (by the user, or by the restart itself) or
// the current core is fine; returns after a note on stderr when the restart fails.
void restart_with_preferred_blas_core(char** argv);

}  // namespace ppd::kernels
