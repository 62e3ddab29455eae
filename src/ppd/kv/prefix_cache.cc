#include "ppd/kv/prefix_cache.h"

#include "ppd/common/check.h"

namespace ppd::kv {

PrefixCache::PrefixCache(int num_blocks)
    : hash_of_block_(static_cast<size_t>(num_blocks)),
      prev_(static_cast<size_t>(num_blocks) + 1, num_blocks),
      next_(static_cast<size_t>(num_blocks) + 1, num_blocks),
      in_lru_(static_cast<size_t>(num_blocks), false) {}

std::optional<BlockId> PrefixCache::lookup(BlockHash hash) const {
  auto it = block_of_hash_.find(hash);
  if (it == block_of_hash_.end()) return std::nullopt;
  return it->second;
}

std::optional<BlockHash> PrefixCache::hash_of(BlockId block) const {
  return hash_of_block_[static_cast<size_t>(block.value)];
}

bool PrefixCache::insert(BlockHash hash, BlockId block) {
  auto& slot = hash_of_block_[static_cast<size_t>(block.value)];
  if (slot.has_value() || block_of_hash_.contains(hash)) return false;
  slot = hash;
  block_of_hash_.emplace(hash, block);
  return true;
}

void PrefixCache::erase(BlockId block) {
  auto& slot = hash_of_block_[static_cast<size_t>(block.value)];
  PPD_CHECK(slot.has_value() && !in_lru_[static_cast<size_t>(block.value)]);
  block_of_hash_.erase(*slot);
  slot.reset();
}

void PrefixCache::push_evictable(BlockId block) {
  const size_t i = static_cast<size_t>(block.value);
  PPD_CHECK(hash_of_block_[i].has_value() && !in_lru_[i]);
  const size_t sentinel = in_lru_.size();
  const size_t last = static_cast<size_t>(prev_[sentinel]);
  next_[last] = static_cast<int32_t>(i);
  prev_[i] = static_cast<int32_t>(last);
  next_[i] = static_cast<int32_t>(sentinel);
  prev_[sentinel] = static_cast<int32_t>(i);
  in_lru_[i] = true;
  ++num_evictable_;
}

void PrefixCache::unlink(size_t i) {
  next_[static_cast<size_t>(prev_[i])] = next_[i];
  prev_[static_cast<size_t>(next_[i])] = prev_[i];
  in_lru_[i] = false;
  --num_evictable_;
}

void PrefixCache::remove_evictable(BlockId block) {
  const size_t i = static_cast<size_t>(block.value);
  PPD_CHECK(in_lru_[i]);
  unlink(i);
}

std::optional<BlockId> PrefixCache::pop_lru() {
  const size_t sentinel = in_lru_.size();
  const size_t first = static_cast<size_t>(next_[sentinel]);
  if (first == sentinel) return std::nullopt;
  unlink(first);
  return BlockId{static_cast<int32_t>(first)};
}

Status PrefixCache::check_invariants() const {
  for (const auto& [hash, block] : block_of_hash_) {
    const auto& slot = hash_of_block_[static_cast<size_t>(block.value)];
    if (!slot || *slot != hash) return internal_error("prefix cache: hash map and block {} disagree", block.value);
  }
  int registered = 0;
  for (const auto& slot : hash_of_block_) registered += slot.has_value() ? 1 : 0;
  if (registered != num_registered()) return internal_error("prefix cache: {} blocks hashed, {} hashes", registered, num_registered());
  const size_t sentinel = in_lru_.size();
  int walked = 0;
  for (size_t i = static_cast<size_t>(next_[sentinel]); i != sentinel; i = static_cast<size_t>(next_[i])) {
    if (!in_lru_[i] || !hash_of_block_[i]) return internal_error("prefix cache: LRU holds block {} wrongly", i);
    if (static_cast<size_t>(prev_[static_cast<size_t>(next_[i])]) != i) return internal_error("prefix cache: LRU links broken at {}", i);
    if (++walked > num_evictable_) return internal_error("prefix cache: LRU longer than its count");
  }
  if (walked != num_evictable_) return internal_error("prefix cache: LRU has {} blocks, count says {}", walked, num_evictable_);
  return Status::Ok();
}

}  // namespace ppd::kv
