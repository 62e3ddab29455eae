#include "ppd/stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ppd/common/check.h"

namespace ppd::stats {
namespace {

// a + (b - a) * t, computed from the nearer end so that t = 1 gives b exactly (as numpy does).
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

}  // namespace

double percentile_sorted(const std::vector<double>& sorted, double p) {
  PPD_CHECK(!sorted.empty());
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const double lo_rank = std::floor(rank);
  const auto lo = static_cast<size_t>(lo_rank);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return lerp(sorted[lo], sorted[hi], rank - lo_rank);
}

Stats compute_stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  s.count = static_cast<int64_t>(values.size());
  s.mean = sum / static_cast<double>(values.size());
  s.p50 = percentile_sorted(values, 50);
  s.p90 = percentile_sorted(values, 90);
  s.p99 = percentile_sorted(values, 99);
  s.min = values.front();
  s.max = values.back();
  return s;
}

}  // namespace ppd::stats
