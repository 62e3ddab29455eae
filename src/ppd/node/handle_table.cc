#include "ppd/node/handle_table.h"

namespace ppd::node {

void HandleTable::add(uint64_t handle, std::vector<std::span<const uint8_t>> blocks, int64_t created_ns) {
  std::lock_guard lock(mu_);
  handles_[handle] = Entry{std::move(blocks), created_ns};
}

Result<std::vector<std::span<const uint8_t>>> HandleTable::resolve(uint64_t handle, std::span<const uint32_t> indices) {
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return not_found("kv handle {}: unknown, released or expired", handle);
  std::vector<std::span<const uint8_t>> out;
  out.reserve(indices.size());
  for (uint32_t i : indices) {
    if (i >= it->second.blocks.size()) {
      return invalid_argument("kv handle {}: block index must be < {}; got {}", handle, it->second.blocks.size(), i);
    }
    out.push_back(it->second.blocks[i]);
  }
  return out;
}

void HandleTable::release(uint64_t handle) {
  {
    std::lock_guard lock(mu_);
    if (handles_.erase(handle) == 0) return;
  }
  unpin_(handle);
}

std::vector<uint64_t> HandleTable::release_older_than(int64_t cutoff_ns) {
  std::vector<uint64_t> expired;
  {
    std::lock_guard lock(mu_);
    for (auto it = handles_.begin(); it != handles_.end();) {
      if (it->second.created_ns < cutoff_ns) {
        expired.push_back(it->first);
        it = handles_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (uint64_t h : expired) unpin_(h);
  return expired;
}

int HandleTable::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(handles_.size());
}

}  // namespace ppd::node
