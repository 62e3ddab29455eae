// Machine limits measured at run time, for benchmarks that print their results next to
// what the hardware can do: memory read bandwidth (decode's limit) and OpenBLAS sgemm
// throughput (prefill's). A probe owns its buffers, so it can be measured again right
// before each timed piece of work: on a shared, noisy machine a limit taken minutes away
// from the work it bounds says little. Not thread-safe; one caller at a time.
#pragma once

#include <cstddef>
#include <vector>

#include "ppd/common/aligned_buffer.h"
#include "ppd/common/thread_pool.h"

namespace ppd::kernels {

// Reads a buffer much larger than the caches, in chunks the pool's threads take from a
// shared counter; allocated like the model weights (huge pages), so the probe reads memory
// the way the engine does.
class ReadBandwidthProbe {
 public:
  // `pool` must outlive the probe. Touches the whole buffer once.
  ReadBandwidthProbe(ThreadPool* pool, size_t bytes);
  // GB/s of the best of `passes` timed passes over the buffer.
  double measure_gbs(int passes);

 private:
  ThreadPool* pool_;
  AlignedBuffer buffer_;
  std::vector<float> sinks_;  // per-thread sums, kept so the reads cannot be optimized away
};

// cblas_sgemm for y[m][n] = x[m][k] w[n][k]^T, its output columns split over the pool's
// threads with OpenBLAS at one thread per call: the engine's own way of threading GEMMs.
// (OpenBLAS's own threads measure the same on the development machine, but they spin in
// sched_yield for a while after each call and would slow whatever runs next.)
class SgemmProbe {
 public:
  // `pool` must outlive the probe.
  SgemmProbe(ThreadPool* pool, int m, int n, int k);
  // GFLOP/s of the best of `calls` timed calls (after one untimed call).
  double measure_gflops(int calls);

 private:
  ThreadPool* pool_;
  int m_, n_, k_;
  std::vector<float> x_, w_, y_;
};

}  // namespace ppd::kernels
