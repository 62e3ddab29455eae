#include "ppd/kv/kv_storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "ppd/common/check.h"

namespace ppd::kv {

void KvStorage::Free::operator()(uint8_t*) const { ::munmap(mapping, bytes); }

// Anonymous pages: zeroed, and only committed once written. Huge pages (2 MiB aligned,
// madvise) matter: attention reads one 4 KiB slab per block and layer, blocks are far apart,
// and with 4 KiB pages every slab costs a TLB miss and a cold hardware prefetcher.
std::unique_ptr<uint8_t[], KvStorage::Free> KvStorage::map_zeroed(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t mapped = bytes + kHugePage;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + kHugePage - 1) / kHugePage * kHugePage;
  ::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
  return std::unique_ptr<uint8_t[], Free>(reinterpret_cast<uint8_t*>(aligned), Free{p, mapped});
}

KvStorage::KvStorage(const KvLayout& layout, int num_blocks)
    : layout_(layout),
      num_blocks_(num_blocks),
      data_(map_zeroed(layout.block_bytes() * static_cast<size_t>(std::max(num_blocks, 1)))) {
  PPD_CHECK(num_blocks >= 1 && layout.block_bytes() > 0);
}

std::span<const uint8_t> KvStorage::export_block(BlockId block) const {
  PPD_CHECK(block.value >= 0 && block.value < num_blocks_);
  const uint8_t* bytes = data_.get();
  return {bytes + block_bytes() * static_cast<size_t>(block.value), block_bytes()};
}

std::span<uint8_t> KvStorage::block_memory(BlockId block) {
  PPD_CHECK(block.value >= 0 && block.value < num_blocks_);
  uint8_t* bytes = data_.get();
  return {bytes + block_bytes() * static_cast<size_t>(block.value), block_bytes()};
}

Status KvStorage::import_block(BlockId block, std::span<const uint8_t> bytes) {
  PPD_CHECK(block.value >= 0 && block.value < num_blocks_);
  if (bytes.size() != block_bytes()) {
    return invalid_argument("kv block: must be {} bytes; got {}", block_bytes(), bytes.size());
  }
  uint8_t* dst = data_.get() + block_bytes() * static_cast<size_t>(block.value);
  std::memcpy(dst, bytes.data(), bytes.size());
  return Status::Ok();
}

}  // namespace ppd::kv
