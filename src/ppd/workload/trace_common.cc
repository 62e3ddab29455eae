// Shared pieces of the trace readers.
#include "ppd/workload/trace_common.h"

#include "ppd/common/file.h"
#include "ppd/workload/option_checks.h"

namespace ppd::workload::internal {

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  int64_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    lines.push_back({number, line});
  }
  return lines;
}

Status check_trace_options(const TraceOptions& o) {
  PPD_RETURN_IF_ERROR(check_length_scale("length_scale", o.length_scale));
  PPD_RETURN_IF_ERROR(check_positive("time_scale", o.time_scale));
  PPD_RETURN_IF_ERROR(check_at_least("max_conversations", o.max_conversations, 0));
  return check_at_least("mooncake_block_tokens", o.mooncake_block_tokens, 1);
}

Result<std::string> read_trace_file(std::string_view kind, const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text.ok()) return Status(text.status().code(), fmt::format("{} {}", kind, text.status().message()));
  return text;
}

std::string_view json_error_reason(const nlohmann::json::exception& e) {
  std::string_view reason = e.what();
  if (const size_t end = reason.find("] "); end != std::string_view::npos) reason.remove_prefix(end + 2);
  return reason;
}

void finish_trace(const TraceOptions& o, Workload* w) {
  if (o.max_conversations > 0 && w->conversations.size() > static_cast<size_t>(o.max_conversations)) {
    w->conversations.resize(static_cast<size_t>(o.max_conversations));
  }
  for (Conversation& c : w->conversations) {
    c.arrival_s *= o.time_scale;
    for (Turn& t : c.turns) {
      t.user_tokens = scale_tokens(t.user_tokens, o.length_scale);
      t.output_tokens = scale_tokens(t.output_tokens, o.length_scale);
      t.offset_s *= o.time_scale;
    }
  }
}

}  // namespace ppd::workload::internal
