// ClusterView: what the router knows about the cluster when it routes one request: every
// node's kind, health and latest load, its fitted step-time model, the router's own count
// of requests it has sent there, and a prefix index giving, for a prompt's block hashes,
// the number of leading blocks each node holds in its prefix cache. Fed by KV events and
// load reports (and, in the simulator, by simulated ones). Plain data with no sockets,
// threads or clocks: times are passed in. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ppd/common/huge_pages.h"
#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/routing/step_time_model.h"

namespace ppd::routing {

// What a node does for the router. A mixed node added to both lists appears twice, once per kind.
enum class NodeKind { kPrefill, kDecode };
std::string_view node_kind_name(NodeKind kind);

// A node's latest load report.
struct NodeLoad {
  int num_waiting = 0;
  int num_running = 0;
  int64_t num_pending_prefill_tokens = 0;
  int num_free_blocks = -1;         // allocatable: free plus evictable cached; < 0: not reported
  double transfer_bytes_per_s = 0;  // EWMA of the node's KV pulls; 0 before its first
  bool draining = false;            // the node refuses new requests; those it runs finish
  // Derived by ClusterView::apply_load from the report's steps (the last value kept when they
  // have none):
  double mean_decode_context_tokens = 0;  // per decode sequence, over its steps with decodes
  double mean_decode_step_s = 0;          // mean length of its steps with decodes: its running requests' TPOT
};

// Mean context per decode sequence over the steps of `steps`, or `previous` when none decodes:
// how NodeLoad::mean_decode_context_tokens follows a node's reports. Pure.
double mean_decode_context(std::span<const StepSample> steps, double previous);
// Mean length in seconds of the steps of `steps` that decode, or `previous` when none does. Pure.
double mean_decode_step(std::span<const StepSample> steps, double previous);

// The node's engine limits, from its /health.
struct NodeLimits {
  int block_size = 16;
  int max_prefill_tokens = 512;  // prefill tokens per step (the chunk size)
  int max_model_len = 0;
  int max_num_running = 0;  // requests its scheduler admits at once (imports aside); 0: unknown
};

struct NodeState {
  NodeId id;
  std::string name;  // as the operator gave it: "host:port"
  NodeKind kind = NodeKind::kDecode;
  bool healthy = false;
  NodeLoad load;
  NodeLimits limits;
  StepTimeModel step_model;
  // Requests the router has sent here that have not finished, and their prompt tokens
  // still to prefill (the router's own view; it leads the load reports); see router_ledger.h.
  int num_router_active = 0;
  int64_t num_router_prefill_tokens = 0;
  // Of those, the ones decoding here (past their first token), and Σ 1/(max_tokens - 1) over
  // them: the TPOT that one second of stall adds to them, summed (a request's TPOT spreads its
  // decode time over its outputs after the first).
  int num_router_decoding = 0;
  double router_inverse_outputs = 0;
  int64_t last_report_ns = 0;
  // Healthy and not draining: new requests may go here.
  bool accepting() const { return healthy && !load.draining; }
};

// Block hash -> bit mask of the nodes holding it, in a flat open-addressing table (linear
// probing, load <= 1/2, backward-shift deletion): one cache line per lookup, and match()
// and ClusterView::apply_kv_events prefetch every block's slot before probing, so a long
// prompt's misses overlap.
// Node ids are < kMaxNodes.
class PrefixIndex {
 public:
  static constexpr uint32_t kMaxNodes = 64;
  void add(NodeId node, BlockHash hash);
  void remove(NodeId node, BlockHash hash);
  void clear_node(NodeId node);  // mutates; O(table size)
  // Starts loading the home slot of each hash. A hint: changes nothing.
  void prefetch(std::span<const BlockHash> hashes) const;
  // For each node id i < out.size(), out[i] = number of leading `hashes` node i holds. Pure.
  void match(std::span<const BlockHash> hashes, std::span<int> out) const;
  size_t num_hashes() const { return size_; }

 private:
  struct Slot {
    uint64_t key = 0;   // the hash; kEmpty marks a free slot
    uint64_t mask = 0;  // nodes holding it; 0 only in free slots
  };
  // Hash values are chained XXH3 outputs: their low bits are uniform already.
  size_t home(uint64_t key) const { return static_cast<size_t>(key) & (slots_.size() - 1); }
  uint64_t mask_of(uint64_t key) const;
  Slot* find(uint64_t key);
  void grow();
  void erase_at(size_t index);

  using SlotVector = std::vector<Slot, HugePageAllocator<Slot>>;  // MiBs for a cluster: huge pages
  SlotVector slots_;                                              // size is 0 or a power of two
  size_t size_ = 0;
  // The one hash value that collides with the empty marker lives outside the table.
  uint64_t empty_key_mask_ = 0;
};

class ClusterView {
 public:
  // Adds a node and returns its id (dense, from 0). INVALID_ARGUMENT past kMaxNodes.
  Result<NodeId> add_node(std::string name, NodeKind kind, StepTimeModelOptions model = {});
  const std::vector<NodeState>& nodes() const { return nodes_; }
  const NodeState& node(NodeId id) const { return nodes_[id.value]; }
  NodeState& mutable_node(NodeId id) { return nodes_[id.value]; }

  // KV events of one node. Mutates.
  void apply_kv_events(NodeId node, std::span<const BlockHash> stored, std::span<const BlockHash> removed);
  // A node's event stream broke: its prefix cache is no longer known. Mutates.
  void forget_prefix_cache(NodeId node) { index_.clear_node(node); }
  // A load report received at `now_ns` (router clock), with the steps it carries, which the
  // node's model learns; its prior becomes the fleet's coefficients first. Mutates.
  void apply_load(NodeId node, const NodeLoad& load, std::span<const StepSample> steps, int64_t now_ns);
  // What the nodes' models say together: each coefficient the mean of the nodes' own,
  // weighted by how much of that feature each node has seen (StepTimeModel::evidence), or the
  // first node's prior where none has seen any. Nodes serve one model on like hardware, so a
  // node that never prefilled prices prefill from the nodes that do. Pure.
  std::array<double, kStepFeatures> fleet_coefficients() const;
  // Marks nodes whose last report is older than `timeout_ns` unhealthy. Mutates.
  void expire(int64_t now_ns, int64_t timeout_ns);

  // Leading cached blocks of `hashes`, indexed by node id. Pure.
  std::vector<int> cached_blocks(std::span<const BlockHash> hashes) const;
  const PrefixIndex& prefix_index() const { return index_; }

  // Bytes of one KV block (all layers, K and V) and tokens per block, shared by all nodes.
  int64_t block_bytes = 0;
  int block_size = 16;

 private:
  std::vector<NodeState> nodes_;
  PrefixIndex index_;
  std::array<double, kStepFeatures> default_prior_{};
};

}  // namespace ppd::routing
