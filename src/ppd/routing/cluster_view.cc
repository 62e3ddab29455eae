#include "ppd/routing/cluster_view.h"

#include <algorithm>
#include <bit>

namespace ppd::routing {

double mean_decode_context(std::span<const StepSample> steps, double previous) {
  double context = 0, decodes = 0;
  for (const StepSample& s : steps) {
    context += static_cast<double>(s.num_decode_context_tokens);
    decodes += s.num_decode_sequences;
  }
  return decodes > 0 ? context / decodes : previous;
}

double mean_decode_step(std::span<const StepSample> steps, double previous) {
  double total_us = 0;
  int n = 0;
  for (const StepSample& s : steps) {
    if (s.num_decode_sequences == 0) continue;
    total_us += s.step_us;
    ++n;
  }
  return n > 0 ? total_us / n * 1e-6 : previous;
}

std::string_view node_kind_name(NodeKind kind) { return kind == NodeKind::kPrefill ? "prefill" : "decode"; }

namespace {
constexpr uint64_t kEmpty = 0;
}  // namespace

uint64_t PrefixIndex::mask_of(uint64_t key) const {
  if (key == kEmpty) return empty_key_mask_;
  if (slots_.empty()) return 0;
  for (size_t i = home(key);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].key == key) return slots_[i].mask;
    if (slots_[i].key == kEmpty) return 0;
  }
}

PrefixIndex::Slot* PrefixIndex::find(uint64_t key) {
  if (slots_.empty()) return nullptr;
  for (size_t i = home(key);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].key == key) return &slots_[i];
    if (slots_[i].key == kEmpty) return nullptr;
  }
}

void PrefixIndex::grow() {
  SlotVector old = std::move(slots_);
  slots_.assign(std::max<size_t>(old.size() * 2, 1024), Slot{});
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = home(s.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = s;
  }
}

void PrefixIndex::add(NodeId node, BlockHash hash) {
  const uint64_t bit = uint64_t{1} << node.value;
  if (hash.value == kEmpty) {
    empty_key_mask_ |= bit;
    return;
  }
  if (2 * (size_ + 1) > slots_.size()) grow();
  // One probe: the key's slot, or the free slot that ends its run.
  size_t i = home(hash.value);
  while (slots_[i].key != kEmpty && slots_[i].key != hash.value) i = (i + 1) & (slots_.size() - 1);
  Slot& s = slots_[i];
  if (s.key == kEmpty) {
    s = Slot{hash.value, bit};
    ++size_;
  } else if ((s.mask & bit) == 0) {  // most notes repeat what events told: leave the line clean
    s.mask |= bit;
  }
}

// Backward-shift deletion: later entries of the probe run move up so that no lookup stops
// early at the hole.
void PrefixIndex::erase_at(size_t hole) {
  const size_t m = slots_.size() - 1;
  for (size_t i = (hole + 1) & m; slots_[i].key != kEmpty; i = (i + 1) & m) {
    const size_t h = home(slots_[i].key);
    // Move slot i into the hole unless its home lies cyclically in (hole, i].
    const bool home_after_hole = hole <= i ? (h > hole && h <= i) : (h > hole || h <= i);
    if (home_after_hole) continue;
    slots_[hole] = slots_[i];
    hole = i;
  }
  slots_[hole] = Slot{};
  --size_;
}

void PrefixIndex::remove(NodeId node, BlockHash hash) {
  const uint64_t bit = uint64_t{1} << node.value;
  if (hash.value == kEmpty) {
    empty_key_mask_ &= ~bit;
    return;
  }
  Slot* s = find(hash.value);
  if (s == nullptr) return;
  s->mask &= ~bit;
  if (s->mask == 0) erase_at(static_cast<size_t>(s - slots_.data()));
}

void PrefixIndex::clear_node(NodeId node) {
  const uint64_t bit = uint64_t{1} << node.value;
  empty_key_mask_ &= ~bit;
  for (size_t i = 0; i < slots_.size();) {
    if (slots_[i].key != kEmpty && (slots_[i].mask & bit) != 0) {
      slots_[i].mask &= ~bit;
      if (slots_[i].mask == 0) {
        erase_at(i);
        continue;  // slot i now holds a shifted entry (or is free): look again
      }
    }
    ++i;
  }
}

