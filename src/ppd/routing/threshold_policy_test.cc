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

// One decode node holding `num_cached_blocks` of the prompt, one prefill node.
struct ThresholdCase {
  Cluster c;
  NodeId d0, p0;
  std::vector<BlockHash> hashes;
  ThresholdCase(int num_prompt_tokens, int num_cached_blocks)
      : d0(c.add(NodeKind::kDecode)), p0(c.add(NodeKind::kPrefill)), hashes(prompt_hashes(num_prompt_tokens)) {
    c.cache(d0, hashes, num_cached_blocks);
  }
  RouteDecision route(const RoutingPolicy& policy, int num_prompt_tokens, int turn = 2) const {
    Result<RouteDecision> d = policy.route(c.view, input(hashes, num_prompt_tokens, turn));
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? *d : RouteDecision{};
  }
};

std::unique_ptr<RoutingPolicy> threshold(ThresholdPolicyOptions options = {}) {
  Result<std::unique_ptr<RoutingPolicy>> p = make_threshold_policy(options);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return std::move(p).value();
}

TEST(ThresholdPolicyTest, UncachedTokensBoundaryAtTheDefaultLimit) {
  const auto policy = threshold();
  ThresholdCase t(8448, 400);  // 6400 cached tokens: the ratio stays far below 0.7
  RouteDecision d = t.route(*policy, 6400 + 2047);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "threshold");
  EXPECT_EQ(d.num_decode_cached_tokens, 6400);
  d = t.route(*policy, 6400 + 2048);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "threshold");
  EXPECT_EQ(d.prefill, t.p0);
  EXPECT_EQ(d.transfer, TransferMode::kDelta);
}

TEST(ThresholdPolicyTest, UncachedRatioBoundaryAtTheDefaultLimit) {
  const auto policy = threshold();
  ThresholdCase t(1601, 30);                              // 480 cached tokens
  EXPECT_EQ(t.route(*policy, 1599).path, Path::kLocal);   // 1119 / 1599 = 0.6998
  EXPECT_EQ(t.route(*policy, 1600).path, Path::kRemote);  // 1120 / 1600 = 0.7 exactly
  EXPECT_EQ(t.route(*policy, 1601).path, Path::kRemote);  // 0.7002
}

TEST(ThresholdPolicyTest, RuleIgnoresTheTurn) {
  const auto policy = threshold();
  ThresholdCase cold(512, 0);
  EXPECT_EQ(cold.route(*policy, 512, 1).path, Path::kRemote);
  ThresholdCase shared_prefix(512, 30);  // a turn 1 whose system prompt d0 already holds
  const RouteDecision d = shared_prefix.route(*policy, 512, 1);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "threshold");
}

TEST(ThresholdPolicyTest, CustomLimits) {
  const auto policy = threshold({.max_local_prefill_tokens = 100, .max_uncached_ratio = 1.0});
  ThresholdCase t(512, 1);  // 16 cached tokens
  EXPECT_EQ(t.route(*policy, 16 + 99).path, Path::kLocal);
  EXPECT_EQ(t.route(*policy, 16 + 100).path, Path::kRemote);
  ThresholdCase cold(512, 0);  // nothing cached: the ratio is 1, never below R
  EXPECT_EQ(cold.route(*policy, 50).path, Path::kRemote);
}

TEST(ThresholdPolicyTest, PrefillBusySendsLocalWhenEveryPrefillNodeIsOverTheLimit) {
  const auto policy = threshold({.max_prefill_queue_tokens = 1000});
  ThresholdCase t(4096, 0);
  const NodeId p1 = t.c.add(NodeKind::kPrefill);
  t.c.node(t.p0).load.num_pending_prefill_tokens = 1500;
  t.c.node(p1).load.num_pending_prefill_tokens = 500;
  t.c.node(p1).num_router_prefill_tokens = 1001;  // the router's count leads the report
  RouteDecision d = t.route(*policy, 4096);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "prefill_busy");
  t.c.node(p1).num_router_prefill_tokens = 1000;  // at the limit is not over it
  d = t.route(*policy, 4096);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "threshold");
  EXPECT_EQ(d.prefill, p1);
  t.c.node(p1).healthy = false;  // only usable nodes count
  EXPECT_EQ(t.route(*policy, 4096).reason, "prefill_busy");
}

TEST(ThresholdPolicyTest, DecodeBusySendsRemoteUnlessNoPrefillNodeIsUsable) {
  const auto policy = threshold({.max_decode_running = 4});
  ThresholdCase t(1024, 60);  // 960 cached: the threshold rule alone says local
  EXPECT_EQ(t.route(*policy, 1024).reason, "threshold");
  t.c.node(t.d0).load.num_running = 4;
  EXPECT_EQ(t.route(*policy, 1024).path, Path::kLocal);
  t.c.node(t.d0).num_router_active = 5;
  RouteDecision d = t.route(*policy, 1024);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "decode_busy");
  t.c.node(t.p0).healthy = false;
  d = t.route(*policy, 1024);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "no_prefill");
}

TEST(ThresholdPolicyTest, PrefillBusyRunsBeforeDecodeBusy) {
  const auto policy = threshold({.max_prefill_queue_tokens = 0, .max_decode_running = 0});
  ThresholdCase t(1024, 0);
  t.c.node(t.p0).load.num_pending_prefill_tokens = 1;
  t.c.node(t.d0).load.num_running = 1;
  EXPECT_EQ(t.route(*policy, 1024).reason, "prefill_busy");
}

TEST(ThresholdPolicyTest, RemoteWithoutPrefillNodeFallsBackLocal) {
  const auto policy = threshold();
  ThresholdCase t(4096, 0);
  t.c.node(t.p0).healthy = false;
  const RouteDecision d = t.route(*policy, 4096);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "no_prefill");
}

TEST(ThresholdPolicyTest, RejectsBadOptions) {
  const std::vector<std::pair<ThresholdPolicyOptions, std::string>> cases = {
      {{.max_uncached_ratio = 1.5}, "router.threshold.max_uncached_ratio: must be in [0, 1]; got 1.5"},
      {{.max_uncached_ratio = -0.1}, "router.threshold.max_uncached_ratio: must be in [0, 1]; got -0.1"},
      {{.max_uncached_ratio = std::nan("")}, "router.threshold.max_uncached_ratio: must be in [0, 1]; got nan"},
      {{.max_local_prefill_tokens = -1}, "router.threshold.max_local_prefill_tokens: must be >= 0; got -1"},
      {{.max_prefill_queue_tokens = -5}, "router.threshold.max_prefill_queue_tokens: must be >= 0; got -5"},
      {{.max_decode_running = -2}, "router.threshold.max_decode_running: must be >= 0; got -2"},
  };
  for (const auto& [options, message] : cases) {
    Result<std::unique_ptr<RoutingPolicy>> p = make_threshold_policy(options);
    ASSERT_FALSE(p.ok()) << message;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), message);
  }
  EXPECT_TRUE(make_threshold_policy({.max_local_prefill_tokens = 0, .max_uncached_ratio = 0}).ok());
  EXPECT_TRUE(make_threshold_policy({.max_uncached_ratio = 1}).ok());
}

// ---- table ----------------------------------------------------------------------------------
}  // namespace
}  // namespace ppd::routing
