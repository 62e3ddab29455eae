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
  std::unique_ptr<SimRouter> r(new SimRouter(std::move(policy), options.rate_window_ns));
  r->view_.block_bytes = options.block_bytes;
  r->view_.block_size = options.limits.block_size;
  for (int i = 0; i < options.num_prefill + options.num_decode; ++i) {
    const bool prefill = i < options.num_prefill;
    const std::string name = prefill ? fmt::format("p{}", i) : fmt::format("d{}", i - options.num_prefill);
    PPD_ASSIGN_OR_RETURN(NodeId id,
                         r->view_.add_node(name, prefill ? routing::NodeKind::kPrefill : routing::NodeKind::kDecode,
                                           options.step_model));
    routing::NodeState& n = r->view_.mutable_node(id);
    n.healthy = true;
    n.limits = options.limits;
  }
  return r;
}

Result<SimRouter::Routed> SimRouter::route(const routing::RouteInput& input, int64_t now_ns) {
  routing::RouteInput in = input;
  in.request_rate = ledger_.note_arrival(now_ns);
  PPD_ASSIGN_OR_RETURN(routing::RouteDecision d, policy_->route(view_, in));
  (d.path == Path::kLocal ? totals_.local_decisions : totals_.remote_decisions) += 1;
  routing::Reservation r = ledger_.reserve(d, in.num_prompt_tokens, in.max_tokens);
  return Routed{.decision = std::move(d), .reservation = r, .request_rate = in.request_rate};
}

void SimRouter::finish(const routing::RouteDecision& d, routing::Reservation* r,
                       std::span<const BlockHash> prompt_hashes, std::span<const BlockHash> decode_hashes,
                       int64_t num_prompt_tokens, int64_t num_cached_tokens, int64_t transfer_bytes) {
  ledger_.release(r);
  ledger_.note_cached(d.decode, decode_hashes);
  if (d.prefill) ledger_.note_cached(*d.prefill, prompt_hashes);
  totals_.prompt_tokens += static_cast<double>(num_prompt_tokens);
  totals_.kv_transfer_bytes += static_cast<double>(transfer_bytes);
  (d.path == Path::kLocal ? totals_.prefix_hit_tokens_local : totals_.prefix_hit_tokens_remote) +=
      static_cast<double>(num_cached_tokens);
}

}  // namespace ppd::sim
