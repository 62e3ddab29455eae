#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ppd/common/file.h"
#include "ppd/routing/policies.h"

#include "ppd/routing/policy_test_util.h"

namespace ppd::routing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace ::ppd::routing::testing;  // NOLINT: test helpers

TEST(TablePolicyTest, ContextClassBoundaries) {
  EXPECT_EQ(classify_context(0), ContextClass::kSmall);
  EXPECT_EQ(classify_context(512), ContextClass::kSmall);
  EXPECT_EQ(classify_context(513), ContextClass::kLarge);
  EXPECT_EQ(classify_context(4096), ContextClass::kLarge);
  EXPECT_EQ(classify_context(4097), ContextClass::kHuge);
  EXPECT_EQ(context_class_name(ContextClass::kHuge), "huge");
}

TEST(TablePolicyTest, IoClassBoundaries) {
  const std::vector<std::tuple<int, int, std::string_view>> cases = {
      {15, 64, "tiny"},       {15, 65, "short_gen"},  // r < 0.25 by n_out
      {15, 256, "short_gen"}, {15, 257, "long_gen"}, {15, 512, "long_gen"}, {15, 513, "very_long_gen"},
      {16, 64, "small_bal"},                                                // r = 0.25 exactly is balanced
      {64, 64, "small_bal"},  {65, 64, "mid_bal"},   {128, 64, "mid_bal"},  // r = 2.0 exactly
      {129, 64, "mid_paste"}, {256, 1, "mid_paste"}, {257, 1, "big_paste"}, {512, 1, "big_paste"},
      {513, 1, "huge_paste"}, {0, 0, "tiny"},        {2, 0, "small_bal"},   {3, 0, "mid_paste"},  // n_out 0 counts as 1
  };
  for (const auto& [n_in, n_out, name] : cases) {
    EXPECT_EQ(io_class_name(classify_io(n_in, n_out)), name) << "n_in=" << n_in << " n_out=" << n_out;
  }
}

TEST(TablePolicyTest, NearestRatePointTiesGoUpAndClamp) {
  const std::vector<double> points(kPaperRatePoints.begin(), kPaperRatePoints.end());
  const std::vector<std::pair<double, double>> cases = {
      {0.75, 1}, {3, 4},   {5, 6}, {14, 16},   {18, 20},  // ties
      {2.9, 2},  {3.1, 4}, {4, 4}, {0.5, 0.5}, {20, 20}, {0, 0.5}, {-1, 0.5}, {100, 20}, {std::nan(""), 0.5},
  };
  for (const auto& [rate, point] : cases) EXPECT_EQ(nearest_rate_point(rate, points), point) << rate;
  EXPECT_EQ(nearest_rate_point(7, {3}), 3);
}

// One decode node, one prefill node, and a table policy over `json`.
struct TableCase {
  Cluster c;
  NodeId d0 = c.add(NodeKind::kDecode);
  NodeId p0 = c.add(NodeKind::kPrefill);
  std::vector<BlockHash> hashes = prompt_hashes(8192);
  std::unique_ptr<RoutingPolicy> policy;

  explicit TableCase(std::string_view json, TablePolicyOptions options = {}) {
    Result<LookupTable> table = parse_lookup_table(json, "table.json");
    EXPECT_TRUE(table.ok()) << table.status().to_string();
    if (table.ok()) policy = make_table_policy(*std::move(table), options);
  }
  RouteDecision route(int n_ctx, int n_in, int n_out, double rate, int turn = 2) const {
    RouteInput in = input(hashes, n_ctx + n_in, turn);
    in.num_history_tokens = n_ctx;
    in.num_new_tokens = n_in;
    in.max_tokens = n_out;
    in.request_rate = rate;
    Result<RouteDecision> d = policy->route(c.view, in);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? *d : RouteDecision{};
  }
};

