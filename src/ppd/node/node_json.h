// JSON of the node's internal API: requests in (token ids, sampling parameters, handles),
// outputs and errors out. Parsing is strict: an unknown key, a missing field or a wrong
// type is INVALID_ARGUMENT naming the field ("sampling.top_p: expected a number; got "x"").
// Pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/engine/engine.h"
#include "ppd/node/kv_handle.h"

namespace ppd::node {

// A request as the internal API carries it: `generate`, `prefill` and (with a handle)
// `decode` share it.
struct NodeRequest {
  std::string request_id;  // the caller's id, for logs (router → P → D); may be empty
  std::vector<TokenId> token_ids;
  request::SamplingParams sampling;
  std::optional<KvHandle> handle;                      // decode only
  sched::ImportMode mode = sched::ImportMode::kDelta;  // decode only: "transfer": "delta" | "full"
};

// Parses a request body. `kind` ("generate", "prefill", "decode") decides which keys are allowed.
Result<NodeRequest> parse_node_request(std::string_view body, std::string_view kind);

// INVALID_ARGUMENT unless every key of `object` is in `allowed`; names the first unknown one.
Status check_known_keys(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                        std::string_view prefix);

// {"token": 42, "index": 3} plus "finish_reason", "num_prompt_tokens", "num_cached_tokens"
// and "num_output_tokens" on the last output.
nlohmann::json output_json(const engine::RequestOutput& out, int index);

}  // namespace ppd::node
