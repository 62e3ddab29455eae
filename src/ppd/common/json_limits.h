// json_limits: bounds on JSON read from the network, checked before parsing.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace ppd {

// The deepest nesting any request or report of ours needs is 5 (messages, content parts);
// 64 leaves room and keeps every walk of a parsed value shallow.
inline constexpr int kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in JSON text, counted in one pass without
// recursion (brackets inside strings do not count); stops at `limit + 1` once past `limit`.
// The text need not be valid JSON: the parser judges that. Pure.
int json_nesting_depth(std::string_view text, int limit);

// JSON from a peer (a node's answer or report): the parsed value, or a discarded one
// (`is_discarded()`) when the text is invalid or nested deeper than kMaxJsonDepth. Never throws.
nlohmann::json parse_peer_json(std::string_view text);

}  // namespace ppd
