// json_excerpt: a JSON value as it should appear after "got " in an error message.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ppd {

// The value as compact JSON (invalid UTF-8 replaced), cut to 60 characters plus "...".
std::string json_excerpt(const nlohmann::json& value);

}  // namespace ppd
