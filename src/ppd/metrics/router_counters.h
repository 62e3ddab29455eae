// RouterCounters: what a router did over a run, in the terms of a ppd router's /metrics
// counters: KV bytes moved, routing decisions by path, prefix-hit and prompt tokens,
// retries. `ppd bench` reads them from a real router; the simulator's router keeps them.
#pragma once

#include <nlohmann/json.hpp>

namespace ppd::metrics {

struct RouterCounters {
  double kv_transfer_bytes = 0;        // ppd:kv_transfer_bytes_total
  double local_decisions = 0;          // ppd:router_decisions_total{path="local"}
  double remote_decisions = 0;         // ppd:router_decisions_total{path="remote"}
  double prefix_hit_tokens_local = 0;  // ppd:prefix_hit_tokens_total{path="local"}
  double prefix_hit_tokens_remote = 0;
  double prompt_tokens = 0;            // ppd:prompt_tokens_total
  double retries = 0;                  // ppd:router_retries_total
};

// after - before, field by field.
RouterCounters difference(const RouterCounters& after, const RouterCounters& before);

// {kv_transfer_bytes, local_decisions, remote_decisions, local_share, prefix_hit_tokens{local,
// remote}, prompt_tokens, retries}; local_share = local / (local + remote), 0 with no decision.
nlohmann::json to_json(const RouterCounters& c);

}  // namespace ppd::metrics
