// The routing-policy choice as `ppd router` and `ppd sim` take it, and the PolicyOptions it gives.
// The flags that fill it are in cli/policy_flags.h. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "ppd/routing/policies.h"

namespace ppd::experiment {

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

// The policy options the flags describe. Pure.
routing::PolicyOptions resolve_policy_flags(const PolicyFlags& f);

}  // namespace ppd::experiment
