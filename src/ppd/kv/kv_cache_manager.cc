#include "ppd/kv/kv_cache_manager.h"

#include <algorithm>
#include <utility>

#include "ppd/common/check.h"

namespace ppd::kv {

KvCacheManager::KvCacheManager(const KvCacheOptions& options)
    : options_(options), allocator_(options.num_blocks), cache_(options.num_blocks) {
  PPD_CHECK(options.num_blocks >= 1 && options.block_size >= 1);
}

int KvCacheManager::match_prefix(std::span<const BlockHash> hashes) const {
  if (!options_.enable_prefix_cache) return 0;
  for (BlockHash h : hashes) cache_.prefetch(h);  // a long prompt's misses overlap
  int n = 0;
  for (BlockHash h : hashes) {
    if (!cache_.lookup(h)) break;
    ++n;
  }
  return n;
}

void KvCacheManager::acquire_prefix(std::span<const BlockHash> hashes, int n, BlockTable* table) {
  for (int i = 0; i < n; ++i) {
    const std::optional<BlockId> block = cache_.lookup(hashes[static_cast<size_t>(i)]);
    PPD_CHECK(block.has_value());
    if (cache_.is_evictable(*block)) {
      cache_.remove_evictable(*block);
      PPD_CHECK(allocator_.ref_count(*block) == 0);
    }
    allocator_.incref(*block);
    table->push_back(*block);
  }
}

Result<BlockId> KvCacheManager::allocate() {
  if (std::optional<BlockId> block = allocator_.allocate()) return *block;
  const std::optional<BlockId> victim = cache_.pop_lru();
  if (!victim) {
    return resource_exhausted("kv cache: all {} blocks are in use", allocator_.num_blocks());
  }
  events_.push_back({KvEventKind::kRemoved, *cache_.hash_of(*victim)});
  cache_.erase(*victim);
  allocator_.incref(*victim);
  return *victim;
}

void KvCacheManager::register_block(BlockId block, BlockHash hash) {
  if (!options_.enable_prefix_cache) return;
  PPD_CHECK(allocator_.ref_count(block) > 0);
  if (cache_.insert(hash, block)) events_.push_back({KvEventKind::kStored, hash});
}

void KvCacheManager::register_blocks(std::span<const int32_t> blocks, std::span<const BlockHash> hashes) {
  PPD_CHECK(blocks.size() == hashes.size());
  if (!options_.enable_prefix_cache) return;
  for (BlockHash h : hashes) cache_.prefetch(h);
  for (size_t i = 0; i < blocks.size(); ++i) register_block(BlockId{blocks[i]}, hashes[i]);
}

void KvCacheManager::release(BlockId block) {
  if (allocator_.decref(block) > 0) return;
  if (cache_.hash_of(block)) {
    cache_.push_evictable(block);
  } else {
    allocator_.free(block);
  }
}

void KvCacheManager::release_all(BlockTable* table) {
  for (int i = table->num_blocks() - 1; i >= 0; --i) release((*table)[i]);
  table->clear();
}

std::vector<KvEvent> KvCacheManager::take_events() {
  std::vector<KvEvent> taken;
  if (events_.empty()) return taken;
  // The next batch starts with room for one as large as this one: one allocation, not a
  // run of doublings, per batch.
  taken.reserve(events_.size());
  taken.swap(events_);
  return taken;
}

Status KvCacheManager::check_invariants() const {
  PPD_RETURN_IF_ERROR(allocator_.check_invariants());
  PPD_RETURN_IF_ERROR(cache_.check_invariants());
  for (int i = 0; i < allocator_.num_blocks(); ++i) {
    const BlockId block{i};
    const bool is_free = allocator_.is_free(block);
    const bool hashed = cache_.hash_of(block).has_value();
    const bool evictable = cache_.is_evictable(block);
    const int refs = allocator_.ref_count(block);
    if (is_free && hashed) return internal_error("kv cache: free block {} holds a hash", i);
    if (evictable && refs != 0) return internal_error("kv cache: cached block {} has {} references", i, refs);
    if (!is_free && refs == 0 && !evictable) {
      return internal_error("kv cache: block {} is unreferenced but neither free nor cached (leaked)", i);
    }
  }
  return Status::Ok();
}

}  // namespace ppd::kv
