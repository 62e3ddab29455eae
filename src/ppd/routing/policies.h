// The routing policies and the registry that builds one by name from its options.
// `pd` always remote; `local` turn 2+ always local; `split` a fixed share of turn 2+ local (the
// PPD paper's static 0<x<1 configurations); `threshold` Dynamo's conditional disaggregation;
// `table` the PPD paper's offline lookup table; `ppd` our online cost model.
// Each falls back to the local path when no prefill node is healthy. Pure; see policy.h.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ppd/routing/policy.h"
#include "ppd/routing/table_policy.h"

namespace ppd::routing {

struct PdPolicyOptions {
  TransferMode transfer = TransferMode::kDelta;
};

// A share of the turn 2+ requests goes local, the rest remote. Which ones: a hash of the
// prompt's last full block (its length when it has none) below local_share of the hash
// range, so that the choice is a pure function of the request and the share holds over many.
struct SplitPolicyOptions {
  double local_share = 0.5;  // x; [0, 1]
  TransferMode transfer = TransferMode::kDelta;
};

// Dynamo's rule: local iff uncached < max_local_prefill_tokens and
// uncached / prompt < max_uncached_ratio, where `uncached` counts the prompt tokens the
// chosen decode node lacks. The optional rules run first: prefill-busy sends local when every
// healthy prefill node has more than max_prefill_queue_tokens waiting; decode-busy sends
// remote when the decode node runs more than max_decode_running requests.
struct ThresholdPolicyOptions {
  int max_local_prefill_tokens = 2048;              // T; >= 0
  double max_uncached_ratio = 0.7;                  // R; [0, 1]
  std::optional<int64_t> max_prefill_queue_tokens;  // prefill-busy rule; off when unset
  std::optional<int> max_decode_running;            // decode-busy rule; off when unset
};

// The online cost model; see cost_model.h and docs/architecture.md §8.
struct PpdPolicyOptions {
  double w_ttft = 1.0;  // >= 0
  double w_tpot = 1.0;  // >= 0
  // SLO mode when either is set: the path with fewer expected SLO misses (this request's and
  // those its stall causes on the decode node's other requests) wins, turn 1 included; the
  // weights decide ties (turn 1: remote).
  std::optional<double> slo_ttft_s;
  std::optional<double> slo_tpot_s;
  double slo_sigma = 0.25;                // spread of ln(taken / predicted TTFT) assumed by SLO mode; > 0
  double slo_tpot_sigma = 0.05;           // the same for TPOT, a mean over many steps; > 0
  double default_link_bytes_per_s = 1e9;  // before any transfer was observed; > 0
  double link_latency_s = 0.0005;         // per transfer, with the HTTP hops
  TransferMode transfer = TransferMode::kDelta;
};

struct PolicyOptions {
  std::string name = "ppd";  // pd, local, split, threshold, table, ppd
  PdPolicyOptions pd;
  SplitPolicyOptions split;
  ThresholdPolicyOptions threshold;
  std::string table_file;  // table: the lookup table JSON (required)
  TablePolicyOptions table;
  PpdPolicyOptions ppd;
};

// Builds the policy named in options. INVALID_ARGUMENT naming the field for an unknown name
// ("router.policy: unknown \"x\"; supported: pd, local, split, threshold, table, ppd") or a bad
// option; the table policy's file errors name the file and the JSON path.
Result<std::unique_ptr<RoutingPolicy>> make_policy(const PolicyOptions& options);

std::unique_ptr<RoutingPolicy> make_pd_policy(PdPolicyOptions options);
std::unique_ptr<RoutingPolicy> make_local_policy();
Result<std::unique_ptr<RoutingPolicy>> make_split_policy(SplitPolicyOptions options);
Result<std::unique_ptr<RoutingPolicy>> make_threshold_policy(ThresholdPolicyOptions options);
Result<std::unique_ptr<RoutingPolicy>> make_ppd_policy(PpdPolicyOptions options);

}  // namespace ppd::routing
