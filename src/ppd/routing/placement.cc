// Placement shared by every policy: which decode node and which prefill node a request
// would use, from health, load and the cached prefix on each node.
#include <algorithm>
#include <limits>

#include "ppd/routing/policy.h"

namespace ppd::routing {
namespace {

bool usable(const NodeState& n, NodeKind kind, const RouteInput& in) {
  return n.accepting() && n.kind == kind &&
         std::find(in.excluded.begin(), in.excluded.end(), n.id) == in.excluded.end();
}

// What a node is busy with, as the larger of its report and the router's own count.
int64_t decode_load(const NodeState& n) {
  return std::max<int64_t>(n.load.num_running + n.load.num_waiting, n.num_router_active);
}
int64_t prefill_load(const NodeState& n) {
  return std::max(n.load.num_pending_prefill_tokens, n.num_router_prefill_tokens);
}

int cached_tokens(const ClusterView& view, const std::vector<int>& blocks, NodeId id, int num_prompt_tokens) {
  const int64_t tokens = int64_t{blocks[id.value]} * view.block_size;
  return static_cast<int>(std::clamp<int64_t>(tokens, 0, std::max(num_prompt_tokens - 1, 0)));
}

std::optional<NodeId> pick_decode(const ClusterView& view, const RouteInput& in, const std::vector<int>& blocks) {
  const auto& nodes = view.nodes();
  if (in.session_decode && in.session_decode->value < nodes.size() &&
      usable(nodes[in.session_decode->value], NodeKind::kDecode, in)) {
    return in.session_decode;
  }
  std::optional<NodeId> best;
  auto better = [&](const NodeState& a, const NodeState& b) {
    if (in.turn > 1 && blocks[a.id.value] != blocks[b.id.value]) return blocks[a.id.value] > blocks[b.id.value];
    return decode_load(a) < decode_load(b);
  };
  for (const NodeState& n : nodes) {
    if (!usable(n, NodeKind::kDecode, in)) continue;
    if (!best || better(n, nodes[best->value])) best = n.id;
  }
  return best;
}

std::optional<NodeId> pick_prefill(const ClusterView& view, const RouteInput& in, const std::vector<int>& blocks) {
  if (in.remote_failed) return std::nullopt;
  const auto& nodes = view.nodes();
  std::optional<NodeId> best;
  for (const NodeState& n : nodes) {
    if (!usable(n, NodeKind::kPrefill, in)) continue;
    if (!best) {
      best = n.id;
      continue;
    }
    const NodeState& b = nodes[best->value];
    if (prefill_load(n) < prefill_load(b) ||
        (prefill_load(n) == prefill_load(b) && blocks[n.id.value] > blocks[b.id.value])) {
      best = n.id;
    }
  }
  return best;
}

}  // namespace

std::string_view path_name(Path path) { return path == Path::kLocal ? "local" : "remote"; }
std::string_view transfer_mode_name(TransferMode mode) { return mode == TransferMode::kDelta ? "delta" : "full"; }

Result<Placement> place(const ClusterView& view, const RouteInput& in) {
  const std::vector<int> blocks = view.cached_blocks(in.block_hashes);
  const std::optional<NodeId> decode = pick_decode(view, in, blocks);
  if (!decode) return unavailable("no healthy decode node");
  Placement p{.decode = *decode, .prefill = pick_prefill(view, in, blocks)};
  p.num_decode_cached_tokens = cached_tokens(view, blocks, *decode, in.num_prompt_tokens);
  if (p.prefill) p.num_prefill_cached_tokens = cached_tokens(view, blocks, *p.prefill, in.num_prompt_tokens);
  return p;
}

RouteDecision make_decision(const Placement& placement, Path path, std::string reason) {
  RouteDecision d;
  d.path = path;
  d.decode = placement.decode;
  if (path == Path::kRemote) d.prefill = placement.prefill;
  d.reason = std::move(reason);
  d.num_decode_cached_tokens = placement.num_decode_cached_tokens;
  d.num_prefill_cached_tokens = placement.num_prefill_cached_tokens;
  return d;
}

}  // namespace ppd::routing
