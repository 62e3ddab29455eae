// `threshold`: Dynamo's conditional disaggregation. A request is prefilled locally on its
// decode node when the part of the prompt that node lacks is short, both in tokens and as a
// share of the prompt; optional busy rules override that from the nodes' queues. The rule
// does not look at the turn: a turn 1 whose prefix no decode node holds goes remote.
#include <algorithm>
#include <cmath>

#include "ppd/routing/policies.h"
#include "ppd/routing/policy_util.h"

namespace ppd::routing {
namespace {

Status validate(const ThresholdPolicyOptions& o) {
  if (o.max_local_prefill_tokens < 0) {
    return invalid_argument("router.threshold.max_local_prefill_tokens: must be >= 0; got {}",
                            o.max_local_prefill_tokens);
  }
  if (!(o.max_uncached_ratio >= 0 && o.max_uncached_ratio <= 1)) {
    return invalid_argument("router.threshold.max_uncached_ratio: must be in [0, 1]; got {}", o.max_uncached_ratio);
  }
  if (o.max_prefill_queue_tokens && *o.max_prefill_queue_tokens < 0) {
    return invalid_argument("router.threshold.max_prefill_queue_tokens: must be >= 0; got {}",
                            *o.max_prefill_queue_tokens);
  }
  if (o.max_decode_running && *o.max_decode_running < 0) {
    return invalid_argument("router.threshold.max_decode_running: must be >= 0; got {}", *o.max_decode_running);
  }
  return Status::Ok();
}

bool usable_prefill(const NodeState& n, const RouteInput& in) {
  return n.accepting() && n.kind == NodeKind::kPrefill &&
         std::find(in.excluded.begin(), in.excluded.end(), n.id) == in.excluded.end();
}

// Prompt tokens waiting to be prefilled, as the larger of the node's report and the router's
// own count (which leads the reports).
int64_t pending_prefill_tokens(const NodeState& n) {
  return std::max(n.load.num_pending_prefill_tokens, n.num_router_prefill_tokens);
}

class ThresholdPolicy final : public RoutingPolicy {
 public:
  explicit ThresholdPolicy(ThresholdPolicyOptions options) : options_(options) {}
  std::string_view name() const override { return "threshold"; }

  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override {
    PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
    if (prefill_busy(view, in, p)) return make_decision(p, Path::kLocal, "prefill_busy");
    if (decode_busy(view, p)) return remote_or_fallback(p, TransferMode::kDelta, "decode_busy");
    if (short_uncached(in, p)) return make_decision(p, Path::kLocal, "threshold");
    return remote_or_fallback(p, TransferMode::kDelta, "threshold");
  }

 private:
  // Every usable prefill node has more than the limit waiting (and there is one at all;
  // with none, the remote path falls back on its own).
  bool prefill_busy(const ClusterView& view, const RouteInput& in, const Placement& p) const {
    if (!options_.max_prefill_queue_tokens || !p.prefill) return false;
    return std::ranges::all_of(view.nodes(), [&](const NodeState& n) {
      return !usable_prefill(n, in) || pending_prefill_tokens(n) > *options_.max_prefill_queue_tokens;
    });
  }

  bool decode_busy(const ClusterView& view, const Placement& p) const {
    if (!options_.max_decode_running) return false;
    const NodeState& d = view.node(p.decode);
    return std::max(d.load.num_running, d.num_router_active) > *options_.max_decode_running;
  }

  bool short_uncached(const RouteInput& in, const Placement& p) const {
    const int uncached = in.num_prompt_tokens - p.num_decode_cached_tokens;
    const double ratio = in.num_prompt_tokens > 0 ? static_cast<double>(uncached) / in.num_prompt_tokens : 0.0;
    return uncached < options_.max_local_prefill_tokens && ratio < options_.max_uncached_ratio;
  }

  ThresholdPolicyOptions options_;
};

}  // namespace

Result<std::unique_ptr<RoutingPolicy>> make_threshold_policy(ThresholdPolicyOptions options) {
  PPD_RETURN_IF_ERROR(validate(options));
  return std::unique_ptr<RoutingPolicy>(std::make_unique<ThresholdPolicy>(options));
}

}  // namespace ppd::routing
