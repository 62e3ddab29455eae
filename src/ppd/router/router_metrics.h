// The router's Prometheus metrics (vLLM-style names): latency histograms by turn class
// ("1", "2+") and path ("local", "remote"), routing decisions, KV bytes moved for its
// requests, prefix-hit tokens, request outcomes. Registered once in a registry the caller
// owns; updates are thread-safe (see net/metrics.h).
#pragma once

#include <string_view>

#include "ppd/net/prometheus.h"

namespace ppd::router {

struct RouterMetrics {
  net::HistogramFamily* ttft = nullptr;  // {turn, path}
  net::HistogramFamily* tpot = nullptr;
  net::HistogramFamily* e2e = nullptr;
  net::CounterFamily* decisions = nullptr;  // {policy, path, reason}
  net::CounterFamily* transfer_bytes = nullptr;
  net::CounterFamily* prefix_hit_tokens = nullptr;  // {path}
  net::CounterFamily* prompt_tokens = nullptr;
  net::CounterFamily* generation_tokens = nullptr;
  net::CounterFamily* requests = nullptr;  // {outcome}: ok, or the error code's name
  net::CounterFamily* retries = nullptr;   // {reason}
  net::GaugeFamily* active_requests = nullptr;
  net::GaugeFamily* store_tokens = nullptr;  // ppd:router_conversation_store_tokens
  // |predicted - taken| / taken of the path taken, for policies that predict (ppd):
  // {quantity ("ttft", "tpot"), turn, path}.
  net::HistogramFamily* prediction_error = nullptr;
};

Result<RouterMetrics> register_router_metrics(net::MetricsRegistry* registry);

inline std::string_view turn_class(int turn) { return turn > 1 ? "2+" : "1"; }

}  // namespace ppd::router
