#include "ppd/net/prometheus.h"

#include <thread>

#include <gtest/gtest.h>

namespace ppd::net {
namespace {

TEST(MetricsTest, RendersExactText) {
  MetricsRegistry registry;
  Result<CounterFamily*> requests =
      registry.counter("ppd:request_success_total", "Finished requests.", {"finished_reason"});
  Result<GaugeFamily*> running = registry.gauge("ppd:num_requests_running", "Requests running.");
  Result<HistogramFamily*> ttft = registry.histogram("ppd:time_to_first_token_seconds",
                                                     "Time to first token.\nFrom arrival.", {"model"}, {0.01, 0.1, 1});
  ASSERT_TRUE(requests.ok() && running.ok() && ttft.ok());
  (*requests)->with({"stop"}).inc();
  (*requests)->with({"length"}).inc(2);
  (*running)->with({}).set(3);
  (*running)->with({}).dec(0.5);
  Histogram& h = (*ttft)->with({"tiny \"q\""});
  for (double v : {0.005, 0.05, 0.1, 5.0}) h.observe(v);
  EXPECT_EQ(registry.render(),
            "# HELP ppd:request_success_total Finished requests.\n"
            "# TYPE ppd:request_success_total counter\n"
            "ppd:request_success_total{finished_reason=\"length\"} 2\n"
            "ppd:request_success_total{finished_reason=\"stop\"} 1\n"
            "# HELP ppd:num_requests_running Requests running.\n"
            "# TYPE ppd:num_requests_running gauge\n"
            "ppd:num_requests_running 2.5\n"
            "# HELP ppd:time_to_first_token_seconds Time to first token.\\nFrom arrival.\n"
            "# TYPE ppd:time_to_first_token_seconds histogram\n"
            "ppd:time_to_first_token_seconds_bucket{model=\"tiny \\\"q\\\"\",le=\"0.01\"} 1\n"
            "ppd:time_to_first_token_seconds_bucket{model=\"tiny \\\"q\\\"\",le=\"0.1\"} 3\n"
            "ppd:time_to_first_token_seconds_bucket{model=\"tiny \\\"q\\\"\",le=\"1\"} 3\n"
            "ppd:time_to_first_token_seconds_bucket{model=\"tiny \\\"q\\\"\",le=\"+Inf\"} 4\n"
            "ppd:time_to_first_token_seconds_sum{model=\"tiny \\\"q\\\"\"} 5.155\n"
            "ppd:time_to_first_token_seconds_count{model=\"tiny \\\"q\\\"\"} 4\n");
}

TEST(MetricsTest, RejectsBadNamesAndBuckets) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.counter("ppd:x_total", "x").ok());
  EXPECT_EQ(registry.counter("ppd:x_total", "again").status().message(),
            "metric name: \"ppd:x_total\" is already registered");
  EXPECT_EQ(registry.gauge("1bad", "").status().message(),
            "metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*; got \"1bad\"");
  EXPECT_EQ(registry.gauge("g", "", {"a:b"}).status().message(),
            "metric \"g\": label name must match [a-zA-Z_][a-zA-Z0-9_]* without a leading "
            "\"__\"; got \"a:b\"");
  EXPECT_EQ(registry.gauge("g", "", {"a", "a"}).status().message(),
            "metric \"g\": label names must be unique; got \"a\" twice");
  EXPECT_EQ(registry.histogram("h", "", {"le"}, {1}).status().message(),
            "metric \"h\": label name \"le\" is reserved for histogram buckets");
  EXPECT_EQ(registry.histogram("h", "", {}, {1, 0.5}).status().message(),
            "metric \"h\": buckets: must be strictly increasing; got 0.5 after 1");
  EXPECT_EQ(registry.histogram("h", "", {}, {}).status().message(),
            "metric \"h\": buckets: need at least one upper bound");
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  CounterFamily* family = *registry.counter("ppd:tokens_total", "Tokens.", {"kind"});
  HistogramFamily* latency = *registry.histogram("ppd:latency_seconds", "Latency.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        family->with({"decode"}).inc();
        latency->with({}).observe(0.5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(family->with({"decode"}).value(), 40'000);
  EXPECT_EQ(latency->with({}).snapshot().cumulative_counts.back(), 40'000u);
}

}  // namespace
}  // namespace ppd::net
