#include "ppd/stats/router_counters.h"

#include <algorithm>

namespace ppd::stats {

size_t prediction_error_bucket(double error) {
  return static_cast<size_t>(std::lower_bound(kPredictionErrorBounds.begin(), kPredictionErrorBounds.end(), error) -
                             kPredictionErrorBounds.begin());
}

std::optional<double> bucketed_median(const PredictionErrorCounts& counts) {
  double total = 0;
  for (double c : counts) total += c;
  if (total <= 0) return std::nullopt;
  double below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (below + counts[i] >= total / 2) {
      if (i == kPredictionErrorBounds.size()) return kPredictionErrorBounds.back();  // past the last bound
      const double lo = i == 0 ? 0 : kPredictionErrorBounds[i - 1];
      return lo + (kPredictionErrorBounds[i] - lo) * (total / 2 - below) / counts[i];
    }
    below += counts[i];
  }
  return kPredictionErrorBounds.back();
}

RouterCounters difference(const RouterCounters& a, const RouterCounters& b) {
  PredictionErrorCounts errors{};
  for (size_t i = 0; i < errors.size(); ++i) {
    errors[i] = a.t2_ttft_prediction_errors[i] - b.t2_ttft_prediction_errors[i];
  }
  return RouterCounters{.kv_transfer_bytes = a.kv_transfer_bytes - b.kv_transfer_bytes,
                        .local_decisions = a.local_decisions - b.local_decisions,
                        .remote_decisions = a.remote_decisions - b.remote_decisions,
                        .prefix_hit_tokens_local = a.prefix_hit_tokens_local - b.prefix_hit_tokens_local,
                        .prefix_hit_tokens_remote = a.prefix_hit_tokens_remote - b.prefix_hit_tokens_remote,
                        .prompt_tokens = a.prompt_tokens - b.prompt_tokens,
                        .retries = a.retries - b.retries,
                        .t2_ttft_prediction_errors = errors};
}

nlohmann::json to_json(const RouterCounters& c) {
  const double decisions = c.local_decisions + c.remote_decisions;
  nlohmann::json j = {
      {"kv_transfer_bytes", c.kv_transfer_bytes},
      {"local_decisions", c.local_decisions},
      {"remote_decisions", c.remote_decisions},
      {"local_share", decisions > 0 ? c.local_decisions / decisions : 0.0},
      {"prefix_hit_tokens", {{"local", c.prefix_hit_tokens_local}, {"remote", c.prefix_hit_tokens_remote}}},
      {"prompt_tokens", c.prompt_tokens},
      {"retries", c.retries}};
  if (const std::optional<double> median = bucketed_median(c.t2_ttft_prediction_errors)) {
    double count = 0;
    for (double n : c.t2_ttft_prediction_errors) count += n;
    j["t2_ttft_prediction_error"] = {{"count", count}, {"median", *median}};
  }
  return j;
}

}  // namespace ppd::stats
