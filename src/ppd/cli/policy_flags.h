// The routing-policy flags `ppd router` and `ppd sim` share, and the PolicyOptions they give.
#pragma once

#include <cstdint>
#include <string>

#include "ppd/routing/policies.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

struct PolicyFlags {
  routing::PolicyOptions policy;  // name (pd-full allowed: pd with full transfers), weights, thresholds, table file
  std::string transfer = "delta";
  double guard_ttft_ms = 0;  // ppd's hard SLO guards; 0: off
  double guard_tpot_ms = 0;
  double default_link_bytes_per_s = 1e9;
  int64_t threshold_prefill_queue_tokens = -1;
  int threshold_decode_running = -1;
  int table_bypass_tokens = -1;
};

// `guard_flags` names the ppd guards: "--slo" gives --slo-ttft-ms/--slo-tpot-ms (ppd router),
// "--guard" gives --guard-ttft-ms/--guard-tpot-ms (where --slo-* are the benchmark's SLOs).
void add_policy_flags(CLI::App* cmd, PolicyFlags* f, const std::string& guard_flags);

// The policy options the flags describe. Pure.
routing::PolicyOptions resolve_policy_flags(const PolicyFlags& f);

}  // namespace ppd::cli
