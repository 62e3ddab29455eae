// Test support for the policy tests: a hand-built ClusterView and prompts whose block
// hashes are plain numbers. Test-only.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>

#include "ppd/routing/policies.h"

namespace ppd::routing::testing {

constexpr int kBlockSize = 16;

// A hand-built cluster: nodes added healthy and idle, block size 16.
struct Cluster {
  ClusterView view;
  Cluster() { view.block_size = kBlockSize; }
  NodeId add(NodeKind kind) {
    const NodeId id = *view.add_node(fmt::format("node{}", view.nodes().size()), kind);
    view.mutable_node(id).healthy = true;
    return id;
  }
  NodeState& node(NodeId id) { return view.mutable_node(id); }
  // `node` holds the first `num_blocks` blocks of `prompt_hashes` in its prefix cache.
  void cache(NodeId id, const std::vector<BlockHash>& prompt_hashes, int num_blocks) {
    view.apply_kv_events(id, std::span(prompt_hashes).first(num_blocks), {});
  }
};

inline std::vector<BlockHash> prompt_hashes(int num_prompt_tokens) {
  std::vector<BlockHash> out;
  for (int i = 0; i < num_prompt_tokens / kBlockSize; ++i) out.emplace_back(1000 + i);
  return out;
}

// A prompt of `num_prompt_tokens` tokens whose full blocks lead `hashes`, which must
// outlive the input.
inline RouteInput input(const std::vector<BlockHash>& hashes, int num_prompt_tokens, int turn) {
  RouteInput in;
  in.num_prompt_tokens = num_prompt_tokens;
  in.block_hashes = std::span(hashes).first(std::min<size_t>(hashes.size(), num_prompt_tokens / kBlockSize));
  in.turn = turn;
  return in;
}

// ---- place(), pd, local ---------------------------------------------------------------------

}  // namespace ppd::routing::testing
