#include "ppd/stats/summary.h"

#include <gtest/gtest.h>

namespace ppd::stats {
namespace {

constexpr double kTol = 1e-9;  // milliseconds computed from decimal seconds carry rounding noise

// A successful streamed record: the first chunk at token_times_s.front(), the end at the last.
RequestRecord ok_record(int64_t conversation_id, int turn, double send_s, std::vector<double> token_times_s,
                        int64_t output_tokens) {
  RequestRecord r;
  r.conversation_id = conversation_id;
  r.turn = turn;
  r.ok = true;
  r.send_s = send_s;
  r.first_token_s = token_times_s.empty() ? -1 : token_times_s.front();
  r.end_s = token_times_s.empty() ? send_s : token_times_s.back();
  r.token_times_s = std::move(token_times_s);
  r.output_tokens = output_tokens;
  return r;
}

RequestRecord failed_record(int turn, double send_s, double end_s, std::string error) {
  RequestRecord r;
  r.turn = turn;
  r.send_s = send_s;
  r.end_s = end_s;
  r.error = std::move(error);
  r.prompt_tokens = 999;  // must not count: failed requests are out of the token sums
  return r;
}

void expect_stats(const Stats& s, int64_t count, double mean, double p50, double p90, double p99, double min,
                  double max) {
  EXPECT_EQ(s.count, count);
  EXPECT_NEAR(s.mean, mean, kTol);
  EXPECT_NEAR(s.p50, p50, kTol);
  EXPECT_NEAR(s.p90, p90, kTol);
  EXPECT_NEAR(s.p99, p99, kTol);
  EXPECT_NEAR(s.min, min, kTol);
  EXPECT_NEAR(s.max, max, kTol);
}

// A: turn 1, send 0,   chunks 0.10 0.15 0.25 0.30, 5 tokens: TTFT 100, E2E 300, TPOT 200/4 = 50, ITL 50 100 50.
// B: turn 1, send 1.0, chunks 1.20 1.30 1.45,      3 tokens: TTFT 200, E2E 450, TPOT 250/2 = 125, ITL 100 150.
// C: turn 2, send 0.5, chunks 0.55 0.57 0.60 0.70 0.75, 5 tokens: TTFT 50, E2E 250, TPOT 200/4 = 50,
//    ITL 20 30 100 50.
std::vector<RequestRecord> three_requests() {
  std::vector<RequestRecord> records = {ok_record(1, 1, 0.0, {0.10, 0.15, 0.25, 0.30}, 5),
                                        ok_record(2, 1, 1.0, {1.20, 1.30, 1.45}, 3),
                                        ok_record(1, 2, 0.5, {0.55, 0.57, 0.60, 0.70, 0.75}, 5)};
  records[0].prompt_tokens = 100;
  records[1].prompt_tokens = 200;
  records[2].prompt_tokens = 150;
  records[2].cached_tokens = 100;
  return records;
}

TEST(SummaryTest, ThreeRequestsAllGroup) {
  const RunSummary s = summarize(three_requests(), 2.0, Slo{});
  const GroupSummary& g = s.all;
  EXPECT_EQ(g.num_requests, 3);
  EXPECT_EQ(g.num_ok, 3);
  EXPECT_EQ(g.num_failed, 0);
  EXPECT_DOUBLE_EQ(g.success_rate, 1.0);
  // TTFT sorted 50 100 200: mean 350/3; ranks 1, 1.8, 1.98 -> 100, 100 + 0.8*100 = 180, 198.
  expect_stats(g.ttft_ms, 3, 350.0 / 3, 100, 180, 198, 50, 200);
  // TPOT sorted 50 50 125: mean 75; p90 = 50 + 0.8*75 = 110, p99 = 50 + 0.98*75 = 123.5.
  expect_stats(g.tpot_ms, 3, 75, 50, 110, 123.5, 50, 125);
  // ITL pooled, sorted 20 30 50 50 50 100 100 100 150 (n 9): mean 650/9; ranks 4, 7.2, 7.92
  // -> 50, 100 + 0.2*50 = 110, 100 + 0.92*50 = 146.
  expect_stats(g.itl_ms, 9, 650.0 / 9, 50, 110, 146, 20, 150);
  // E2E sorted 250 300 450: mean 1000/3; p90 = 300 + 0.8*150 = 420, p99 = 300 + 0.98*150 = 447.
  expect_stats(g.e2e_ms, 3, 1000.0 / 3, 300, 420, 447, 250, 450);
  // No SLO set: every successful request is good.
  EXPECT_EQ(g.num_good, 3);
  EXPECT_DOUBLE_EQ(g.slo_attainment, 1.0);
  EXPECT_DOUBLE_EQ(g.goodput_rps, 1.5);
  EXPECT_DOUBLE_EQ(g.request_throughput_rps, 1.5);
  EXPECT_EQ(g.prompt_tokens, 450);
  EXPECT_EQ(g.output_tokens, 13);
  EXPECT_EQ(g.cached_tokens, 100);
  EXPECT_DOUBLE_EQ(g.output_throughput_tps, 6.5);   // 13 / 2
  EXPECT_DOUBLE_EQ(g.total_throughput_tps, 231.5);  // (450 + 13) / 2
}

TEST(SummaryTest, ThreeRequestsSplitByTurn) {
  const RunSummary s = summarize(three_requests(), 2.0, Slo{});
  EXPECT_EQ(s.duration_s, 2.0);
  // Turn 1 = A, B. TTFT 100 200: ranks 0.5, 0.9, 0.99 -> 150, 190, 199.
  EXPECT_EQ(s.turn1.num_requests, 2);
  expect_stats(s.turn1.ttft_ms, 2, 150, 150, 190, 199, 100, 200);
  // TPOT 50 125: 87.5, 50 + 0.9*75 = 117.5, 50 + 0.99*75 = 124.25.
  expect_stats(s.turn1.tpot_ms, 2, 87.5, 87.5, 117.5, 124.25, 50, 125);
  // ITL sorted 50 50 100 100 150: mean 90; ranks 2, 3.6, 3.96 -> 100, 130, 148.
  expect_stats(s.turn1.itl_ms, 5, 90, 100, 130, 148, 50, 150);
  // E2E 300 450: 375, 375, 435, 448.5.
  expect_stats(s.turn1.e2e_ms, 2, 375, 375, 435, 448.5, 300, 450);
  EXPECT_EQ(s.turn1.prompt_tokens, 300);
  EXPECT_EQ(s.turn1.output_tokens, 8);
  EXPECT_DOUBLE_EQ(s.turn1.output_throughput_tps, 4.0);

  // Turn 2+ = C alone: every statistic is its value.
  EXPECT_EQ(s.turn2plus.num_requests, 1);
  expect_stats(s.turn2plus.ttft_ms, 1, 50, 50, 50, 50, 50, 50);
  expect_stats(s.turn2plus.tpot_ms, 1, 50, 50, 50, 50, 50, 50);
  // ITL sorted 20 30 50 100: mean 50; ranks 1.5, 2.7, 2.97 -> 40, 50 + 0.7*50 = 85, 98.5.
  expect_stats(s.turn2plus.itl_ms, 4, 50, 40, 85, 98.5, 20, 100);
  expect_stats(s.turn2plus.e2e_ms, 1, 250, 250, 250, 250, 250, 250);
  EXPECT_EQ(s.turn2plus.cached_tokens, 100);
  EXPECT_DOUBLE_EQ(s.turn2plus.request_throughput_rps, 0.5);
}

TEST(SummaryTest, SingleTokenRequestHasNoTpotOrItl) {
  // send 0, one chunk at 0.2, 1 token: TTFT = E2E = 200 ms; no TPOT, no ITL.
  const RequestRecord r = ok_record(1, 1, 0.0, {0.2}, 1);
  EXPECT_FALSE(tpot_s(r).has_value());
  ASSERT_TRUE(ttft_s(r).has_value());
  EXPECT_DOUBLE_EQ(*ttft_s(r), 0.2);
  const RunSummary s = summarize({r}, 1.0, Slo{.ttft_ms = 0, .tpot_ms = 10, .e2e_ms = 0});
  expect_stats(s.all.ttft_ms, 1, 200, 200, 200, 200, 200, 200);
  expect_stats(s.all.e2e_ms, 1, 200, 200, 200, 200, 200, 200);
  EXPECT_EQ(s.all.tpot_ms.count, 0);
  EXPECT_EQ(s.all.itl_ms.count, 0);
  // Its TPOT counts as 0, so it meets a 10 ms TPOT SLO.
  EXPECT_TRUE(meets_slo(r, Slo{.ttft_ms = 0, .tpot_ms = 10, .e2e_ms = 0}));
  EXPECT_EQ(s.all.num_good, 1);
}

TEST(SummaryTest, SuccessfulRequestWithoutTokensCountsOnlyInE2e) {
  // Succeeded with an empty answer at 0.3 s: no TTFT, TPOT or ITL; E2E 300 ms.
  RequestRecord r = ok_record(1, 1, 0.0, {}, 0);
  r.end_s = 0.3;
  EXPECT_FALSE(ttft_s(r).has_value());
  EXPECT_FALSE(tpot_s(r).has_value());
  const RunSummary s = summarize({r}, 1.0, Slo{});
  EXPECT_EQ(s.all.num_ok, 1);
  EXPECT_EQ(s.all.ttft_ms.count, 0);
  EXPECT_EQ(s.all.tpot_ms.count, 0);
  EXPECT_EQ(s.all.itl_ms.count, 0);
  expect_stats(s.all.e2e_ms, 1, 300, 300, 300, 300, 300, 300);
  // Held to the TTFT SLO with its E2E (300 ms).
  EXPECT_FALSE(meets_slo(r, Slo{.ttft_ms = 250, .tpot_ms = 0, .e2e_ms = 0}));
  EXPECT_TRUE(meets_slo(r, Slo{.ttft_ms = 400, .tpot_ms = 1, .e2e_ms = 0}));
}

TEST(SummaryTest, UsageTokenCountWithoutChunksHasNoTpot) {
  // A non-streamed answer: usage says 10 tokens but no chunk arrived, so no first token.
  RequestRecord r = ok_record(1, 1, 0.0, {}, 10);
  r.end_s = 1.0;
  EXPECT_FALSE(tpot_s(r).has_value());
  EXPECT_EQ(summarize({r}, 1.0, Slo{}).all.output_tokens, 10);
}

TEST(SummaryTest, FailedRequestsCountOnlyInRatesAndDenominators) {
  std::vector<RequestRecord> records = three_requests();
  records.push_back(failed_record(1, 0.2, 0.25, "http 500: internal"));
  // A timeout after a partial stream: its chunks must not reach the ITL or TTFT stats.
  RequestRecord timeout = failed_record(2, 0.1, 30.1, "timeout after 30 s");
  timeout.first_token_s = 0.2;
  timeout.token_times_s = {0.2, 5.0};
  timeout.output_tokens = 2;
  records.push_back(timeout);
  const RunSummary s = summarize(records, 2.0, Slo{});
  EXPECT_FALSE(tpot_s(timeout).has_value());
  EXPECT_FALSE(e2e_s(timeout).has_value());
  EXPECT_FALSE(meets_slo(timeout, Slo{}));

  EXPECT_EQ(s.all.num_requests, 5);
  EXPECT_EQ(s.all.num_ok, 3);
  EXPECT_EQ(s.all.num_failed, 2);
  EXPECT_DOUBLE_EQ(s.all.success_rate, 0.6);
  EXPECT_EQ(s.all.num_good, 3);
  EXPECT_DOUBLE_EQ(s.all.slo_attainment, 0.6);
  EXPECT_DOUBLE_EQ(s.all.request_throughput_rps, 1.5);
  EXPECT_EQ(s.all.prompt_tokens, 450);
  EXPECT_EQ(s.all.output_tokens, 13);
  // The latency stats are those of the three successful requests.
  expect_stats(s.all.ttft_ms, 3, 350.0 / 3, 100, 180, 198, 50, 200);
  expect_stats(s.all.itl_ms, 9, 650.0 / 9, 50, 110, 146, 20, 150);
  expect_stats(s.all.e2e_ms, 3, 1000.0 / 3, 300, 420, 447, 250, 450);
  // Turn split: one failure each.
  EXPECT_EQ(s.turn1.num_failed, 1);
  EXPECT_DOUBLE_EQ(s.turn1.success_rate, 2.0 / 3);
  EXPECT_EQ(s.turn2plus.num_failed, 1);
  EXPECT_DOUBLE_EQ(s.turn2plus.success_rate, 0.5);
}

TEST(SummaryTest, SloAttainmentAndGoodput) {
  // SLO: TTFT <= 150 ms, TPOT <= 60 ms.
  const Slo slo{.ttft_ms = 150, .tpot_ms = 60, .e2e_ms = 0};
  const std::vector<RequestRecord> records = {
      ok_record(1, 1, 0.0, {0.10, 0.15, 0.20}, 3),  // TTFT 100, TPOT 50: good
      ok_record(2, 1, 0.0, {0.08, 0.16, 0.22}, 3),  // TTFT 80, TPOT 140/2 = 70: misses only TPOT
      ok_record(3, 1, 0.0, {0.20, 0.25}, 2),        // TTFT 200, TPOT 50: misses only TTFT
      ok_record(4, 2, 0.0, {0.12}, 1),              // TTFT 120, one token (TPOT 0): good
      failed_record(2, 0.0, 0.01, "connection reset"),
  };
  EXPECT_TRUE(meets_slo(records[0], slo));
  EXPECT_FALSE(meets_slo(records[1], slo));
  EXPECT_TRUE(meets_slo(records[1], Slo{.ttft_ms = 150, .tpot_ms = 0, .e2e_ms = 0}));
  EXPECT_FALSE(meets_slo(records[2], slo));
  EXPECT_TRUE(meets_slo(records[3], slo));
  EXPECT_FALSE(meets_slo(records[4], slo));

  const RunSummary s = summarize(records, 4.0, slo);
  EXPECT_EQ(s.all.num_good, 2);
  EXPECT_DOUBLE_EQ(s.all.slo_attainment, 0.4);  // 2 good of 5 requests, the failure included
  EXPECT_DOUBLE_EQ(s.all.goodput_rps, 0.5);     // 2 / 4 s
  EXPECT_DOUBLE_EQ(s.all.request_throughput_rps, 1.0);
  EXPECT_EQ(s.turn1.num_good, 1);
  EXPECT_DOUBLE_EQ(s.turn1.slo_attainment, 1.0 / 3);
  EXPECT_EQ(s.turn2plus.num_good, 1);
  EXPECT_DOUBLE_EQ(s.turn2plus.slo_attainment, 0.5);
  EXPECT_DOUBLE_EQ(s.turn2plus.goodput_rps, 0.25);
}

TEST(SummaryTest, E2eSlo) {
  const RequestRecord r = ok_record(1, 1, 1.0, {1.25, 1.5}, 2);  // E2E 500 ms
  EXPECT_TRUE(meets_slo(r, Slo{.ttft_ms = 0, .tpot_ms = 0, .e2e_ms = 500}));
  EXPECT_FALSE(meets_slo(r, Slo{.ttft_ms = 0, .tpot_ms = 0, .e2e_ms = 499}));
}

TEST(SummaryTest, EmptyInputIsAllZeros) {
  const RunSummary s = summarize({}, 10.0, Slo{.ttft_ms = 100, .tpot_ms = 0, .e2e_ms = 0});
  for (const GroupSummary* g : {&s.all, &s.turn1, &s.turn2plus}) {
    EXPECT_EQ(g->num_requests, 0);
    EXPECT_EQ(g->success_rate, 0);
    EXPECT_EQ(g->slo_attainment, 0);
    EXPECT_EQ(g->goodput_rps, 0);
    EXPECT_EQ(g->total_throughput_tps, 0);
    EXPECT_EQ(g->ttft_ms.count, 0);
    EXPECT_EQ(g->itl_ms.mean, 0);
  }
  EXPECT_EQ(s.slo.ttft_ms, 100);
}

TEST(SummaryTest, NonPositiveDurationGivesZeroRates) {
  const RunSummary s = summarize(three_requests(), 0.0, Slo{});
  EXPECT_EQ(s.all.num_ok, 3);
  EXPECT_EQ(s.all.request_throughput_rps, 0);
  EXPECT_EQ(s.all.goodput_rps, 0);
}

}  // namespace
}  // namespace ppd::stats
