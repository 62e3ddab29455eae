// Machine limits measured at run time, for benchmarks that print their results next to
// what the hardware can do: memory read bandwidth (decode's limit) and OpenBLAS sgemm
// throughput (prefill's). Each call allocates, measures and frees; none keeps state.
#pragma once

#include <cstddef>

#include "ppd/common/thread_pool.h"

namespace ppd::kernels {

// GB/s of reading a `bytes` buffer (much larger than the caches) once, split across the
// threads of `pool`; the best of `repeats` passes after one untimed pass.
double measure_read_bandwidth_gbs(ThreadPool& pool, size_t bytes, int repeats);

// GFLOP/s of cblas_sgemm for y[m][n] = x[m][k] w[n][k]^T with OpenBLAS's current thread
// count (set_blas_threads); the best of `repeats` calls after one untimed call.
double measure_sgemm_gflops(int m, int n, int k, int repeats);

}  // namespace ppd::kernels
