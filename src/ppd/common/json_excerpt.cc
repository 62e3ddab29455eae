#include "ppd/common/json_excerpt.h"

namespace ppd {
namespace {

using json = nlohmann::json;

// Compact JSON; invalid UTF-8 (streamed text may end inside a sequence) is replaced, not thrown.
std::string dump_lenient(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Appends compact JSON for `value` to `out`, stopping soon after `out` passes `limit` chars:
// each level appends a bracket before it descends, so the recursion is at most `limit` deep.
void append_excerpt(const json& value, std::string& out, size_t limit) {
  if (!value.is_structured()) return void(out += dump_lenient(value));
  out += value.is_array() ? '[' : '{';
  for (auto it = value.begin(); it != value.end() && out.size() <= limit; ++it) {
    if (it != value.begin()) out += ',';
    if (value.is_object()) out += dump_lenient(json(it.key())) + ':';
    append_excerpt(*it, out, limit);
  }
  out += value.is_array() ? ']' : '}';
}

}  // namespace

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  std::string out;
  append_excerpt(value, out, max_chars);
  if (out.size() <= max_chars) return out;
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "...";
}

}  // namespace ppd
