// json_excerpt: a JSON value as it should appear after "got " in an error message.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace ppd {

// The value as compact JSON (invalid UTF-8 replaced), cut at a UTF-8 boundary to about
// `max_chars` characters plus "...". A huge or deeply nested value costs (and recurses) no
// more than the excerpt shows: nesting 100,000 deep makes "[[[...", not a stack overflow.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 60);

}  // namespace ppd
