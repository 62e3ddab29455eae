#include "ppd/stats/request_record.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace ppd::stats {
namespace {

constexpr std::array<std::string_view, 11> kFields = {
    "conversation_id", "turn",          "ok",           "error", "send_s", "first_token_s", "end_s", "token_times_s",
    "prompt_tokens",   "output_tokens", "cached_tokens"};

// The value as compact JSON, cut to a readable length for error messages.
std::string excerpt(const nlohmann::json& v) {
  std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

Result<const nlohmann::json*> find_field(const nlohmann::json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end()) return invalid_argument("{}: missing", key);
  return &*it;
}

Status check_known_keys(const nlohmann::json& j) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) != kFields.end()) continue;
    std::string names;
    for (std::string_view f : kFields) names += (names.empty() ? "" : ", ") + std::string(f);
    return invalid_argument("{}: unknown field; allowed: {}", key, names);
  }
  return Status::Ok();
}

Status read_int(const nlohmann::json& j, std::string_view key, int64_t min_value, int64_t* out) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json* v, find_field(j, key));
  const bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX};
  if (!v->is_number_integer() || too_big) {
    return invalid_argument("{}: expected an integer; got {}", key, excerpt(*v));
  }
  const auto value = v->get<int64_t>();
  if (value < min_value) return invalid_argument("{}: must be >= {}; got {}", key, min_value, value);
  *out = value;
  return Status::Ok();
}

Status read_number(const nlohmann::json& j, std::string_view key, double* out) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json* v, find_field(j, key));
  if (!v->is_number()) return invalid_argument("{}: expected a number; got {}", key, excerpt(*v));
  *out = v->get<double>();
  return Status::Ok();
}

Status read_numbers(const nlohmann::json& j, std::string_view key, std::vector<double>* out) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json* v, find_field(j, key));
  if (!v->is_array()) return invalid_argument("{}: expected an array of numbers; got {}", key, excerpt(*v));
  out->clear();
  out->reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& item = (*v)[i];
    if (!item.is_number()) return invalid_argument("{}[{}]: expected a number; got {}", key, i, excerpt(item));
    out->push_back(item.get<double>());
  }
  return Status::Ok();
}

Status read_ok_and_error(const nlohmann::json& j, RequestRecord* r) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json* ok, find_field(j, "ok"));
  if (!ok->is_boolean()) return invalid_argument("ok: expected a boolean; got {}", excerpt(*ok));
  PPD_ASSIGN_OR_RETURN(const nlohmann::json* error, find_field(j, "error"));
  if (!error->is_string()) return invalid_argument("error: expected a string; got {}", excerpt(*error));
  r->ok = ok->get<bool>();
  r->error = error->get<std::string>();
  return Status::Ok();
}

Status read_turn(const nlohmann::json& j, int* out) {
  int64_t turn = 0;
  PPD_RETURN_IF_ERROR(read_int(j, "turn", 1, &turn));
  if (turn > std::numeric_limits<int>::max()) {
    return invalid_argument("turn: must be <= {}; got {}", std::numeric_limits<int>::max(), turn);
  }
  *out = static_cast<int>(turn);
  return Status::Ok();
}

}  // namespace

nlohmann::json to_json(const RequestRecord& r) {
  return nlohmann::json{{"conversation_id", r.conversation_id},
                        {"turn", r.turn},
                        {"ok", r.ok},
                        {"error", r.error},
                        {"send_s", r.send_s},
                        {"first_token_s", r.first_token_s},
                        {"end_s", r.end_s},
                        {"token_times_s", r.token_times_s},
                        {"prompt_tokens", r.prompt_tokens},
                        {"output_tokens", r.output_tokens},
                        {"cached_tokens", r.cached_tokens}};
}

Result<RequestRecord> record_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid_argument("record: expected a JSON object; got {}", excerpt(j));
  PPD_RETURN_IF_ERROR(check_known_keys(j));
  RequestRecord r;
  PPD_RETURN_IF_ERROR(read_int(j, "conversation_id", INT64_MIN, &r.conversation_id));
  PPD_RETURN_IF_ERROR(read_turn(j, &r.turn));
  PPD_RETURN_IF_ERROR(read_ok_and_error(j, &r));
  PPD_RETURN_IF_ERROR(read_number(j, "send_s", &r.send_s));
  PPD_RETURN_IF_ERROR(read_number(j, "first_token_s", &r.first_token_s));
  PPD_RETURN_IF_ERROR(read_number(j, "end_s", &r.end_s));
  PPD_RETURN_IF_ERROR(read_numbers(j, "token_times_s", &r.token_times_s));
  PPD_RETURN_IF_ERROR(read_int(j, "prompt_tokens", 0, &r.prompt_tokens));
  PPD_RETURN_IF_ERROR(read_int(j, "output_tokens", 0, &r.output_tokens));
  PPD_RETURN_IF_ERROR(read_int(j, "cached_tokens", 0, &r.cached_tokens));
  return r;
}

}  // namespace ppd::stats
