#include "ppd/tokenizer/json_fields.h"

#include <nlohmann/json.hpp>

namespace ppd::tokenizer {
namespace {

constexpr size_t kMaxDescribedChars = 40;

// Returns obj[key], or null when absent or null.
const Json* find_field(const Json& obj, std::string_view key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status wrong_type(std::string_view path, std::string_view key, std::string_view rule, const Json& value) {
  return invalid_argument("{}: must be {}; got {}", field_path(path, key), rule, describe_json(value));
}

Status missing(std::string_view path, std::string_view key) {
  return invalid_argument("{}: missing", field_path(path, key));
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view file_name) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    std::string_view what = e.what();
    const size_t bracket_end = what.find("] ");  // drop "[json.exception.parse_error.101] "
    if (what.starts_with('[') && bracket_end != std::string_view::npos) {
      what.remove_prefix(bracket_end + 2);
    }
    return invalid_argument("{}: malformed JSON: {}", file_name, what);
  }
}

std::string field_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string index_path(std::string_view path, size_t index) { return fmt::format("{}[{}]", path, index); }

std::string describe_json(const Json& value) {
  if (value.is_array()) return "[...]";
  if (value.is_object()) return "{...}";
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxDescribedChars) text = text.substr(0, kMaxDescribedChars) + "...";
  return text;
}

Status require_object(const Json& value, std::string_view path) {
  if (value.is_object()) return Status::Ok();
  return invalid_argument("{}: must be an object; got {}", path.empty() ? "(root)" : path, describe_json(value));
}

Result<std::string> get_string(const Json& obj, std::string_view key, std::string_view path,
                               std::optional<std::string> fallback) {
  const Json* value = find_field(obj, key);
  if (value == nullptr) {
    if (fallback) return *std::move(fallback);
    return missing(path, key);
  }
  if (!value->is_string()) return wrong_type(path, key, "a string", *value);
  return value->get<std::string>();
}

Result<bool> get_bool(const Json& obj, std::string_view key, std::string_view path, std::optional<bool> fallback) {
  const Json* value = find_field(obj, key);
  if (value == nullptr) {
    if (fallback) return *fallback;
    return missing(path, key);
  }
  if (!value->is_boolean()) return wrong_type(path, key, "a boolean", *value);
  return value->get<bool>();
}

Result<int64_t> get_int(const Json& obj, std::string_view key, std::string_view path, std::optional<int64_t> fallback) {
  const Json* value = find_field(obj, key);
  if (value == nullptr) {
    if (fallback) return *fallback;
    return missing(path, key);
  }
  if (!value->is_number_integer()) return wrong_type(path, key, "an integer", *value);
  return value->get<int64_t>();
}

Result<const Json*> get_array(const Json& obj, std::string_view key, std::string_view path) {
  const Json* value = find_field(obj, key);
  if (value == nullptr) return missing(path, key);
  if (!value->is_array()) return wrong_type(path, key, "an array", *value);
  return value;
}

Result<std::string> get_type(const Json& obj, std::string_view path) { return get_string(obj, "type", path); }

Status unknown_type(std::string_view path, std::string_view type, std::string_view supported) {
  return invalid_argument("{}: unknown \"{}\"; supported: {}", field_path(path, "type"), type, supported);
}

}  // namespace ppd::tokenizer
