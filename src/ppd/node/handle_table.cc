#include "ppd/node/handle_table.h"

#include <algorithm>
#include <iterator>

namespace ppd::node {

bool HandleTable::add(uint64_t handle, uint64_t owner, std::vector<std::span<const uint8_t>> blocks,
                      int64_t created_ns) {
  std::lock_guard lock(mu_);
  const auto size = static_cast<int64_t>(blocks.size());
  if (!handles_.try_emplace(handle, Entry{owner, std::move(blocks), created_ns}).second) return false;
  num_blocks_ += size;
  return true;
}

int64_t HandleTable::num_blocks() const {
  std::lock_guard lock(mu_);
  return num_blocks_;
}

bool HandleTable::contains(uint64_t handle) const {
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  return it != handles_.end() && !it->second.released;
}

uint64_t HandleTable::erase_locked(std::unordered_map<uint64_t, Entry>::iterator it) {
  const uint64_t owner = it->second.owner;
  num_blocks_ -= static_cast<int64_t>(it->second.blocks.size());
  handles_.erase(it);
  return owner;
}

Result<std::vector<std::span<const uint8_t>>> HandleTable::resolve(uint64_t handle, std::span<const uint32_t> indices) {
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end() || it->second.released)
    return not_found("kv handle {}: unknown, released or expired", handle);
  std::vector<std::span<const uint8_t>> out;
  out.reserve(indices.size());
  for (uint32_t i : indices) {
    if (i >= it->second.blocks.size()) {
      return invalid_argument("kv handle {}: block index must be < {}; got {}", handle, it->second.blocks.size(), i);
    }
    out.push_back(it->second.blocks[i]);
  }
  ++it->second.num_sending;
  return out;
}

void HandleTable::end_send(uint64_t handle) {
  uint64_t owner = 0;
  {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end() || --it->second.num_sending > 0 || !it->second.released) return;
    owner = erase_locked(it);
  }
  unpin_(owner);
}

void HandleTable::release(uint64_t handle) {
  uint64_t owner = 0;
  {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end() || it->second.released) return;
    if (it->second.num_sending > 0) {
      it->second.released = true;  // end_send() unpins
      return;
    }
    owner = erase_locked(it);
  }
  unpin_(owner);
}

std::vector<uint64_t> HandleTable::release_older_than(int64_t cutoff_ns) {
  std::vector<uint64_t> expired;
  std::vector<uint64_t> owners;
  {
    std::lock_guard lock(mu_);
    for (auto it = handles_.begin(); it != handles_.end();) {
      const auto next = std::next(it);
      if (it->second.created_ns < cutoff_ns && it->second.num_sending == 0 && !it->second.released) {
        expired.push_back(it->first);
        owners.push_back(erase_locked(it));
      }
      it = next;
    }
  }
  for (uint64_t owner : owners) unpin_(owner);
  return expired;
}

int HandleTable::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(
      std::count_if(handles_.begin(), handles_.end(), [](const auto& entry) { return !entry.second.released; }));
}

}  // namespace ppd::node
