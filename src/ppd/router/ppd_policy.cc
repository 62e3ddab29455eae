// The `ppd` policy: the online cost model of cost_model.h, SLO guards, and the decision.
#include <algorithm>
#include <cmath>

#include "ppd/router/cost_model.h"

namespace ppd::router {
namespace {

int running_decodes(const NodeState& n) { return std::max(n.load.num_running, n.num_router_active); }
int64_t queued_prefill_tokens(const NodeState& n) {
  return std::max(n.load.num_pending_prefill_tokens, n.num_router_prefill_tokens);
}
// Context tokens of the node's running decodes, from the mean its recent steps showed.
int64_t decode_context(const NodeState& n, int num_decodes, int num_prompt_tokens) {
  const double mean = n.load.mean_decode_context_tokens > 0 ? n.load.mean_decode_context_tokens : num_prompt_tokens;
  return static_cast<int64_t>(mean * num_decodes);
}
int num_blocks(int tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

// Which SLO a prediction misses: "" when none.
std::string_view missed_slo(const PathPrediction& p, const PpdPolicyOptions& o) {
  if (o.slo_ttft_s && p.ttft_s > *o.slo_ttft_s) return "slo_ttft";
  if (o.slo_tpot_s && p.tpot_s > *o.slo_tpot_s) return "slo_tpot";
  return "";
}

class PpdPolicy final : public RoutingPolicy {
 public:
  explicit PpdPolicy(PpdPolicyOptions options) : options_(options) {}
  std::string_view name() const override { return "ppd"; }
  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override;

 private:
  PpdPolicyOptions options_;
};

Result<RouteDecision> PpdPolicy::route(const ClusterView& view, const RouteInput& in) const {
  PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
  if (!p.prefill) return make_decision(p, Path::kLocal, "no_prefill");
  const PathPrediction local = predict_local(view, p, in);
  const PathPrediction remote = predict_remote(view, p, in, options_);
  Path path = Path::kRemote;
  std::string reason = "turn1";
  if (in.turn > 1) {
    const std::string_view local_miss = missed_slo(local, options_);
    const std::string_view remote_miss = missed_slo(remote, options_);
    if (local_miss.empty() != remote_miss.empty()) {
      path = local_miss.empty() ? Path::kLocal : Path::kRemote;
      reason = std::string(local_miss.empty() ? remote_miss : local_miss);
    } else {
      path = local_advantage(local, remote, options_) > 0 ? Path::kLocal : Path::kRemote;
      reason = "cost_model";
    }
  }
  RouteDecision d = make_decision(p, path, std::move(reason));
  d.transfer = options_.transfer;
  d.local = local;
  d.remote = remote;
  return d;
}

}  // namespace

PrefillTime predict_prefill(const StepTimeModel& model, int64_t num_tokens, int chunk_tokens, int64_t start_position,
                            int num_decodes, int64_t decode_context_tokens) {
  PrefillTime t;
  const int chunk = std::max(chunk_tokens, 1);
  const double decode_only = model.predict_s(0, num_decodes, decode_context_tokens);
  for (int64_t done = 0; done < num_tokens;) {
    const int64_t n = std::min<int64_t>(chunk, num_tokens - done);
    done += n;
    const double step = model.predict_s(static_cast<int>(n), num_decodes, decode_context_tokens + start_position + done);
    t.total_s += step;
    t.extra_s += std::max(step - decode_only, 0.0);
  }
  return t;
}

PathPrediction predict_local(const ClusterView& view, const Placement& p, const RouteInput& in) {
  const NodeState& d = view.node(p.decode);
  const int b = running_decodes(d);
  const int64_t ctx = decode_context(d, b, in.num_prompt_tokens);
  const int64_t uncached = in.num_prompt_tokens - p.num_decode_cached_tokens;
  const PrefillTime queued = predict_prefill(d.step_model, queued_prefill_tokens(d), d.limits.max_prefill_tokens, 0, b, ctx);
  const PrefillTime own = predict_prefill(d.step_model, uncached, d.limits.max_prefill_tokens,
                                          p.num_decode_cached_tokens, b, ctx);
  const double step = d.step_model.predict_s(0, b + 1, ctx + in.num_prompt_tokens);
  // The append-prefill delays every decode on the node, this request's later ones included
  // (as seen by its neighbours): spread over the request's expected output.
  const double tpot = step + own.extra_s / std::max(in.max_tokens, 1);
  return {.ttft_s = queued.total_s + own.total_s, .tpot_s = tpot};
}

PathPrediction predict_remote(const ClusterView& view, const Placement& p, const RouteInput& in,
                              const PpdPolicyOptions& o) {
  const NodeState& pre = view.node(*p.prefill);
  const NodeState& d = view.node(p.decode);
  const int64_t uncached = in.num_prompt_tokens - p.num_prefill_cached_tokens;
  const int chunk = pre.limits.max_prefill_tokens;
  const PrefillTime queued = predict_prefill(pre.step_model, queued_prefill_tokens(pre), chunk, 0, 0, 0);
  const PrefillTime own = predict_prefill(pre.step_model, uncached, chunk, p.num_prefill_cached_tokens, 0, 0);
  const int bs = std::max(view.block_size, 1);
  const int total_blocks = num_blocks(in.num_prompt_tokens, bs);
  const int local_blocks = o.transfer == TransferMode::kDelta ? p.num_decode_cached_tokens / bs : 0;
  const double bytes = static_cast<double>(total_blocks - local_blocks) * static_cast<double>(view.block_bytes);
  const double bandwidth = d.load.transfer_bytes_per_s > 0 ? d.load.transfer_bytes_per_s : o.default_link_bytes_per_s;
  const int b = running_decodes(d);
  const int64_t ctx = decode_context(d, b, in.num_prompt_tokens);
  const double step = d.step_model.predict_s(0, b + 1, ctx + in.num_prompt_tokens);
  // The import joins the decode node between two steps: half a step on average.
  const double ttft = queued.total_s + own.total_s + bytes / bandwidth + o.link_latency_s + 0.5 * step;
  return {.ttft_s = ttft, .tpot_s = step};
}

double local_advantage(const PathPrediction& local, const PathPrediction& remote, const PpdPolicyOptions& o) {
  const double ttft_gain = (remote.ttft_s - local.ttft_s) / std::max(remote.ttft_s, 1e-9);
  const double tpot_loss = (local.tpot_s - remote.tpot_s) / std::max(remote.tpot_s, 1e-9);
  return o.w_ttft * ttft_gain - o.w_tpot * tpot_loss;
}

Result<std::unique_ptr<RoutingPolicy>> make_ppd_policy(PpdPolicyOptions o) {
  if (!(o.w_ttft >= 0)) return invalid_argument("router.ppd.w_ttft: must be >= 0; got {}", o.w_ttft);
  if (!(o.w_tpot >= 0)) return invalid_argument("router.ppd.w_tpot: must be >= 0; got {}", o.w_tpot);
  if (o.slo_ttft_s && !(*o.slo_ttft_s > 0)) return invalid_argument("router.slo_ttft_ms: must be > 0; got {}", *o.slo_ttft_s * 1e3);
  if (o.slo_tpot_s && !(*o.slo_tpot_s > 0)) return invalid_argument("router.slo_tpot_ms: must be > 0; got {}", *o.slo_tpot_s * 1e3);
  if (!(o.default_link_bytes_per_s > 0)) {
    return invalid_argument("router.ppd.default_link_bytes_per_s: must be > 0; got {}", o.default_link_bytes_per_s);
  }
  return std::unique_ptr<RoutingPolicy>(std::make_unique<PpdPolicy>(o));
}

}  // namespace ppd::router