TEST(TablePolicyTest, CellDecidesAtTheNearestRatePoint) {
  TableCase t(R"({"cells": [{"context": "small", "io": "tiny", "rate": 4, "local": false},
                            {"context": "small", "io": "tiny", "rate": 6, "local": true}]})");
  RouteDecision d = t.route(100, 10, 64, 3);  // tie between 2 and 4: 4
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "table");
  EXPECT_EQ(d.prefill, t.p0);
  d = t.route(100, 10, 64, 5);  // tie between 4 and 6: 6
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "table");
  d = t.route(100, 10, 64, 2.9);  // 2: no cell, so local
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "table");
  EXPECT_EQ(t.route(100, 10, 65, 4).path, Path::kLocal);  // short_gen: no cell
}

TEST(TablePolicyTest, HugeContextReusesLargeCells) {
  TableCase t(R"({"cells": [{"context": "large", "io": "mid_bal", "rate": 1, "local": false}]})");
  EXPECT_EQ(t.route(512, 100, 100, 1).path, Path::kLocal);  // small: no cell
  EXPECT_EQ(t.route(513, 100, 100, 1).path, Path::kRemote);
  EXPECT_EQ(t.route(4096, 100, 100, 1).path, Path::kRemote);
  EXPECT_EQ(t.route(4097, 100, 100, 1).path, Path::kRemote);
  EXPECT_EQ(t.route(6000, 100, 100, 100).path, Path::kLocal);  // rate clamps to 20: no cell
}

TEST(TablePolicyTest, TurnOneGoesRemoteWithTheConfiguredTransfer) {
  TableCase t(R"({"cells": [{"context": "small", "io": "tiny", "rate": 1, "local": true}]})",
              {.transfer = TransferMode::kFull});
  const RouteDecision d = t.route(0, 10, 64, 1, /*turn=*/1);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "turn1");
  EXPECT_EQ(d.transfer, TransferMode::kFull);
}

TEST(TablePolicyTest, ShortInputBypassWhenSet) {
  constexpr std::string_view kRemoteCell =
      R"({"cells": [{"context": "large", "io": "mid_paste", "rate": 2, "local": false}]})";
  TableCase off(kRemoteCell);
  EXPECT_EQ(off.route(1000, 200, 10, 2).path, Path::kRemote);
  TableCase on(kRemoteCell, {.short_input_bypass_tokens = 201});
  RouteDecision d = on.route(1000, 200, 10, 2);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "short_input");
  TableCase at(kRemoteCell, {.short_input_bypass_tokens = 200});  // n_in below, not at
  d = at.route(1000, 200, 10, 2);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "table");
}

TEST(TablePolicyTest, RemoteCellWithoutPrefillNodeFallsBackLocal) {
  TableCase t(R"({"cells": [{"context": "small", "io": "tiny", "rate": 1, "local": false}]})");
  t.c.node(t.p0).healthy = false;
  const RouteDecision d = t.route(0, 10, 64, 1);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "no_prefill");
}

TEST(TablePolicyTest, ParsesRatePointsAndDefaults) {
  Result<LookupTable> t = parse_lookup_table(R"({"cells": []})", "table.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->rate_points, std::vector<double>(kPaperRatePoints.begin(), kPaperRatePoints.end()));
  EXPECT_TRUE(t->cells.empty());
  t = parse_lookup_table(R"({"rate_points": [1, 2.5], "cells": [
      {"context": "small", "io": "huge_paste", "rate": 2.5, "local": false}]})",
                         "table.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->rate_points, (std::vector<double>{1, 2.5}));
  const TableCellKey key{.context = ContextClass::kSmall, .io = IoClass::kHugePaste, .rate_point = 2.5};
  ASSERT_EQ(t->cells.count(key), 1u);
  EXPECT_FALSE(t->cells.at(key));
}

// The cell (small, tiny, 1) of a table holding `cell_fields` and `extra` top-level keys.
Result<bool> measured_cell(std::string_view cell_fields, std::string_view extra = "") {
  const std::string json =
      fmt::format(R"({{{}"cells": [{{"context": "small", "io": "tiny", "rate": 1, {}}}]}})", extra, cell_fields);
  PPD_ASSIGN_OR_RETURN(LookupTable t, parse_lookup_table(json, "table.json"));
  return t.cells.at({.context = ContextClass::kSmall, .io = IoClass::kTiny, .rate_point = 1});
}

