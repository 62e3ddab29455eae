#include "ppd/experiment/policy_spec.h"

namespace ppd::experiment {

routing::PolicyOptions resolve_policy_flags(const PolicyFlags& f) {
  routing::PolicyOptions o = f.policy;
  const bool full = f.transfer == "full" || o.name == "pd-full";
  if (o.name == "pd-full") o.name = "pd";
  const routing::TransferMode mode = full ? routing::TransferMode::kFull : routing::TransferMode::kDelta;
  o.pd.transfer = mode;
  o.split.transfer = mode;
  o.ppd.transfer = mode;
  o.table.transfer = mode;
  if (f.guard_ttft_ms > 0) o.ppd.slo_ttft_s = f.guard_ttft_ms / 1e3;
  if (f.guard_tpot_ms > 0) o.ppd.slo_tpot_s = f.guard_tpot_ms / 1e3;
  o.ppd.default_link_bytes_per_s = f.default_link_bytes_per_s;
  if (f.threshold_prefill_queue_tokens >= 0) o.threshold.max_prefill_queue_tokens = f.threshold_prefill_queue_tokens;
  if (f.threshold_decode_running >= 0) o.threshold.max_decode_running = f.threshold_decode_running;
  if (f.table_bypass_tokens >= 0) o.table.short_input_bypass_tokens = f.table_bypass_tokens;
  return o;
}

}  // namespace ppd::experiment
