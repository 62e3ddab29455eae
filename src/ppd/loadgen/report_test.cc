#include <gtest/gtest.h>

#include "ppd/loadgen/compare_report.h"
#include "ppd/loadgen/run_report.h"

namespace ppd::loadgen {
namespace {

RunEntry entry(std::string label, double rate, double turn2_ttft_ms, double turn2_tpot_ms, int repeat = 0) {
  RunEntry e{.label = std::move(label), .rate = rate, .repeat = repeat};
  e.summary.turn2plus.ttft_ms.mean = turn2_ttft_ms;
  e.summary.turn2plus.ttft_ms.p99 = 2 * turn2_ttft_ms;
  e.summary.turn2plus.tpot_ms.mean = turn2_tpot_ms;
  e.summary.turn1.ttft_ms.mean = 100;
  e.summary.all.success_rate = 1;
  return e;
}

TEST(CompareReportTest, RatiosToTheBaselineAndWherePpdLoses) {
  std::vector<RunEntry> runs = {entry("pd", 1, 400, 20), entry("local", 1, 100, 30), entry("ppd", 1, 200, 21)};
  runs[2].router = stats::RouterCounters{.kv_transfer_bytes = 2e6, .local_decisions = 3, .remote_decisions = 1};
  const std::string md = compare_markdown(runs, {.title = "T", .baseline = "pd", .subject = "ppd"});
  // ppd: 200 / 400 = 0.50 of pd's turn 2+ TTFT, 21 / 20 = 1.05 of its TPOT, 75% local, 2.0 MB moved.
  EXPECT_NE(md.find("| ppd | 1 | 200 | 0.50 | 21.00 | 1.05 | 0.00 | 100 | 0.0 | 0.00 | 100.0 | 75 | 2.0 | - |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 1 | local | 2.00 | 0.70 | - | 1.00 |"), std::string::npos) << md;
  // local's turn 2+ TTFT (100 against 200) beats ppd by more than 5%, and so does its p99; pd's TPOT
  // (20 against 21) is within 5% and is not listed.
  EXPECT_NE(md.find("- at 1 conv/s, turn 2+ TTFT mean: local has 100 against ppd's 200"), std::string::npos) << md;
  EXPECT_NE(md.find("- at 1 conv/s, turn 2+ TTFT p99: local has 200 against ppd's 400"), std::string::npos) << md;
  EXPECT_EQ(md.find("TPOT mean: pd has"), std::string::npos) << md;
}

// Repeats: medians with their ranges; the SLO verdict judges ppd-slo against the best other
// policy's median, and calls ppd-slo within the spread when the ranges overlap.
TEST(CompareReportTest, MediansRangesAndTheSloVerdict) {
  std::vector<RunEntry> runs;
  const double attain[3][3] = {{0.80, 0.90, 0.85}, {0.70, 0.75, 0.88}, {0.5, 0.5, 0.5}};  // pd, ppd-slo, local
  const char* labels[3] = {"pd", "ppd-slo", "local"};
  for (int r = 0; r < 3; ++r) {
    for (int p = 0; p < 3; ++p) {
      runs.push_back(entry(labels[p], 1, 100.0 + 10 * r, 20, r));
      runs.back().summary.all.slo_attainment = attain[p][r];
    }
  }
  runs.push_back(entry("ppd", 1, 50, 20));
  stats::RouterCounters router;
  router.t2_ttft_prediction_errors[3] = 2;  // both in (0.075, 0.1]: the median is their midpoint
  runs.back().router = router;
  const std::string md = compare_markdown(runs, {.title = "T", .slo = "TTFT <= 1 ms", .baseline = "pd"});
  EXPECT_NE(md.find("| pd | 3 | 110 [100-120] | 1.00 | 20.00 | 1.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 8.8 |"), std::string::npos) << md;  // ppd's prediction error, in %
  EXPECT_NE(md.find("- SLOs (attainment and goodput): TTFT <= 1 ms"), std::string::npos) << md;
  // pd's median 85% against ppd-slo's 75%, but ppd-slo reached 88%, above pd's lowest 80%.
  EXPECT_NE(md.find("| 1 | pd | 85.0 [80.0-90.0] | 75.0 [70.0-88.0] | within the spread of the best |"),
            std::string::npos)
      << md;
  runs[4].summary.all.slo_attainment = 0.95;  // ppd-slo's repeat 1 now leads: median 88%
  EXPECT_NE(compare_markdown(runs, {.title = "T"}).find("| 88.0 [70.0-95.0] | best |"), std::string::npos);
  const std::vector<RunEntry> medians = median_entries(runs);
  ASSERT_EQ(medians.size(), 4u);
  EXPECT_EQ(medians[0].summary.turn2plus.ttft_ms.mean, 110);
}

TEST(CompareReportTest, SaysSoWhenPpdNeverLoses) {
  const std::vector<RunEntry> runs = {entry("pd", 2, 400, 20), entry("ppd", 2, 200, 20)};
  const std::string md = compare_markdown(runs, {.title = "T", .baseline = "pd", .subject = "ppd"});
  EXPECT_NE(md.find("Nowhere in these runs."), std::string::npos) << md;
}

TEST(RunReportTest, PlotsHoldOneLinePerLabelInRateOrder) {
  const std::vector<RunEntry> runs = {entry("pd", 0.5, 400, 20), entry("ppd", 0.5, 200, 21), entry("pd", 1, 800, 25),
                                      entry("ppd", 1, 300, 22)};
  const std::vector<PlotScript> plots = latency_plots(runs, "t", "/out");
  ASSERT_EQ(plots.size(), 5u);
  EXPECT_EQ(plots[0].png_name, "turn2_ttft_mean.png");
  const std::string& s = plots[0].script;
  EXPECT_NE(s.find("set output '/out/turn2_ttft_mean.png'"), std::string::npos) << s;
  EXPECT_NE(s.find("title 'pd', '-' using 1:2 with linespoints title 'ppd'"), std::string::npos) << s;
  EXPECT_NE(s.find("0.5 400\n1 800\ne\n0.5 200\n1 300\ne\n"), std::string::npos) << s;
}

TEST(RunReportTest, EntryJsonAndTextCarryTheRun) {
  LoadResult load;
  load.model = "m";
  load.records.push_back({.conversation_id = 0,
                          .turn = 1,
                          .ok = true,
                          .send_s = 0,
                          .first_token_s = 0.1,
                          .end_s = 0.3,
                          .token_times_s = {0.1, 0.2, 0.3},
                          .prompt_tokens = 10,
                          .output_tokens = 3});
  load.duration_s = 0.3;
  load.num_skipped_turns = 2;
  const RunEntry e = make_entry("x", 1.5, std::move(load), {});
  EXPECT_EQ(e.summary.all.num_ok, 1);
  const nlohmann::json j = to_json(e, /*with_records=*/true);
  EXPECT_EQ(j["rate"], 1.5);
  EXPECT_EQ(j["num_skipped_turns"], 2);
  EXPECT_EQ(j["records"].size(), 1u);
  EXPECT_TRUE(j["router"].is_null());
  EXPECT_NE(format_entry(e).find("== x at 1.5 conv/s: 1 requests measured over 0.3 s, model m"), std::string::npos);
}

}  // namespace
}  // namespace ppd::loadgen
