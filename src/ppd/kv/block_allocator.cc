#include "ppd/kv/block_allocator.h"

#include "ppd/common/check.h"

namespace ppd::kv {

BlockAllocator::BlockAllocator(int num_blocks)
    : ref_counts_(static_cast<size_t>(num_blocks), 0), in_free_list_(static_cast<size_t>(num_blocks), true) {
  PPD_CHECK(num_blocks >= 0);
  free_list_.reserve(static_cast<size_t>(num_blocks));
  for (int i = num_blocks - 1; i >= 0; --i) free_list_.push_back(BlockId{i});
}

size_t BlockAllocator::index(BlockId block) const {
  PPD_CHECK(block.value >= 0 && block.value < num_blocks());
  return static_cast<size_t>(block.value);
}

std::optional<BlockId> BlockAllocator::allocate() {
  if (free_list_.empty()) return std::nullopt;
  const BlockId block = free_list_.back();
  free_list_.pop_back();
  in_free_list_[index(block)] = false;
  ref_counts_[index(block)] = 1;
  return block;
}

void BlockAllocator::incref(BlockId block) {
  PPD_CHECK(!in_free_list_[index(block)]);
  ++ref_counts_[index(block)];
}

int BlockAllocator::decref(BlockId block) {
  int& count = ref_counts_[index(block)];
  PPD_CHECK(count > 0);
  return --count;
}

void BlockAllocator::free(BlockId block) {
  PPD_CHECK(ref_counts_[index(block)] == 0 && !in_free_list_[index(block)]);
  in_free_list_[index(block)] = true;
  free_list_.push_back(block);
}

Status BlockAllocator::check_invariants() const {
  std::vector<bool> seen(ref_counts_.size(), false);
  for (BlockId block : free_list_) {
    const size_t i = static_cast<size_t>(block.value);
    if (block.value < 0 || i >= ref_counts_.size()) {
      return internal_error("allocator: free list holds out-of-range block {}", block.value);
    }
    if (seen[i]) return internal_error("allocator: block {} twice in the free list", block.value);
    seen[i] = true;
    if (ref_counts_[i] != 0) {
      return internal_error("allocator: free block {} has {} references", block.value, ref_counts_[i]);
    }
  }
  for (size_t i = 0; i < ref_counts_.size(); ++i) {
    if (seen[i] != in_free_list_[i]) return internal_error("allocator: free flag of block {} is stale", i);
    if (ref_counts_[i] < 0) return internal_error("allocator: block {} has a negative count", i);
  }
  return Status::Ok();
}

}  // namespace ppd::kv
