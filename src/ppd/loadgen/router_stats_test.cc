#include "ppd/loadgen/router_stats.h"

#include <gtest/gtest.h>

#include "ppd/net/prometheus.h"

namespace ppd::loadgen {
namespace {

constexpr std::string_view kMetrics = R"(# HELP ppd:router_decisions_total Routing decisions
# TYPE ppd:router_decisions_total counter
ppd:router_decisions_total{policy="ppd",path="local",reason="cost"} 7
ppd:router_decisions_total{policy="ppd",path="remote",reason="turn1"} 4
ppd:router_decisions_total{policy="ppd",path="remote",reason="cost"} 2
# TYPE ppd:kv_transfer_bytes_total counter
ppd:kv_transfer_bytes_total 1.5e6
# TYPE ppd:prefix_hit_tokens_total counter
ppd:prefix_hit_tokens_total{path="local"} 900
ppd:prefix_hit_tokens_total{path="remote"} 100
ppd:prompt_tokens_total 2000
ppd:router_retries_total{reason="prefill_failed"} 1
ppd:time_to_first_token_seconds_count{turn="1",path="remote"} 6
)";

TEST(RouterStatsTest, SumsSamplesByNameAndLabel) {
  EXPECT_EQ(sum_samples(kMetrics, "ppd:router_decisions_total"), 13);
  EXPECT_EQ(sum_samples(kMetrics, "ppd:router_decisions_total", "path", "remote"), 6);
  EXPECT_EQ(sum_samples(kMetrics, "ppd:router_decisions_total", "reason", "cost"), 9);
  EXPECT_EQ(sum_samples(kMetrics, "ppd:time_to_first_token_seconds"), 0) << "a _count line is another name";
  EXPECT_EQ(sum_samples(kMetrics, "ppd:missing"), 0);
}

TEST(RouterStatsTest, ReadsTheCountersAndTheirDifference) {
  const std::optional<stats::RouterCounters> c = parse_router_counters(kMetrics);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->local_decisions, 7);
  EXPECT_EQ(c->remote_decisions, 6);
  EXPECT_EQ(c->kv_transfer_bytes, 1.5e6);
  EXPECT_EQ(c->prefix_hit_tokens_local, 900);
  EXPECT_EQ(c->prefix_hit_tokens_remote, 100);
  EXPECT_EQ(c->retries, 1);
  const stats::RouterCounters before{.kv_transfer_bytes = 5e5, .local_decisions = 2, .remote_decisions = 1};
  const stats::RouterCounters d = stats::difference(*c, before);
  EXPECT_EQ(d.kv_transfer_bytes, 1e6);
  EXPECT_EQ(d.local_decisions, 5);
  EXPECT_EQ(d.remote_decisions, 5);
  EXPECT_EQ(to_json(d)["local_share"], 0.5);
}

// The turn-2+ TTFT prediction errors come from the router's histogram as it renders it, summed
// over paths; other quantities and turns stay out. Their median is read within its bucket.
TEST(RouterStatsTest, ReadsTheTurn2TtftPredictionErrors) {
  net::MetricsRegistry registry;
  ASSERT_TRUE(registry.counter("ppd:router_decisions_total", "d", {"path"}).ok());
  net::HistogramFamily* h = *registry.histogram(
      "ppd:router_prediction_error_ratio", "e", {"quantity", "turn", "path"},
      std::vector<double>(stats::kPredictionErrorBounds.begin(), stats::kPredictionErrorBounds.end()));
  for (double e : {0.01, 0.04, 0.06}) h->with({"ttft", "2+", "local"}).observe(e);
  h->with({"ttft", "2+", "remote"}).observe(0.3);
  h->with({"ttft", "2+", "remote"}).observe(7);  // past the last bound
  h->with({"tpot", "2+", "local"}).observe(0.9);
  h->with({"ttft", "1", "remote"}).observe(0.9);
  const std::optional<stats::RouterCounters> c = parse_router_counters(registry.render());
  ASSERT_TRUE(c.has_value());
  stats::PredictionErrorCounts expected{};
  expected[0] = expected[1] = expected[2] = expected[8] = expected[16] = 1;
  EXPECT_EQ(c->t2_ttft_prediction_errors, expected);
  // 5 errors: the median (2.5th) lies halfway through the third bucket, (0.05, 0.075].
  EXPECT_NEAR(*stats::bucketed_median(c->t2_ttft_prediction_errors), 0.0625, 1e-12);
  EXPECT_EQ(to_json(*c)["t2_ttft_prediction_error"]["count"], 5);
  EXPECT_FALSE(stats::bucketed_median({}).has_value());
  EXPECT_FALSE(to_json(stats::RouterCounters{}).contains("t2_ttft_prediction_error"));
}

TEST(RouterStatsTest, AnotherServersMetricsAreNotARouters) {
  EXPECT_FALSE(parse_router_counters("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n"));
}

}  // namespace
}  // namespace ppd::loadgen
