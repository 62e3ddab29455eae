// main() of the test binaries whose matmuls go through OpenBLAS (ppd_add_test ... BLAS_MAIN):
// restarts the binary with the OpenBLAS kernels `ppd` itself runs on this CPU (decision record
// 0004), so that the tests exercise them and the matmul crossover that follows them, then
// runs the tests.
#include <gtest/gtest.h>

#include "ppd/kernels/blas_core.h"

int main(int argc, char** argv) {
  ppd::kernels::restart_with_preferred_blas_core(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
