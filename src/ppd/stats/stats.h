// Summary statistics of a sample: count, mean, min, max and percentiles with numpy's
// default linear interpolation (rank = p/100 * (n - 1)), as vLLM's benchmark_serving reports.
// An empty sample gives count 0 and zeros everywhere. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace ppd::stats {

struct Stats {
  int64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0;
};

// Returns the statistics of `values` (any order); takes a copy to sort.
Stats compute_stats(std::vector<double> values);

// Linear-interpolation percentile of sorted values, p in [0, 100] (clamped).
// REQUIRES: !sorted.empty(), sorted ascending.
double percentile_sorted(const std::vector<double>& sorted, double p);

}  // namespace ppd::stats