TEST(TablePolicyTest, MeasuredCellsFollowThePapersRule) {
  // TTFT gain (2 - 1) / 2 = 0.5; TPOT loss (0.13 - 0.1) / 0.1 = 0.3.
  constexpr std::string_view kCell =
      R"("ttft_remote_s": 2, "ttft_local_s": 1, "tpot_remote_s": 0.1, "tpot_local_s": 0.13)";
  EXPECT_TRUE(*measured_cell(kCell));
  EXPECT_FALSE(*measured_cell(kCell, R"("weights": {"ttft": 0.5},)"));  // 0.25 - 0.3 < 0
  EXPECT_TRUE(*measured_cell(kCell, R"("weights": {"ttft": 0.5, "tpot": 0.5},)"));
  EXPECT_TRUE(*measured_cell(kCell, R"("weights": {"tpot": 0},)"));
  // A score of exactly 0 stays remote: gain 0.5, loss (0.75 - 0.5) / 0.5 = 0.5.
  EXPECT_FALSE(*measured_cell(R"("ttft_remote_s": 2, "ttft_local_s": 1, "tpot_remote_s": 0.5, "tpot_local_s": 0.75)"));
  // Local slower on both counts.
  EXPECT_FALSE(*measured_cell(R"("ttft_remote_s": 1, "ttft_local_s": 2, "tpot_remote_s": 0.1, "tpot_local_s": 0.2)"));
  EXPECT_TRUE(*measured_cell(R"("remote_failed": true)"));
  EXPECT_TRUE(*measured_cell(R"("remote_failed": true, "ttft_local_s": 1, "tpot_local_s": 0.1)"));
  EXPECT_FALSE(*measured_cell(R"("remote_failed": false, "ttft_remote_s": 1, "ttft_local_s": 2,
                                  "tpot_remote_s": 0.1, "tpot_local_s": 0.1)"));
}

TEST(TablePolicyTest, ParseErrorsNameTheFileAndThePath) {
  constexpr std::string_view kCellHead = R"({"cells": [{"context": "small", "io": "tiny", "rate": 1, )";
  const std::string all_io =
      "tiny, short_gen, long_gen, very_long_gen, small_bal, mid_bal, mid_paste, big_paste, "
      "huge_paste";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "table.json: expected a JSON object; got []"},
      {R"({"cells": [], "foo": 1})", "table.json: foo: unknown field; allowed: rate_points, weights, cells"},
      {R"({})", "table.json: cells: missing"},
      {R"({"cells": {}})", "table.json: cells: expected an array; got {}"},
      {R"({"cells": [3]})", "table.json: cells[0]: expected an object; got 3"},
      {R"({"cells": [{"context": "small", "io": "foo", "rate": 1, "local": true}]})",
       "table.json: cells[0].io: unknown \"foo\"; supported: " + all_io},
      {R"({"cells": [{"context": "huge", "io": "tiny", "rate": 1, "local": true}]})",
       "table.json: cells[0].context: unknown \"huge\"; supported: small, large"},
      {R"({"cells": [{"context": 1, "io": "tiny", "rate": 1, "local": true}]})",
       "table.json: cells[0].context: expected a string; got 1"},
      {R"({"cells": [{"io": "tiny", "rate": 1, "local": true}]})", "table.json: cells[0].context: missing"},
      {R"({"cells": [{"context": "small", "io": "tiny", "rate": "4", "local": true}]})",
       "table.json: cells[0].rate: expected a number; got \"4\""},
      {R"({"cells": [{"context": "small", "io": "tiny", "rate": 3, "local": true}]})",
       "table.json: cells[0].rate: must be one of rate_points (0.5, 1, 2, 4, 6, 8, 10, 12, 16, 20); got 3"},
      {std::string(kCellHead) + R"("local": 1}]})", "table.json: cells[0].local: expected a boolean; got 1"},
      {std::string(kCellHead) + R"("lokal": true}]})",
       "table.json: cells[0].lokal: unknown field; allowed: context, io, rate, local, remote_failed, ttft_remote_s, "
       "ttft_local_s, tpot_remote_s, tpot_local_s"},
      {R"({"cells": [{"context": "small", "io": "tiny", "rate": 4, "local": true},
                     {"context": "large", "io": "tiny", "rate": 4, "local": true},
                     {"context": "small", "io": "tiny", "rate": 4.0, "local": false}]})",
       "table.json: cells[2]: duplicate of cells[0] (small, tiny, 4)"},
      {R"({"cells": [{"context": "small", "io": "tiny", "rate": 1}]})",
       "table.json: cells[0]: missing \"local\", \"remote_failed\": true, or ttft_remote_s, ttft_local_s, "
       "tpot_remote_s and tpot_local_s"},
      {std::string(kCellHead) + R"("local": true, "ttft_local_s": 1}]})",
       "table.json: cells[0]: give either \"local\" or the measured values, not both"},
      {std::string(kCellHead) + R"("ttft_remote_s": 1, "ttft_local_s": 1, "tpot_remote_s": 1}]})",
       "table.json: cells[0].tpot_local_s: missing"},
      {std::string(kCellHead) + R"("ttft_remote_s": 0, "ttft_local_s": 1, "tpot_remote_s": 1, "tpot_local_s": 1}]})",
       "table.json: cells[0].ttft_remote_s: must be > 0; got 0"},
      {std::string(kCellHead) + R"("ttft_remote_s": 1, "ttft_local_s": -1, "tpot_remote_s": 1, "tpot_local_s": 1}]})",
       "table.json: cells[0].ttft_local_s: must be >= 0; got -1"},
      {std::string(kCellHead) + R"("remote_failed": "yes"}]})",
       "table.json: cells[0].remote_failed: expected a boolean; got \"yes\""},
      {R"({"rate_points": [1, 4, 3], "cells": []})", "table.json: rate_points[2]: must be > 4 (ascending); got 3"},
      {R"({"rate_points": [], "cells": []})", "table.json: rate_points: must not be empty"},
      {R"({"rate_points": 4, "cells": []})", "table.json: rate_points: expected an array of numbers; got 4"},
      {R"({"weights": {"ttft": -1}, "cells": []})", "table.json: weights.ttft: must be >= 0; got -1"},
      {R"({"weights": {"ttfb": 1}, "cells": []})", "table.json: weights.ttfb: unknown field; allowed: ttft, tpot"},
      {R"({"weights": [], "cells": []})", "table.json: weights: expected an object; got []"},
  };
  for (const auto& [json, message] : cases) {
    Result<LookupTable> t = parse_lookup_table(json, "table.json");
    ASSERT_FALSE(t.ok()) << json;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message(), message);
  }
  Result<LookupTable> t = parse_lookup_table(R"({"cells": [)", "table.json");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), StartsWith("table.json: invalid JSON: "));
}

TEST(TablePolicyTest, LoadsTheFileOrNamesTheMissingPath) {
  const std::string path = ::testing::TempDir() + "/policy_test_table.json";
  ASSERT_TRUE(write_file(path, R"({"cells": [{"context": "small", "io": "tiny", "rate": 1, "local": false}]})").ok());
  Result<LookupTable> t = load_lookup_table(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->cells.size(), 1u);
  Result<std::unique_ptr<RoutingPolicy>> p = make_policy({.name = "table", .table_file = path});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ((*p)->name(), "table");
  ASSERT_TRUE(write_file(path, R"({"cells": [{"context": "small"}]})").ok());
  t = load_lookup_table(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), path + ": cells[0].io: missing");
  const std::string missing = ::testing::TempDir() + "/no_such_table.json";
  t = load_lookup_table(missing);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr(missing));
}

}  // namespace
}  // namespace ppd::routing
