// JsonReader: strict, typed reads of one JSON object's fields for the model file parsers, with
// errors in the project's shape: "<prefix><key>: expected an integer; got "abc"". Absent and
// null fields read as std::nullopt from the optional_* calls. Borrows the object; read-only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ppd/common/json_excerpt.h"
#include "ppd/common/status.h"

namespace ppd::model {

// Parses `text` as JSON; errors read "<source>: invalid JSON: <reason>".
Result<nlohmann::json> parse_json(std::string_view text, std::string_view source);

class JsonReader {
 public:
  // `prefix` begins every error message, e.g. "config.json: " or "config.json: rope_scaling.".
  // REQUIRES: object.is_object(); `object` outlives the reader.
  JsonReader(const nlohmann::json& object, std::string prefix);

  bool has(std::string_view key) const;                    // present and not null
  const nlohmann::json* find(std::string_view key) const;  // nullptr when absent or null

  Result<int64_t> required_int(std::string_view key) const;
  Result<std::optional<int64_t>> optional_int(std::string_view key) const;
  // An integer in [min, max] that fits an int.
  Result<int> required_int_in(std::string_view key, int64_t min, int64_t max) const;
  Result<std::optional<int>> optional_int_in(std::string_view key, int64_t min, int64_t max) const;
  Result<double> required_number(std::string_view key) const;
  Result<std::optional<double>> optional_number(std::string_view key) const;
  Result<std::optional<bool>> optional_bool(std::string_view key) const;
  Result<std::string> required_string(std::string_view key) const;
  Result<std::optional<std::string>> optional_string(std::string_view key) const;

  // "<prefix><key>: <message>" as INVALID_ARGUMENT.
  Status error(std::string_view key, std::string_view message) const;
  Status type_error(std::string_view key, std::string_view expected) const;
  const std::string& prefix() const { return prefix_; }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
};

}  // namespace ppd::model
