#include "ppd/kv/prefix_cache.h"

#include "ppd/common/check.h"

namespace ppd::kv {

namespace {

size_t table_size(int num_blocks) {
  size_t n = 2;
  while (n < 2 * static_cast<size_t>(num_blocks)) n *= 2;
  return n;
}

}  // namespace

PrefixCache::PrefixCache(int num_blocks)
    : slots_(table_size(num_blocks)),
      blocks_(static_cast<size_t>(num_blocks) + 1, BlockMeta{.prev = num_blocks, .next = num_blocks}),
      flags_(static_cast<size_t>(num_blocks), 0) {}

size_t PrefixCache::probe(BlockHash hash) const {
  const size_t mask = slots_.size() - 1;
  const auto low = static_cast<uint32_t>(hash.value);
  for (size_t i = home(hash.value);; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s.block < 0) return i;
    if (s.hash_low == low && blocks_[static_cast<size_t>(s.block)].hash == hash.value) return i;
  }
}

std::optional<BlockId> PrefixCache::lookup(BlockHash hash) const {
  const Slot& s = slots_[probe(hash)];
  if (s.block < 0) return std::nullopt;
  return BlockId{s.block};
}

std::optional<BlockHash> PrefixCache::hash_of(BlockId block) const {
  const size_t i = static_cast<size_t>(block.value);
  if ((flags_[i] & kHashed) == 0) return std::nullopt;
  return BlockHash{blocks_[i].hash};
}

bool PrefixCache::insert(BlockHash hash, BlockId block) {
  const size_t b = static_cast<size_t>(block.value);
  if ((flags_[b] & kHashed) != 0) return false;
  Slot& s = slots_[probe(hash)];
  if (s.block >= 0) return false;
  flags_[b] |= kHashed;
  blocks_[b].hash = hash.value;
  s = {.hash_low = static_cast<uint32_t>(hash.value), .block = block.value};
  ++num_registered_;
  return true;
}

void PrefixCache::erase(BlockId block) {
  const size_t b = static_cast<size_t>(block.value);
  PPD_CHECK(flags_[b] == kHashed);
  // The block's own slot, found by id: no hash comparison.
  const size_t mask = slots_.size() - 1;
  size_t hole = home(blocks_[b].hash);
  while (slots_[hole].block != block.value) hole = (hole + 1) & mask;
  // Backward-shift deletion: later entries of the probe run move into the hole.
  for (size_t i = (hole + 1) & mask; slots_[i].block >= 0; i = (i + 1) & mask) {
    const size_t h = home(slots_[i].hash_low);
    if (((i - h) & mask) >= ((i - hole) & mask)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  flags_[b] = 0;
  --num_registered_;
}

void PrefixCache::push_evictable(BlockId block) {
  const size_t i = static_cast<size_t>(block.value);
  PPD_CHECK(flags_[i] == kHashed);
  const size_t sentinel = flags_.size();
  const size_t last = static_cast<size_t>(blocks_[sentinel].prev);
  blocks_[last].next = static_cast<int32_t>(i);
  blocks_[i].prev = static_cast<int32_t>(last);
  blocks_[i].next = static_cast<int32_t>(sentinel);
  blocks_[sentinel].prev = static_cast<int32_t>(i);
  flags_[i] |= kInLru;
  ++num_evictable_;
}

void PrefixCache::unlink(size_t i) {
  blocks_[static_cast<size_t>(blocks_[i].prev)].next = blocks_[i].next;
  blocks_[static_cast<size_t>(blocks_[i].next)].prev = blocks_[i].prev;
  flags_[i] &= static_cast<uint8_t>(~kInLru);
  --num_evictable_;
}

void PrefixCache::remove_evictable(BlockId block) {
  const size_t i = static_cast<size_t>(block.value);
  PPD_CHECK((flags_[i] & kInLru) != 0);
  unlink(i);
}

std::optional<BlockId> PrefixCache::pop_lru() {
  const size_t sentinel = flags_.size();
  const size_t first = static_cast<size_t>(blocks_[sentinel].next);
  if (first == sentinel) return std::nullopt;
  unlink(first);
  return BlockId{static_cast<int32_t>(first)};
}

Status PrefixCache::check_invariants() const {
  for (const Slot& s : slots_) {
    if (s.block < 0) continue;
    const std::optional<BlockHash> held = hash_of(BlockId{s.block});
    if (!held || static_cast<uint32_t>(held->value) != s.hash_low) {
      return internal_error("prefix cache: hash map and block {} disagree", s.block);
    }
    if (lookup(*held) != BlockId{s.block}) return internal_error("prefix cache: hash of block {} unreachable", s.block);
  }
  int registered = 0;
  for (const uint8_t f : flags_) registered += (f & kHashed) != 0 ? 1 : 0;
  if (registered != num_registered())
    return internal_error("prefix cache: {} blocks hashed, {} hashes", registered, num_registered());
  const size_t sentinel = flags_.size();
  int walked = 0;
  for (size_t i = static_cast<size_t>(blocks_[sentinel].next); i != sentinel;
       i = static_cast<size_t>(blocks_[i].next)) {
    if (flags_[i] != (kHashed | kInLru)) return internal_error("prefix cache: LRU holds block {} wrongly", i);
    if (static_cast<size_t>(blocks_[static_cast<size_t>(blocks_[i].next)].prev) != i) {
      return internal_error("prefix cache: LRU links broken at {}", i);
    }
    if (++walked > num_evictable_) return internal_error("prefix cache: LRU longer than its count");
  }
  if (walked != num_evictable_)
    return internal_error("prefix cache: LRU has {} blocks, count says {}", walked, num_evictable_);
  return Status::Ok();
}

}  // namespace ppd::kv
