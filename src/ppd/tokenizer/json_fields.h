// Typed accessors for the JSON of tokenizer.json and tokenizer_config.json. Every error
// names the field's JSON path, the rule and the value, e.g.
// `model.byte_fallback: must be a boolean; got "yes"`. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "ppd/common/status.h"

namespace ppd::tokenizer {

using Json = nlohmann::json;

// How deeply Sequence steps may nest (real files use 1); bounds the parser's recursion.
inline constexpr int kMaxSequenceDepth = 8;

// Parses `text`; a syntax error is INVALID_ARGUMENT "<file_name>: malformed JSON: <where>".
Result<Json> parse_json(std::string_view text, std::string_view file_name);

// Returns "<path>.<key>", or "<key>" when `path` is empty.
std::string field_path(std::string_view path, std::string_view key);
// Returns "<path>[<index>]".
std::string index_path(std::string_view path, size_t index);

// Returns `value` abridged for an error message: JSON text of at most ~40 characters for a
// scalar, "[...]" or "{...}" for a container.
std::string describe_json(const Json& value);

// Returns OK when `value` is a JSON object, else an error naming `path`.
Status require_object(const Json& value, std::string_view path);

// Each getter returns obj[key] converted; `fallback` when the key is absent or null (an
// error when there is no fallback); an error naming the path when the type is wrong.
// REQUIRES: obj is an object.
Result<std::string> get_string(const Json& obj, std::string_view key, std::string_view path,
                               std::optional<std::string> fallback = std::nullopt);
Result<bool> get_bool(const Json& obj, std::string_view key, std::string_view path,
                      std::optional<bool> fallback = std::nullopt);
Result<int64_t> get_int(const Json& obj, std::string_view key, std::string_view path,
                        std::optional<int64_t> fallback = std::nullopt);

// Returns obj[key], which must be an array.
Result<const Json*> get_array(const Json& obj, std::string_view key, std::string_view path);

// Returns the object's "type" string. REQUIRES: obj is an object.
Result<std::string> get_type(const Json& obj, std::string_view path);

// Returns `<path>.type: unknown "<type>"; supported: <supported>`.
Status unknown_type(std::string_view path, std::string_view type, std::string_view supported);

}  // namespace ppd::tokenizer
