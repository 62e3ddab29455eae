// Internal to ppd_workload: what the trace readers share: option checks, line splitting, JSON
// error text and the final scaling / truncation step. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/common/json_excerpt.h"
#include "ppd/common/status.h"
#include "ppd/workload/traces.h"
#include "ppd/workload/workload.h"

namespace ppd::workload::internal {

struct Line {
  int64_t number = 0;     // 1-based
  std::string_view text;  // without the line break and a trailing '\r'
};

// The text's non-blank lines, numbered from 1 counting blank ones.
std::vector<Line> split_lines(std::string_view text);

// Checks the options every reader uses (not min_turns / max_turns, which only Azure uses).
Status check_trace_options(const TraceOptions& o);

// Reads `path` whole; an error reads "<kind> <path>: cannot open: ...".
Result<std::string> read_trace_file(std::string_view kind, const std::string& path);

// The parser's message without nlohmann's "[json.exception.parse_error.101] " tag.
std::string_view json_error_reason(const nlohmann::json::exception& e);

// Applies length_scale and time_scale to every count and time, then keeps the first
// max_conversations conversations (> 0). Mutates *w.
void finish_trace(const TraceOptions& o, Workload* w);

}  // namespace ppd::workload::internal
