#include "ppd/node/node_json.h"

#include <algorithm>

#include "ppd/common/json_excerpt.h"
#include "ppd/model/json_reader.h"

namespace ppd::node {
namespace {

Result<std::vector<TokenId>> read_token_ids(const nlohmann::json& object, std::string_view key,
                                            std::string_view prefix) {
  const auto it = object.find(key);
  if (it == object.end()) return invalid_argument("{}{}: missing", prefix, key);
  if (!it->is_array())
    return invalid_argument("{}{}: expected an array of integers; got {}", prefix, key, json_excerpt(*it));
  std::vector<TokenId> ids;
  ids.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& v = (*it)[i];
    if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) {
      return invalid_argument("{}{}[{}]: expected a 32-bit integer; got {}", prefix, key, i, json_excerpt(v));
    }
    ids.push_back(v.get<TokenId>());
  }
  return ids;
}

Result<request::SamplingParams> parse_sampling(const nlohmann::json& j) {
  request::SamplingParams p;
  if (j.is_null()) return p;
  if (!j.is_object()) return invalid_argument("sampling: expected an object; got {}", json_excerpt(j));
  PPD_RETURN_IF_ERROR(check_known_keys(
      j, {"temperature", "top_k", "top_p", "max_tokens", "min_tokens", "ignore_eos", "stop_token_ids", "seed"},
      "sampling."));
  const model::JsonReader r(j, "sampling.");
  PPD_ASSIGN_OR_RETURN(const auto temperature, r.optional_number("temperature"));
  PPD_ASSIGN_OR_RETURN(const auto top_k, r.optional_int_in("top_k", -1, INT32_MAX));
  PPD_ASSIGN_OR_RETURN(const auto top_p, r.optional_number("top_p"));
  PPD_ASSIGN_OR_RETURN(p.max_tokens, r.optional_int_in("max_tokens", INT32_MIN, INT32_MAX));
  PPD_ASSIGN_OR_RETURN(const auto min_tokens, r.optional_int_in("min_tokens", INT32_MIN, INT32_MAX));
  PPD_ASSIGN_OR_RETURN(const auto ignore_eos, r.optional_bool("ignore_eos"));
  p.temperature = temperature.value_or(p.temperature);
  p.top_k = top_k.value_or(p.top_k);
  p.top_p = top_p.value_or(p.top_p);
  p.min_tokens = min_tokens.value_or(0);
  p.ignore_eos = ignore_eos.value_or(false);
  if (r.has("seed")) {
    if (!j["seed"].is_number_unsigned()) {
      return invalid_argument("sampling.seed: expected an unsigned 64-bit integer; got {}", json_excerpt(j["seed"]));
    }
    p.seed = j["seed"].get<uint64_t>();
  }
  if (r.has("stop_token_ids")) {
    PPD_ASSIGN_OR_RETURN(p.stop_token_ids, read_token_ids(j, "stop_token_ids", "sampling."));
  }
  return p;
}

Result<sched::ImportMode> parse_mode(const nlohmann::json& object) {
  const auto it = object.find("transfer");
  if (it == object.end() || it->is_null()) return sched::ImportMode::kDelta;
  const std::string* transfer = it->get_ptr<const std::string*>();
  if (transfer != nullptr && *transfer == "delta") return sched::ImportMode::kDelta;
  if (transfer != nullptr && *transfer == "full") return sched::ImportMode::kFull;
  return invalid_argument("transfer: must be \"delta\" or \"full\"; got {}", json_excerpt(*it));
}

}  // namespace

Status check_known_keys(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                        std::string_view prefix) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return invalid_argument("{}{}: unknown field; allowed: {}", prefix, key, names);
    }
  }
  return Status::Ok();
}

Result<NodeRequest> parse_node_request(std::string_view body, std::string_view kind) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json j, model::parse_json(body, "request body"));
  if (!j.is_object()) return invalid_argument("request body: expected a JSON object; got {}", json_excerpt(j));
  const bool decode = kind == "decode";
  PPD_RETURN_IF_ERROR(decode ? check_known_keys(j, {"request_id", "token_ids", "sampling", "handle", "transfer"}, "")
                             : check_known_keys(j, {"request_id", "token_ids", "sampling"}, ""));
  NodeRequest req;
  const model::JsonReader r(j, "");
  PPD_ASSIGN_OR_RETURN(const auto request_id, r.optional_string("request_id"));
  req.request_id = request_id.value_or("");
  PPD_ASSIGN_OR_RETURN(req.token_ids, read_token_ids(j, "token_ids", ""));
  PPD_ASSIGN_OR_RETURN(req.sampling, parse_sampling(j.value("sampling", nlohmann::json())));
  if (decode) {
    if (!j.contains("handle")) return invalid_argument("handle: missing");
    PPD_ASSIGN_OR_RETURN(req.handle, kv_handle_from_json(j["handle"]));
    PPD_ASSIGN_OR_RETURN(req.mode, parse_mode(j));
  }
  return req;
}

nlohmann::json output_json(const engine::RequestOutput& out, int index) {
  nlohmann::json j = {{"token", out.token}, {"index", index}};
  if (out.finish_reason != sched::FinishReason::kNone) {
    j["finish_reason"] = engine::finish_reason_name(out.finish_reason);
    j["num_prompt_tokens"] = out.num_prompt_tokens;
    j["num_cached_tokens"] = out.num_cached_tokens;
    j["num_output_tokens"] = out.num_output_tokens;
  }
  return j;
}

}  // namespace ppd::node
