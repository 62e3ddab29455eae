#include "ppd/sim/sim_router.h"

namespace ppd::sim {

using routing::Path;

Result<std::unique_ptr<SimRouter>> SimRouter::create(const SimRouterOptions& options) {
  if (options.num_prefill < 0) return invalid_argument("num_prefill: must be >= 0; got {}", options.num_prefill);
  if (options.num_decode < 1) return invalid_argument("num_decode: must be >= 1; got {}", options.num_decode);
  if (options.block_bytes < 1) return invalid_argument("block_bytes: must be >= 1; got {}", options.block_bytes);
  if (options.rate_window_ns < 1) {
    return invalid_argument("rate_window_ns: must be >= 1; got {}", options.rate_window_ns);
  }
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<routing::RoutingPolicy> policy, routing::make_policy(options.policy));
  std::unique_ptr<SimRouter> r(new SimRouter(std::move(policy)));
  r->options_ = options;
  r->view_.block_bytes = options.block_bytes;
  r->view_.block_size = options.limits.block_size;
  for (int i = 0; i < options.num_prefill + options.num_decode; ++i) {
    const bool prefill = i < options.num_prefill;
    const std::string name = prefill ? fmt::format("p{}", i) : fmt::format("d{}", i - options.num_prefill);
    PPD_ASSIGN_OR_RETURN(NodeId id, r->view_.add_node(name, prefill ? routing::NodeKind::kPrefill
                                                                     : routing::NodeKind::kDecode,
                                                      options.step_model));
    routing::NodeState& n = r->view_.mutable_node(id);
    n.healthy = true;
    n.limits = options.limits;
  }
  return r;
}

double SimRouter::request_rate(int64_t now_ns) {
  arrivals_ns_.push_back(now_ns);
  while (now_ns - arrivals_ns_.front() > options_.rate_window_ns) arrivals_ns_.pop_front();
  return static_cast<double>(arrivals_ns_.size()) / (static_cast<double>(options_.rate_window_ns) * 1e-9);
}

Result<SimRouter::Routed> SimRouter::route(const routing::RouteInput& input, int64_t now_ns) {
  routing::RouteInput in = input;
  in.request_rate = request_rate(now_ns);
  PPD_ASSIGN_OR_RETURN(routing::RouteDecision d, policy_->route(view_, in));
  (d.path == Path::kLocal ? totals_.local_decisions : totals_.remote_decisions) += 1;
  routing::Reservation r = routing::reserve(&view_, d, in.num_prompt_tokens, in.max_tokens);
  return Routed{.decision = std::move(d), .reservation = r};
}

void SimRouter::finish(const routing::RouteDecision& d, routing::Reservation* r, std::span<const BlockHash> prompt_hashes,
                       std::span<const BlockHash> decode_hashes, int64_t num_prompt_tokens, int64_t num_cached_tokens,
                       int64_t transfer_bytes) {
  routing::release(&view_, r);
  view_.apply_kv_events(d.decode, decode_hashes, {});
  if (d.prefill) view_.apply_kv_events(*d.prefill, prompt_hashes, {});
  totals_.prompt_tokens += static_cast<double>(num_prompt_tokens);
  totals_.kv_transfer_bytes += static_cast<double>(transfer_bytes);
  (d.path == Path::kLocal ? totals_.prefix_hit_tokens_local : totals_.prefix_hit_tokens_remote) +=
      static_cast<double>(num_cached_tokens);
}

void SimRouter::apply_kv_events(NodeId node, std::span<const kv::KvEvent> events) {
  // In order: a hash evicted and stored again in one batch ends up stored.
  for (size_t i = 0; i < events.size(); ++i) {
    run_.push_back(events[i].hash);
    if (i + 1 < events.size() && events[i + 1].kind == events[i].kind) continue;
    const bool stored = events[i].kind == kv::KvEventKind::kStored;
    view_.apply_kv_events(node, stored ? run_ : std::span<const BlockHash>(), stored ? std::span<const BlockHash>() : run_);
    run_.clear();
  }
}

void SimRouter::apply_load(NodeId node, const routing::NodeLoad& load, std::span<const routing::StepSample> steps,
                           int64_t now_ns) {
  view_.apply_load(node, load, steps, now_ns);
}

}  // namespace ppd::sim
