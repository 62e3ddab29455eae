// The process's anonymous resident memory (RssAnon of /proc/self/status): heap and private
// mappings, not file mappings, so a mapped checkpoint does not count while it is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ppd {

// Bytes, or nullopt where /proc/self/status is unreadable or lacks the field.
std::optional<int64_t> resident_anon_bytes();

// RssAnon parsed out of a /proc/<pid>/status text ("RssAnon:\t 1234 kB"); nullopt if absent.
std::optional<int64_t> parse_rss_anon(std::string_view status_text);

}  // namespace ppd
