// The Azure trace reader: strict CSV and timestamp parsing, then grouping of consecutive rows
// into conversations of seeded lengths (see traces.h).
#include <algorithm>
#include <charconv>
#include <string_view>

#include "ppd/workload/option_checks.h"
#include "ppd/workload/rng.h"
#include "ppd/workload/trace_common.h"
#include "ppd/workload/traces.h"

namespace ppd::workload {
namespace {

constexpr std::string_view kHeader = "TIMESTAMP,ContextTokens,GeneratedTokens";
constexpr uint64_t kTurnsStream = 0x5455524e;  // "TURN"

struct Row {
  int64_t time_ns = 0;  // since 1970-01-01 00:00:00 of the trace's (unstated) zone
  int64_t context_tokens = 0;
  int64_t generated_tokens = 0;
};

// Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t days_in_month(int64_t y, int64_t m) {
  constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// The n decimal digits of s at pos, or -1 when any is missing or not a digit.
int64_t digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// "YYYY-MM-DD hh:mm:ss[.f]" with 1 to 9 fractional digits, as nanoseconds since 1970.
Result<int64_t> parse_timestamp(std::string_view s) {
  const auto fail = [&] {
    return invalid_argument("TIMESTAMP: must be \"YYYY-MM-DD hh:mm:ss[.fraction]\"; got \"{}\"", s);
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return fail();
  const int64_t y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int64_t h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  // Nanoseconds since 1970 fit in int64 until 2262.
  if (y < 1970 || y > 2200) return invalid_argument("TIMESTAMP: the year must be in [1970, 2200]; got \"{}\"", s);
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return fail();
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return fail();
  int64_t fraction_ns = 0;
  if (s.size() > 19) {
    const size_t n = s.size() - 20;
    if (s[19] != '.' || n < 1 || n > 9) return fail();
    fraction_ns = digits(s, 20, n);
    if (fraction_ns < 0) return fail();
    for (size_t i = n; i < 9; ++i) fraction_ns *= 10;
  }
  const int64_t seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return seconds * 1'000'000'000 + fraction_ns;
}

Result<int64_t> parse_count(std::string_view column, std::string_view text, int64_t min) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min) {
    return invalid_argument("{}: must be an integer >= {}; got \"{}\"", column, min, text);
  }
  return v;
}

Result<Row> parse_row(std::string_view text) {
  std::vector<std::string_view> columns;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    columns.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (columns.size() != 3) return invalid_argument("expected 3 columns ({}); got {}", kHeader, columns.size());
  Row row;
  PPD_ASSIGN_OR_RETURN(row.time_ns, parse_timestamp(columns[0]));
  PPD_ASSIGN_OR_RETURN(row.context_tokens, parse_count("ContextTokens", columns[1], 1));
  PPD_ASSIGN_OR_RETURN(row.generated_tokens, parse_count("GeneratedTokens", columns[2], 0));
  return row;
}

Result<std::vector<Row>> parse_rows(const std::string& path, std::string_view text) {
  const std::vector<internal::Line> lines = internal::split_lines(text);
  if (lines.empty()) return invalid_argument("azure trace {}: must hold a header and at least one row; got none", path);
  if (lines[0].text != kHeader) {
    return invalid_argument("azure trace {}: line {}: header: must be \"{}\"; got \"{}\"", path, lines[0].number,
                            kHeader, lines[0].text);
  }
  std::vector<Row> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    Result<Row> row = parse_row(lines[i].text);
    if (row.ok() && !rows.empty() && row->time_ns < rows.back().time_ns) {
      row = invalid_argument("TIMESTAMP: must not precede the previous row's; got \"{}\"",
                             lines[i].text.substr(0, lines[i].text.find(',')));
    }
    if (!row.ok()) return row.status().with_context(fmt::format("azure trace {}: line {}", path, lines[i].number));
    rows.push_back(row.value());
  }
  if (rows.empty()) return invalid_argument("azure trace {}: must hold at least one row; got none", path);
  return rows;
}

Workload group_rows(const std::vector<Row>& rows, const TraceOptions& o) {
  Workload w{.name = "azure", .conversations = {}};
  for (size_t next = 0; next < rows.size();) {
    const auto id = static_cast<int64_t>(w.conversations.size());
    const int64_t k =
        Rng::for_stream(o.seed, kTurnsStream, static_cast<uint64_t>(id)).uniform_int(o.min_turns, o.max_turns);
    const size_t end = std::min(rows.size(), next + static_cast<size_t>(k));
    Conversation c;
    c.id = id;
    c.arrival_s = static_cast<double>(rows[next].time_ns - rows[0].time_ns) / 1e9;
    for (size_t i = next; i < end; ++i) {
      Turn t;
      t.user_tokens = rows[i].context_tokens;
      t.output_tokens = std::max<int64_t>(rows[i].generated_tokens, 1);
      t.offset_s = static_cast<double>(rows[i].time_ns - rows[next].time_ns) / 1e9;
      c.turns.push_back(std::move(t));
    }
    w.conversations.push_back(std::move(c));
    next = end;
  }
  return w;
}

}  // namespace

Result<Workload> read_azure_trace(const std::string& path, const TraceOptions& o) {
  PPD_RETURN_IF_ERROR(internal::check_trace_options(o));
  PPD_RETURN_IF_ERROR(internal::check_turn_range(o.min_turns, o.max_turns));
  PPD_ASSIGN_OR_RETURN(const std::string text, internal::read_trace_file("azure trace", path));
  PPD_ASSIGN_OR_RETURN(const std::vector<Row> rows, parse_rows(path, text));
  Workload w = group_rows(rows, o);
  internal::finish_trace(o, &w);
  return w;
}

}  // namespace ppd::workload
