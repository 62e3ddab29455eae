#include "ppd/metrics/router_counters.h"

namespace ppd::metrics {

RouterCounters difference(const RouterCounters& a, const RouterCounters& b) {
  return RouterCounters{.kv_transfer_bytes = a.kv_transfer_bytes - b.kv_transfer_bytes,
                        .local_decisions = a.local_decisions - b.local_decisions,
                        .remote_decisions = a.remote_decisions - b.remote_decisions,
                        .prefix_hit_tokens_local = a.prefix_hit_tokens_local - b.prefix_hit_tokens_local,
                        .prefix_hit_tokens_remote = a.prefix_hit_tokens_remote - b.prefix_hit_tokens_remote,
                        .prompt_tokens = a.prompt_tokens - b.prompt_tokens,
                        .retries = a.retries - b.retries};
}

nlohmann::json to_json(const RouterCounters& c) {
  const double decisions = c.local_decisions + c.remote_decisions;
  return {{"kv_transfer_bytes", c.kv_transfer_bytes},
          {"local_decisions", c.local_decisions},
          {"remote_decisions", c.remote_decisions},
          {"local_share", decisions > 0 ? c.local_decisions / decisions : 0.0},
          {"prefix_hit_tokens", {{"local", c.prefix_hit_tokens_local}, {"remote", c.prefix_hit_tokens_remote}}},
          {"prompt_tokens", c.prompt_tokens},
          {"retries", c.retries}};
}

}  // namespace ppd::metrics
