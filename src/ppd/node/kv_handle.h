// KvHandle: what a prefill node returns for a prompt it computed and pinned, and what a
// decode node needs to pull that prompt's KV: where the blocks are (node, KV address,
// handle), what they hold (block hashes of the full blocks, prompt length, block size) and
// the first token with the seed that sampled it. Value type; JSON on the internal API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::node {

struct KvHandle {
  std::string node;        // the prefill node's name
  std::string kv_address;  // its KV transfer endpoint ("host:port")
  uint64_t handle = 0;     // pin id on that node
  int num_prompt_tokens = 0;
  int block_size = 0;
  int num_cached_tokens = 0;            // prompt tokens the prefill node found in its cache
  std::vector<BlockId> block_ids;       // on the prefill node, partial last block included
  std::vector<BlockHash> block_hashes;  // of the full prompt blocks
  TokenId first_token = -1;
  uint64_t sampling_seed = 0;

  int num_blocks() const { return static_cast<int>(block_ids.size()); }
};

nlohmann::json to_json(const KvHandle& handle);
// Strict: every field present with the right type; errors name the field ("handle.kv_address: ...").
Result<KvHandle> kv_handle_from_json(const nlohmann::json& j);

}  // namespace ppd::node
