// RouterCounters: what a router did over a run, in the terms of a ppd router's /metrics
// counters: KV bytes moved, routing decisions by path, prefix-hit and prompt tokens,
// retries, and how far its policy's turn-2+ TTFT predictions were off. `ppd bench` reads them
// from a real router; the simulator's router keeps them.
#pragma once

#include <array>
#include <optional>

#include <nlohmann/json.hpp>

namespace ppd::stats {

// Upper bounds of the buckets of a prediction's relative error |predicted - taken| / taken
// (ppd:router_prediction_error_ratio); a last bucket holds the rest.
inline constexpr std::array<double, 16> kPredictionErrorBounds = {0.02, 0.05, 0.075, 0.1,  0.125, 0.15, 0.2, 0.25,
                                                                  0.3,  0.4,  0.5,   0.75, 1.0,   1.5,  2.0, 5.0};
using PredictionErrorCounts = std::array<double, kPredictionErrorBounds.size() + 1>;  // per bucket, not cumulative

// The bucket of one relative error.
size_t prediction_error_bucket(double error);
// The median of bucketed errors, linear within its bucket (as Prometheus' histogram_quantile);
// nullopt with no count.
std::optional<double> bucketed_median(const PredictionErrorCounts& counts);

struct RouterCounters {
  double kv_transfer_bytes = 0;        // ppd:kv_transfer_bytes_total
  double local_decisions = 0;          // ppd:router_decisions_total{path="local"}
  double remote_decisions = 0;         // ppd:router_decisions_total{path="remote"}
  double prefix_hit_tokens_local = 0;  // ppd:prefix_hit_tokens_total{path="local"}
  double prefix_hit_tokens_remote = 0;
  double prompt_tokens = 0;  // ppd:prompt_tokens_total
  double retries = 0;        // ppd:router_retries_total
  // Turn-2+ TTFT predictions of the path taken, by relative error
  // (ppd:router_prediction_error_ratio{quantity="ttft",turn="2+"}); zero for policies that
  // do not predict.
  PredictionErrorCounts t2_ttft_prediction_errors{};
};

// after - before, field by field.
RouterCounters difference(const RouterCounters& after, const RouterCounters& before);

// {kv_transfer_bytes, local_decisions, remote_decisions, local_share, prefix_hit_tokens{local,
// remote}, prompt_tokens, retries}; local_share = local / (local + remote), 0 with no decision;
// with predictions also t2_ttft_prediction_error {count, median}.
nlohmann::json to_json(const RouterCounters& c);

}  // namespace ppd::stats