void PrefixIndex::prefetch(std::span<const BlockHash> hashes) const {
  if (slots_.empty()) return;
  for (BlockHash h : hashes) __builtin_prefetch(&slots_[home(h.value)]);
}

// One lookup per block: the mask of nodes still matching shrinks as blocks go by; a node
// dropping out of it stops at that block. Every block's home slot is prefetched first.
void PrefixIndex::match(std::span<const BlockHash> hashes, std::span<int> out) const {
  std::fill(out.begin(), out.end(), 0);
  prefetch(hashes);
  uint64_t alive = ~uint64_t{0};
  for (size_t i = 0; i < hashes.size() && alive != 0; ++i) {
    const uint64_t holders = mask_of(hashes[i].value);
    uint64_t dropped = alive & ~holders;
    while (dropped != 0) {
      const int node = std::countr_zero(dropped);
      if (static_cast<size_t>(node) < out.size()) out[node] = static_cast<int>(i);
      dropped &= dropped - 1;
    }
    alive &= holders;
  }
  while (alive != 0) {
    const int node = std::countr_zero(alive);
    if (static_cast<size_t>(node) < out.size()) out[node] = static_cast<int>(hashes.size());
    alive &= alive - 1;
  }
}

Result<NodeId> ClusterView::add_node(std::string name, NodeKind kind, StepTimeModelOptions model) {
  if (nodes_.size() >= PrefixIndex::kMaxNodes) {
    return invalid_argument("nodes: at most {} nodes are supported; got more for \"{}\"", PrefixIndex::kMaxNodes, name);
  }
  if (nodes_.empty()) default_prior_ = model.prior;
  NodeState node{.step_model = StepTimeModel(model)};
  node.id = NodeId(static_cast<uint32_t>(nodes_.size()));
  node.name = std::move(name);
  node.kind = kind;
  nodes_.push_back(std::move(node));
  return nodes_.back().id;
}

void ClusterView::apply_kv_events(NodeId node, std::span<const BlockHash> stored, std::span<const BlockHash> removed) {
  index_.prefetch(stored);
  for (BlockHash h : stored) index_.add(node, h);
  index_.prefetch(removed);
  for (BlockHash h : removed) index_.remove(node, h);
}

void ClusterView::apply_load(NodeId id, const NodeLoad& load, std::span<const StepSample> steps, int64_t now_ns) {
  NodeState& n = nodes_[id.value];
  const NodeLoad previous = n.load;
  n.load = load;
  n.load.mean_decode_context_tokens = mean_decode_context(steps, previous.mean_decode_context_tokens);
  n.load.mean_decode_step_s = mean_decode_step(steps, previous.mean_decode_step_s);
  n.last_report_ns = now_ns;
  n.healthy = true;
  n.step_model.set_prior(fleet_coefficients());
  n.step_model.observe(steps);
}

std::array<double, kStepFeatures> ClusterView::fleet_coefficients() const {
  std::array<double, kStepFeatures> sum{}, weight{};
  for (const NodeState& n : nodes_) {
    for (int k = 0; k < kStepFeatures; ++k) {
      const double w = n.step_model.evidence(k);
      sum[k] += w * n.step_model.coefficients()[k];
      weight[k] += w;
    }
  }
  std::array<double, kStepFeatures> out = default_prior_;
  for (int k = 0; k < kStepFeatures; ++k) {
    if (weight[k] > 0) out[k] = sum[k] / weight[k];
  }
  return out;
}

void ClusterView::expire(int64_t now_ns, int64_t timeout_ns) {
  for (NodeState& n : nodes_) {
    if (n.healthy && now_ns - n.last_report_ns > timeout_ns) n.healthy = false;
  }
}

std::vector<int> ClusterView::cached_blocks(std::span<const BlockHash> hashes) const {
  std::vector<int> out(nodes_.size());
  index_.match(hashes, out);
  return out;
}

}  // namespace ppd::routing
