#include "ppd/router/router_metrics.h"

#include "ppd/stats/router_counters.h"

namespace ppd::router {
namespace {

const std::vector<double> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                             0.75,  1.0,    2.5,   5.0,  7.5,  10,   20,   40,   80,  160};
const std::vector<double> kTokenBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,
                                           0.15,   0.2,   0.3,    0.4,   0.5,  0.75,  1.0,  2.5,   5.0};

}  // namespace

Result<RouterMetrics> register_router_metrics(net::MetricsRegistry* r) {
  RouterMetrics m;
  PPD_ASSIGN_OR_RETURN(m.ttft, r->histogram("ppd:time_to_first_token_seconds", "Time to first token, by turn and path",
                                            {"turn", "path"}, kLatencyBuckets));
  PPD_ASSIGN_OR_RETURN(
      m.tpot, r->histogram("ppd:time_per_output_token_seconds",
                           "Time per output token after the first, by turn and path", {"turn", "path"}, kTokenBuckets));
  PPD_ASSIGN_OR_RETURN(m.e2e,
                       r->histogram("ppd:e2e_request_latency_seconds", "End-to-end request latency, by turn and path",
                                    {"turn", "path"}, kLatencyBuckets));
  PPD_ASSIGN_OR_RETURN(m.decisions,
                       r->counter("ppd:router_decisions_total", "Routing decisions by policy, path and reason",
                                  {"policy", "path", "reason"}));
  PPD_ASSIGN_OR_RETURN(m.transfer_bytes, r->counter("ppd:kv_transfer_bytes_total",
                                                    "KV bytes decode nodes pulled for this router's requests"));
  PPD_ASSIGN_OR_RETURN(
      m.prefix_hit_tokens,
      r->counter("ppd:prefix_hit_tokens_total", "Prompt tokens the serving node found in its prefix cache", {"path"}));
  PPD_ASSIGN_OR_RETURN(m.prompt_tokens, r->counter("ppd:prompt_tokens_total", "Prompt tokens of finished requests"));
  PPD_ASSIGN_OR_RETURN(m.generation_tokens, r->counter("ppd:generation_tokens_total", "Generated tokens"));
  PPD_ASSIGN_OR_RETURN(m.requests, r->counter("ppd:router_requests_total", "Requests by outcome", {"outcome"}));
  PPD_ASSIGN_OR_RETURN(m.retries,
                       r->counter("ppd:router_retries_total",
                                  "Attempts retried on another path or node before the first token", {"reason"}));
  PPD_ASSIGN_OR_RETURN(m.active_requests, r->gauge("ppd:router_active_requests", "Requests in flight"));
  PPD_ASSIGN_OR_RETURN(m.store_tokens, r->gauge("ppd:router_conversation_store_tokens",
                                                "Token ids of earlier answers the router keeps for reuse "
                                                "(--conversation-store-tokens bounds it)"));
  PPD_ASSIGN_OR_RETURN(
      m.prediction_error,
      r->histogram("ppd:router_prediction_error_ratio",
                   "|predicted - taken| / taken of the policy's TTFT and TPOT predictions for the path "
                   "taken, by quantity, turn and path",
                   {"quantity", "turn", "path"},
                   std::vector<double>(stats::kPredictionErrorBounds.begin(), stats::kPredictionErrorBounds.end())));
  return m;
}

}  // namespace ppd::router
