#include "ppd/kernels/blas_core.h"

#include <gtest/gtest.h>

namespace ppd::kernels {
namespace {

constexpr CpuFeatures kAvx2{.avx2 = true, .fma = true, .f16c = true};
constexpr CpuFeatures kAvx512{.avx2 = true, .fma = true, .f16c = true, .avx512 = true};

// OpenBLAS's SSE3 fallback on a CPU with wider units: ask for the widest kernels it has.
TEST(BlasCoreTest, AFallbackBelowTheCpuAsksForItsKernels) {
  EXPECT_EQ(preferred_blas_core("Prescott", kAvx512), "SkylakeX");
  EXPECT_EQ(preferred_blas_core("Prescott", kAvx2), "Haswell");
  EXPECT_EQ(preferred_blas_core("Nehalem", kAvx2), "Haswell");
  EXPECT_EQ(preferred_blas_core("Sandybridge", kAvx512), "SkylakeX");
}

// OpenBLAS's own AVX2 choices stand, and a CPU without AVX2 and FMA keeps what it has.
TEST(BlasCoreTest, AnAvx2CoreOrAnOldCpuIsKept) {
  for (const char* core : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"}) {
    EXPECT_EQ(preferred_blas_core(core, kAvx512), "") << core;
  }
  EXPECT_EQ(preferred_blas_core("Prescott", CpuFeatures{}), "");
  EXPECT_EQ(preferred_blas_core("Sandybridge", CpuFeatures{.avx2 = true}), "");  // no FMA
}

// This process's choice, whatever the machine, is named in the machine's description.
TEST(BlasCoreTest, TheMachineDescriptionNamesTheRunningCore) {
  ASSERT_FALSE(blas_core_name().empty());
  EXPECT_TRUE(describe_machine_and_blas().ends_with(", OpenBLAS " + blas_core_name())) << describe_machine_and_blas();
}

}  // namespace
}  // namespace ppd::kernels
