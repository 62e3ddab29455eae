// The PPD paper's lookup-table policy (the `table` baseline), as the authors' public code
// implements it: turn 1 always remote; for turn 2+, the context class of n_ctx (small
// <= 512, large <= 4096, huge above, which reuses large's cells), one of nine input/output
// classes from n_in and n_out, and the nearest request-rate point select a cell that says
// local or remote; a missing cell means local. Optional short-input bypass: n_in below a
// threshold goes local without the table. Pure once loaded; route() is thread-safe.
//
// Table file (JSON, strict: unknown keys, wrong types, unknown names and duplicates fail):
//   {"rate_points": [0.5, 1, ...],          optional, ascending; default kPaperRatePoints
//    "weights": {"ttft": 1.0, "tpot": 1.0},  optional, >= 0; for measured cells
//    "cells": [{"context": "small"|"large", "io": "tiny"|...|"huge_paste", "rate": 4,
//               "local": true}, ...]}        rate must be one of rate_points
// Instead of "local", a cell may carry the turn-2 averages of always-remote (x=0) and
// always-local (x=1): "ttft_remote_s", "ttft_local_s", "tpot_remote_s", "tpot_local_s";
// it goes local iff w_ttft·(TTFT0 − TTFT1)/TTFT0 − w_tpot·(TPOT1 − TPOT0)/TPOT0 > 0.
// "remote_failed": true (x=0 had no successful request) makes a cell local.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/routing/policy.h"

namespace ppd::routing {

enum class ContextClass { kSmall, kLarge, kHuge };
enum class IoClass { kTiny, kShortGen, kLongGen, kVeryLongGen, kSmallBal, kMidBal, kMidPaste, kBigPaste, kHugePaste };
std::string_view context_class_name(ContextClass c);  // "small", "large", "huge"
std::string_view io_class_name(IoClass c);            // "tiny", "short_gen", ..., "huge_paste"

// Pure classifiers, exactly the paper's boundaries.
ContextClass classify_context(int num_history_tokens);
IoClass classify_io(int num_new_tokens, int max_tokens);

// The paper's rate points, requests/s.
inline constexpr std::array<double, 10> kPaperRatePoints = {0.5, 1, 2, 4, 6, 8, 10, 12, 16, 20};
// The point nearest `rate` among `points`: ties go up; clamped to the range (NaN: the first).
// REQUIRES: points non-empty and ascending.
double nearest_rate_point(double rate, const std::vector<double>& points);

struct TablePolicyOptions {
  std::optional<int> short_input_bypass_tokens;  // n_in below this -> local; off by default
  TransferMode transfer = TransferMode::kDelta;  // for the remote path
};

// One cell's coordinates; huge context is stored as kLarge.
struct TableCellKey {
  ContextClass context = ContextClass::kSmall;
  IoClass io = IoClass::kTiny;
  double rate_point = 0;  // one of LookupTable::rate_points
  friend bool operator<(const TableCellKey& a, const TableCellKey& b) {
    return std::tie(a.context, a.io, a.rate_point) < std::tie(b.context, b.io, b.rate_point);
  }
};

struct LookupTable {
  std::vector<double> rate_points;     // ascending, non-empty
  std::map<TableCellKey, bool> cells;  // -> go local
};

// Parses the table JSON; INVALID_ARGUMENT naming `source` and the JSON path
// ("table.json: cells[3].io: unknown \"foo\"; supported: tiny, ...").
Result<LookupTable> parse_lookup_table(std::string_view json_text, std::string_view source);
// Reads and parses the file at `path`; NOT_FOUND naming the path when it cannot be opened.
Result<LookupTable> load_lookup_table(const std::string& path);

// Reasons: "turn1" (remote), "short_input" (local), "table"; "no_prefill" as every policy.
std::unique_ptr<RoutingPolicy> make_table_policy(LookupTable table, TablePolicyOptions options);

}  // namespace ppd::routing
