// Chained block hashes: the identity of a full block of tokens *and* of everything before it.
// h_0 = XXH3_64(tokens of block 0, seed = model identity); h_i = XXH3_64(tokens of block i,
// seed = h_{i-1}). Tokens are hashed as little-endian int32. Defined once here and used by
// every node, the router and the simulator. Pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ppd/common/ids.h"

namespace ppd::kv {

// Hash of one block given its parent's hash (or the model identity for the first block).
BlockHash hash_block(uint64_t parent, std::span<const TokenId> block_tokens);

// Hashes of every *full* block of `tokens` (a trailing partial block has none).
// REQUIRES: block_size > 0.
std::vector<BlockHash> hash_full_blocks(uint64_t model_identity, std::span<const TokenId> tokens, int block_size);

// Extends `hashes` (the hashes of the first hashes->size() full blocks of `tokens`) to cover
// every full block of `tokens`. Mutates `hashes`.
void extend_block_hashes(uint64_t model_identity, std::span<const TokenId> tokens, int block_size,
                         std::vector<BlockHash>* hashes);

}  // namespace ppd::kv
