#include "ppd/common/process_memory.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace ppd {

std::optional<int64_t> parse_rss_anon(std::string_view status_text) {
  constexpr std::string_view kField = "RssAnon:";
  const size_t at = status_text.find(kField);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = status_text.substr(at + kField.size());
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  int64_t kib = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (error != std::errc() || std::string_view(end, rest.data() + rest.size()).substr(0, 3) != " kB") {
    return std::nullopt;
  }
  return kib * 1024;
}

std::optional<int64_t> resident_anon_bytes() {
  std::ifstream in("/proc/self/status");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_rss_anon(text.str());
}

}  // namespace ppd
