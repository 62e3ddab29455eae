#include "ppd/model/json_reader.h"

#include "ppd/common/json_limits.h"

namespace ppd::model {

using nlohmann::json;

Result<json> parse_json(std::string_view text, std::string_view source) {
  if (json_nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return invalid_argument("{}: JSON nested deeper than {} levels", source, kMaxJsonDepth);
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    std::string_view reason = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (const size_t end = reason.find("] "); end != std::string_view::npos) {
      reason.remove_prefix(end + 2);
    }
    return invalid_argument("{}: invalid JSON: {}", source, reason);
  }
}

JsonReader::JsonReader(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

const json* JsonReader::find(std::string_view key) const {
  const auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonReader::has(std::string_view key) const { return find(key) != nullptr; }

Status JsonReader::error(std::string_view key, std::string_view message) const {
  return invalid_argument("{}{}: {}", prefix_, key, message);
}

Status JsonReader::type_error(std::string_view key, std::string_view expected) const {
  return error(key, fmt::format("expected {}; got {}", expected, json_excerpt(*find(key))));
}

Result<std::optional<int64_t>> JsonReader::optional_int(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return std::optional<int64_t>();
  if (value->is_number_integer() && !value->is_number_unsigned()) {
    return std::optional<int64_t>(value->get<int64_t>());
  }
  if (value->is_number_unsigned()) {
    const uint64_t u = value->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return std::optional<int64_t>(static_cast<int64_t>(u));
    return error(key, fmt::format("integer {} is too large", u));
  }
  return type_error(key, "an integer");
}

Result<int64_t> JsonReader::required_int(std::string_view key) const {
  if (!has(key)) return error(key, "missing");
  PPD_ASSIGN_OR_RETURN(std::optional<int64_t> value, optional_int(key));
  return *value;
}

Result<std::optional<int>> JsonReader::optional_int_in(std::string_view key, int64_t min, int64_t max) const {
  PPD_ASSIGN_OR_RETURN(std::optional<int64_t> value, optional_int(key));
  if (!value) return std::optional<int>();
  max = std::min<int64_t>(max, INT32_MAX);
  if (*value < min || *value > max) {
    return error(key, fmt::format("must be in [{}, {}]; got {}", min, max, *value));
  }
  return std::optional<int>(static_cast<int>(*value));
}

Result<int> JsonReader::required_int_in(std::string_view key, int64_t min, int64_t max) const {
  if (!has(key)) return error(key, "missing");
  PPD_ASSIGN_OR_RETURN(std::optional<int> value, optional_int_in(key, min, max));
  return *value;
}

Result<std::optional<double>> JsonReader::optional_number(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return std::optional<double>();
  if (!value->is_number()) return type_error(key, "a number");
  return std::optional<double>(value->get<double>());
}

Result<double> JsonReader::required_number(std::string_view key) const {
  if (!has(key)) return error(key, "missing");
  PPD_ASSIGN_OR_RETURN(std::optional<double> value, optional_number(key));
  return *value;
}

Result<std::optional<bool>> JsonReader::optional_bool(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) return type_error(key, "a boolean");
  return std::optional<bool>(value->get<bool>());
}

Result<std::optional<std::string>> JsonReader::optional_string(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return type_error(key, "a string");
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::string> JsonReader::required_string(std::string_view key) const {
  if (!has(key)) return error(key, "missing");
  PPD_ASSIGN_OR_RETURN(std::optional<std::string> value, optional_string(key));
  return *value;
}

}  // namespace ppd::model
