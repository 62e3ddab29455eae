#include "ppd/kv/block_hash.h"

#include <xxhash.h>

namespace ppd::kv {

static_assert(sizeof(TokenId) == 4, "block hashes are defined over 32-bit token ids");

BlockHash hash_block(uint64_t parent, std::span<const TokenId> block_tokens) {
  return BlockHash{XXH3_64bits_withSeed(block_tokens.data(), block_tokens.size_bytes(), parent)};
}

std::vector<BlockHash> hash_full_blocks(uint64_t model_identity, std::span<const TokenId> tokens, int block_size) {
  std::vector<BlockHash> hashes;
  extend_block_hashes(model_identity, tokens, block_size, &hashes);
  return hashes;
}

void extend_block_hashes(uint64_t model_identity, std::span<const TokenId> tokens, int block_size,
                         std::vector<BlockHash>* hashes) {
  const size_t num_full = tokens.size() / static_cast<size_t>(block_size);
  uint64_t parent = hashes->empty() ? model_identity : hashes->back().value;
  for (size_t i = hashes->size(); i < num_full; ++i) {
    const BlockHash h = hash_block(parent, tokens.subspan(i * block_size, block_size));
    hashes->push_back(h);
    parent = h.value;
  }
}

}  // namespace ppd::kv
