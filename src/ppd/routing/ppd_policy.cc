// The `ppd` policy: the decision between the paths the cost model (cost_model.h) predicts, its
// SLO mode, and the checks of its options.
#include <algorithm>
#include <cmath>

#include "ppd/routing/cost_model.h"

namespace ppd::routing {
namespace {

class PpdPolicy final : public RoutingPolicy {
 public:
  explicit PpdPolicy(PpdPolicyOptions options) : options_(options) {}
  std::string_view name() const override { return "ppd"; }
  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override;

 private:
  bool slo_mode() const { return options_.slo_ttft_s.has_value() || options_.slo_tpot_s.has_value(); }
  PpdPolicyOptions options_;
};

// Expected misses closer than this leave the choice to the weights. Small: on the scorecard's
// paper grids (H100 and H200 at 150 GB/s, then run with a 5 s think time) ties of 0.1 and 0.3
// put SLO mode more than a point behind the best fixed policy in 20-50 cells per grid, 0.02
// in 5-10 and 0 in 4-7 (docs/results/policy-scorecard).
constexpr double kSloTie = 0.005;
// Turn 1 goes local only by a clear margin: D holds none of its prompt, so it prefills all of
// it beside D's decodes. On the H100 150 GB/s paper grid a margin of 0.005 left SLO mode more
// than a point behind the best fixed policy in 39 cells, 0.1 in 22, 0.3 in 19; each was 5+
// points ahead in 58-59 (docs/results/policy-scorecard).
constexpr double kSloTurn1Tie = 0.3;

Result<RouteDecision> PpdPolicy::route(const ClusterView& view, const RouteInput& in) const {
  PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
  if (!p.prefill) return make_decision(p, Path::kLocal, "no_prefill");
  const PathPrediction local = predict_local(view, p, in);
  const PathPrediction remote = predict_remote(view, p, in, options_);
  Path path = Path::kRemote;
  std::string reason = "turn1";
  if (in.turn > 1) {
    path = local_advantage(local, remote, options_) > 0 ? Path::kLocal : Path::kRemote;
    reason = "cost_model";
  }
  if (slo_mode()) {
    const double miss_local = expected_slo_misses(view, p, in, local, options_);
    const double miss_remote = expected_slo_misses(view, p, in, remote, options_);
    if (std::abs(miss_local - miss_remote) > (in.turn > 1 ? kSloTie : kSloTurn1Tie)) {
      path = miss_local < miss_remote ? Path::kLocal : Path::kRemote;
      reason = in.turn > 1 ? "slo" : "slo_turn1";
    }
  }
  RouteDecision d = make_decision(p, path, std::move(reason));
  d.transfer = options_.transfer;
  d.local = local;
  d.remote = remote;
  return d;
}

}  // namespace

Result<std::unique_ptr<RoutingPolicy>> make_ppd_policy(PpdPolicyOptions o) {
  if (!(o.w_ttft >= 0)) return invalid_argument("router.ppd.w_ttft: must be >= 0; got {}", o.w_ttft);
  if (!(o.w_tpot >= 0)) return invalid_argument("router.ppd.w_tpot: must be >= 0; got {}", o.w_tpot);
  if (o.slo_ttft_s && !(*o.slo_ttft_s > 0))
    return invalid_argument("router.slo_ttft_ms: must be > 0; got {}", *o.slo_ttft_s * 1e3);
  if (o.slo_tpot_s && !(*o.slo_tpot_s > 0))
    return invalid_argument("router.slo_tpot_ms: must be > 0; got {}", *o.slo_tpot_s * 1e3);
  if (!(o.slo_sigma > 0)) return invalid_argument("router.ppd.slo_sigma: must be > 0; got {}", o.slo_sigma);
  if (!(o.slo_tpot_sigma > 0)) {
    return invalid_argument("router.ppd.slo_tpot_sigma: must be > 0; got {}", o.slo_tpot_sigma);
  }
  if (!(o.default_link_bytes_per_s > 0)) {
    return invalid_argument("router.ppd.default_link_bytes_per_s: must be > 0; got {}", o.default_link_bytes_per_s);
  }
  return std::unique_ptr<RoutingPolicy>(std::make_unique<PpdPolicy>(o));
}

}  // namespace ppd::routing
