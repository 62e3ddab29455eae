// KvStorage: the memory of the block pool, laid out as KvLayout says (block-major: one
// block is one contiguous region across all layers). Export and import move one block's
// bytes; they are how KV travels between nodes. Owns its memory; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/kv/kv_layout.h"

namespace ppd::kv {

class KvStorage {
 public:
  // Reserves num_blocks * layout.block_bytes() zeroed bytes (committed as first written).
  KvStorage(const KvLayout& layout, int num_blocks);

  const KvLayout& layout() const { return layout_; }
  int num_blocks() const { return num_blocks_; }
  size_t block_bytes() const { return layout_.block_bytes(); }

  // [num_blocks][block_bytes] — the pool the kernels read and write.
  uint8_t* base() { return data_.get(); }
  const uint8_t* base() const { return data_.get(); }

  // The bytes of one block (valid until the block is written again). REQUIRES: valid id.
  std::span<const uint8_t> export_block(BlockId block) const;
  // Overwrites one block. INVALID_ARGUMENT when the size is not block_bytes().
  Status import_block(BlockId block, std::span<const uint8_t> bytes);
  // The writable bytes of one block, for a transfer to land in place. REQUIRES: valid id.
  std::span<uint8_t> block_memory(BlockId block);

 private:
  struct Free {
    void* mapping;
    size_t bytes;
    void operator()(uint8_t* p) const;
  };
  static std::unique_ptr<uint8_t[], Free> map_zeroed(size_t bytes);
  KvLayout layout_;
  int num_blocks_;
  std::unique_ptr<uint8_t[], Free> data_;
};

}  // namespace ppd::kv
