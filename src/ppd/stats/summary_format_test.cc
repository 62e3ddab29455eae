#include <algorithm>

#include <gtest/gtest.h>

#include "ppd/stats/summary.h"

namespace ppd::stats {
namespace {

// A hand-made summary with round numbers: the text and JSON forms only copy them.
RunSummary sample_summary() {
  RunSummary s;
  s.duration_s = 12.5;
  s.slo = Slo{.ttft_ms = 200, .tpot_ms = 50.5, .e2e_ms = 0};
  GroupSummary g;
  g.num_requests = 4;
  g.num_ok = 3;
  g.num_failed = 1;
  g.success_rate = 0.75;
  g.ttft_ms = Stats{.count = 3, .mean = 120.5, .p50 = 110, .p90 = 150.25, .p99 = 159.126, .min = 90, .max = 160};
  g.tpot_ms = Stats{.count = 3, .mean = 20, .p50 = 21, .p90 = 22, .p99 = 23, .min = 19, .max = 23.5};
  g.itl_ms = Stats{.count = 9, .mean = 19, .p50 = 18.5, .p90 = 30, .p99 = 41.75, .min = 1, .max = 42};
  g.e2e_ms = Stats{.count = 3, .mean = 1500, .p50 = 1400, .p90 = 1900, .p99 = 12345.678, .min = 1000, .max = 12500};
  g.num_good = 2;
  g.slo_attainment = 0.5;
  g.goodput_rps = 0.16;
  g.request_throughput_rps = 0.24;
  g.output_throughput_tps = 48.26;
  g.total_throughput_tps = 100;
  g.prompt_tokens = 650;
  g.output_tokens = 603;
  g.cached_tokens = 128;
  s.all = g;
  s.turn1 = g;
  s.turn1.num_requests = 3;
  s.turn2plus = GroupSummary{};
  s.turn2plus.num_requests = 1;
  s.turn2plus.num_failed = 1;
  return s;
}

TEST(SummaryFormatTest, Table) {
  // Columns: group 8 wide, then right-aligned reqs 7, ok% 7, 12 latencies 10 (2 decimals),
  // slo% 7, goodput 9, out_tok/s 10.
  const std::string expected =
      "duration 12.50 s; SLO: ttft <= 200 ms, tpot <= 50.5 ms, e2e not set; latencies in ms, goodput in req/s\n"
      "group      reqs    ok% ttft_mean  ttft_p50  ttft_p90  ttft_p99 tpot_mean  tpot_p50  tpot_p90  tpot_p99"
      "   itl_p50   itl_p99  e2e_mean   e2e_p99   slo%  goodput out_tok/s\n"
      "turn 1        3   75.0    120.50    110.00    150.25    159.13     20.00     21.00     22.00     23.00"
      "     18.50     41.75   1500.00  12345.68   50.0     0.16      48.3\n"
      "turn 2+       1    0.0      0.00      0.00      0.00      0.00      0.00      0.00      0.00      0.00"
      "      0.00      0.00      0.00      0.00    0.0     0.00       0.0\n"
      "all           4   75.0    120.50    110.00    150.25    159.13     20.00     21.00     22.00     23.00"
      "     18.50     41.75   1500.00  12345.68   50.0     0.16      48.3\n";
  EXPECT_EQ(format_summary_table(sample_summary()), expected);
}

TEST(SummaryFormatTest, TableWithoutSlo) {
  RunSummary s;
  s.duration_s = 1;
  const std::string text = format_summary_table(s);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "duration 1.00 s; SLO: ttft not set, tpot not set, e2e not set; latencies in ms, goodput in req/s");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
}

TEST(SummaryFormatTest, StatsJson) {
  const nlohmann::json j =
      to_json(Stats{.count = 2, .mean = 1.5, .p50 = 1.5, .p90 = 1.9, .p99 = 1.99, .min = 1, .max = 2});
  EXPECT_EQ(j, nlohmann::json::parse(R"({"count":2,"mean":1.5,"p50":1.5,"p90":1.9,"p99":1.99,"min":1.0,"max":2.0})"));
}

TEST(SummaryFormatTest, RunSummaryJson) {
  const nlohmann::json j = to_json(sample_summary());
  EXPECT_EQ(j["duration_s"], 12.5);
  EXPECT_EQ(j["slo"], nlohmann::json::parse(R"({"ttft_ms":200.0,"tpot_ms":50.5,"e2e_ms":0.0})"));
  for (const char* group : {"all", "turn1", "turn2plus"}) ASSERT_TRUE(j.contains(group)) << group;
  EXPECT_EQ(j.size(), 5u);
  const nlohmann::json& all = j["all"];
  EXPECT_EQ(all.size(), 17u);
  EXPECT_EQ(all["num_requests"], 4);
  EXPECT_EQ(all["num_ok"], 3);
  EXPECT_EQ(all["num_failed"], 1);
  EXPECT_EQ(all["success_rate"], 0.75);
  EXPECT_EQ(all["ttft_ms"]["p90"], 150.25);
  EXPECT_EQ(all["tpot_ms"]["max"], 23.5);
  EXPECT_EQ(all["itl_ms"]["count"], 9);
  EXPECT_EQ(all["e2e_ms"]["min"], 1000.0);
  EXPECT_EQ(all["num_good"], 2);
  EXPECT_EQ(all["slo_attainment"], 0.5);
  EXPECT_EQ(all["goodput_rps"], 0.16);
  EXPECT_EQ(all["request_throughput_rps"], 0.24);
  EXPECT_EQ(all["output_throughput_tps"], 48.26);
  EXPECT_EQ(all["total_throughput_tps"], 100.0);
  EXPECT_EQ(all["prompt_tokens"], 650);
  EXPECT_EQ(all["output_tokens"], 603);
  EXPECT_EQ(all["cached_tokens"], 128);
  EXPECT_EQ(j["turn1"]["num_requests"], 3);
  EXPECT_EQ(j["turn2plus"]["num_failed"], 1);
}

}  // namespace
}  // namespace ppd::stats
