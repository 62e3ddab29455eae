// `pd` (always remote: classic disaggregation, with full or delta transfer), `local`
// (turn 2+ always on the decode node holding the conversation; turn 1 remote) and `split`
// (a fixed share of turn 2+ local), plus the registry that builds any policy by name.
#include <cmath>

#include <fmt/format.h>

#include "ppd/common/splitmix.h"

#include "ppd/routing/policies.h"
#include "ppd/routing/policy_util.h"

namespace ppd::routing {
namespace {

class PdPolicy final : public RoutingPolicy {
 public:
  explicit PdPolicy(PdPolicyOptions options) : options_(options) {}
  std::string_view name() const override { return "pd"; }
  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override {
    PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
    return remote_or_fallback(p, options_.transfer, in.turn == 1 ? "turn1" : "always_remote");
  }

 private:
  PdPolicyOptions options_;
};

class LocalPolicy final : public RoutingPolicy {
 public:
  std::string_view name() const override { return "local"; }
  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override {
    PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
    if (in.turn == 1) return remote_or_fallback(p, TransferMode::kDelta, "turn1");
    return make_decision(p, Path::kLocal, "always_local");
  }
};

class SplitPolicy final : public RoutingPolicy {
 public:
  explicit SplitPolicy(SplitPolicyOptions options) : options_(options) {}
  std::string_view name() const override { return "split"; }
  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override {
    PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
    if (in.turn == 1) return remote_or_fallback(p, options_.transfer, "turn1");
    const uint64_t key =
        in.block_hashes.empty() ? static_cast<uint64_t>(in.num_prompt_tokens) : in.block_hashes.back().value;
    // The hash's top 53 bits as a uniform value in [0, 1).
    const double u = static_cast<double>(splitmix64_mix(key ^ kGoldenGamma) >> 11) * 0x1.0p-53;
    if (u < options_.local_share) return make_decision(p, Path::kLocal, "split");
    return remote_or_fallback(p, options_.transfer, "split");
  }

 private:
  SplitPolicyOptions options_;
};

}  // namespace

Result<std::unique_ptr<RoutingPolicy>> make_split_policy(SplitPolicyOptions o) {
  if (!(o.local_share >= 0 && o.local_share <= 1)) {
    return invalid_argument("router.split.local_share: must be in [0, 1]; got {}", o.local_share);
  }
  return std::unique_ptr<RoutingPolicy>(std::make_unique<SplitPolicy>(o));
}

std::unique_ptr<RoutingPolicy> make_pd_policy(PdPolicyOptions options) { return std::make_unique<PdPolicy>(options); }
std::unique_ptr<RoutingPolicy> make_local_policy() { return std::make_unique<LocalPolicy>(); }

Result<std::unique_ptr<RoutingPolicy>> make_policy(const PolicyOptions& o) {
  if (o.name == "pd") return make_pd_policy(o.pd);
  if (o.name == "local") return make_local_policy();
  if (o.name == "split") return make_split_policy(o.split);
  if (o.name == "threshold") return make_threshold_policy(o.threshold);
  if (o.name == "ppd") return make_ppd_policy(o.ppd);
  if (o.name == "table") {
    if (o.table_file.empty()) return invalid_argument("router.table_file: required by policy \"table\"");
    PPD_ASSIGN_OR_RETURN(LookupTable table, load_lookup_table(o.table_file));
    return make_table_policy(std::move(table), o.table);
  }
  return invalid_argument("router.policy: unknown \"{}\"; supported: pd, local, split, threshold, table, ppd", o.name);
}

}  // namespace ppd::routing
