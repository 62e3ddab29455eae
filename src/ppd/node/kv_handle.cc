#include "ppd/node/kv_handle.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ppd/common/json_excerpt.h"
#include "ppd/model/json_reader.h"
#include "ppd/node/node_json.h"

namespace ppd::node {
namespace {

Result<std::vector<uint64_t>> read_u64_array(const nlohmann::json& j, std::string_view key, bool hex) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return invalid_argument("handle.{}: expected an array", key);
  std::vector<uint64_t> values;
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& v = (*it)[i];
    if (hex) {
      const std::string* s = v.get_ptr<const std::string*>();
      char* end = nullptr;
      const uint64_t x = s != nullptr && s->size() == 16 ? std::strtoull(s->c_str(), &end, 16) : 0;
      if (end == nullptr || *end != '\0') {
        return invalid_argument("handle.{}[{}]: expected 16 hex digits; got {}", key, i, json_excerpt(v));
      }
      values.push_back(x);
    } else {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return invalid_argument("handle.{}[{}]: expected a non-negative integer; got {}", key, i, json_excerpt(v));
      }
      values.push_back(v.get<uint64_t>());
    }
  }
  return values;
}

}  // namespace

nlohmann::json to_json(const KvHandle& h) {
  nlohmann::json ids = nlohmann::json::array();
  for (BlockId b : h.block_ids) ids.push_back(b.value);
  nlohmann::json hashes = nlohmann::json::array();
  for (BlockHash x : h.block_hashes) hashes.push_back(fmt::format("{:016x}", x.value));
  return {{"node", h.node},
          {"kv_address", h.kv_address},
          {"handle", h.handle},
          {"num_prompt_tokens", h.num_prompt_tokens},
          {"block_size", h.block_size},
          {"num_cached_tokens", h.num_cached_tokens},
          {"block_ids", ids},
          {"block_hashes", hashes},
          {"first_token", h.first_token},
          {"sampling_seed", h.sampling_seed}};
}

Result<KvHandle> kv_handle_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid_argument("handle: expected an object; got {}", json_excerpt(j));
  PPD_RETURN_IF_ERROR(
      check_known_keys(j,
                       {"node", "kv_address", "handle", "num_prompt_tokens", "block_size", "num_cached_tokens",
                        "block_ids", "block_hashes", "first_token", "sampling_seed"},
                       "handle."));
  const model::JsonReader r(j, "handle.");
  KvHandle h;
  PPD_ASSIGN_OR_RETURN(h.node, r.required_string("node"));
  PPD_ASSIGN_OR_RETURN(h.kv_address, r.required_string("kv_address"));
  const nlohmann::json& handle = j.contains("handle") ? j["handle"] : nlohmann::json();
  if (!handle.is_number_unsigned()) {
    return invalid_argument("handle.handle: expected an unsigned 64-bit integer; got {}", json_excerpt(handle));
  }
  h.handle = handle.get<uint64_t>();
  PPD_ASSIGN_OR_RETURN(h.num_prompt_tokens, r.required_int_in("num_prompt_tokens", 1, INT32_MAX));
  PPD_ASSIGN_OR_RETURN(h.block_size, r.required_int_in("block_size", 1, 256));
  PPD_ASSIGN_OR_RETURN(h.num_cached_tokens, r.required_int_in("num_cached_tokens", 0, INT32_MAX));
  PPD_ASSIGN_OR_RETURN(h.first_token, r.required_int_in("first_token", 0, INT32_MAX));
  const nlohmann::json& seed = j.contains("sampling_seed") ? j["sampling_seed"] : nlohmann::json();
  if (!seed.is_number_unsigned()) {
    return invalid_argument("handle.sampling_seed: expected an unsigned 64-bit integer; got {}", json_excerpt(seed));
  }
  h.sampling_seed = seed.get<uint64_t>();
  PPD_ASSIGN_OR_RETURN(const std::vector<uint64_t> ids, read_u64_array(j, "block_ids", false));
  PPD_ASSIGN_OR_RETURN(const std::vector<uint64_t> hashes, read_u64_array(j, "block_hashes", true));
  for (uint64_t b : ids) h.block_ids.push_back(BlockId{static_cast<int32_t>(b)});
  for (uint64_t x : hashes) h.block_hashes.push_back(BlockHash{x});
  const int64_t expected_blocks = (h.num_prompt_tokens + h.block_size - 1) / h.block_size;
  if (std::ssize(h.block_ids) != expected_blocks || std::ssize(h.block_hashes) != h.num_prompt_tokens / h.block_size) {
    return invalid_argument("handle: {} block ids and {} hashes do not cover {} tokens in blocks of {}",
                            h.block_ids.size(), h.block_hashes.size(), h.num_prompt_tokens, h.block_size);
  }
  return h;
}

}  // namespace ppd::node
