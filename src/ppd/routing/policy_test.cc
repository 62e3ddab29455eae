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

TEST(PlacementTest, SessionNodeIsPreferredWhileHealthy) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode), d1 = c.add(NodeKind::kDecode);
  c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(128);
  c.cache(d0, hashes, 8);
  RouteInput in = input(hashes, 128, 2);
  in.session_decode = d1;
  Result<Placement> p = place(c.view, in);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->decode, d1);
  EXPECT_EQ(p->num_decode_cached_tokens, 0);
  c.node(d1).healthy = false;
  p = place(c.view, in);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->decode, d0);
  EXPECT_EQ(p->num_decode_cached_tokens, 127);  // all 8 blocks, capped at prompt - 1
}

TEST(PlacementTest, LaterTurnsPickTheLongestCachedPrefixOverLoad) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode), d1 = c.add(NodeKind::kDecode);
  const auto hashes = prompt_hashes(200);
  c.cache(d0, hashes, 2);
  c.cache(d1, hashes, 4);
  c.node(d1).load.num_running = 10;
  Result<Placement> p = place(c.view, input(hashes, 200, 2));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->decode, d1);
  EXPECT_EQ(p->num_decode_cached_tokens, 4 * kBlockSize);
  EXPECT_FALSE(p->prefill.has_value());
}

TEST(PlacementTest, LeastLoadedOtherwise) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode), d1 = c.add(NodeKind::kDecode);
  const NodeId p0 = c.add(NodeKind::kPrefill), p1 = c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(200);
  c.cache(d0, hashes, 4);  // turn 1 ignores the cached prefix when picking decode
  c.node(d0).load.num_running = 3;
  c.node(d1).num_router_active = 2;
  c.node(p0).load.num_pending_prefill_tokens = 100;
  c.node(p1).num_router_prefill_tokens = 50;
  Result<Placement> p = place(c.view, input(hashes, 200, 1));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->decode, d1);
  EXPECT_EQ(p->prefill, p1);
}

TEST(PlacementTest, PrefillTieGoesToTheLongerCachedPrefix) {
  Cluster c;
  c.add(NodeKind::kDecode);
  c.add(NodeKind::kPrefill);
  const NodeId p1 = c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(100);
  c.cache(p1, hashes, 3);
  Result<Placement> p = place(c.view, input(hashes, 100, 1));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prefill, p1);
  EXPECT_EQ(p->num_prefill_cached_tokens, 3 * kBlockSize);
}

TEST(PlacementTest, ExcludedNodesAreSkipped) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode), d1 = c.add(NodeKind::kDecode);
  const NodeId p0 = c.add(NodeKind::kPrefill), p1 = c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(100);
  c.cache(d0, hashes, 4);
  c.node(p1).load.num_pending_prefill_tokens = 1000;
  RouteInput in = input(hashes, 100, 2);
  in.session_decode = d0;
  in.excluded = {d0, p0};
  Result<Placement> p = place(c.view, in);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->decode, d1);
  EXPECT_EQ(p->prefill, p1);
}

TEST(PlacementTest, NoHealthyDecodeNodeIsUnavailable) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode);
  const NodeId d1 = c.add(NodeKind::kDecode);
  c.add(NodeKind::kPrefill);
  c.node(d0).healthy = false;
  const auto hashes = prompt_hashes(64);
  RouteInput in = input(hashes, 64, 1);
  in.excluded = {d1};
  Result<Placement> p = place(c.view, in);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(p.status().message(), "no healthy decode node");
  EXPECT_FALSE(make_pd_policy({})->route(c.view, in).ok());
}

TEST(PdLocalPolicyTest, PdGoesRemoteWithItsTransferMode) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode), p0 = c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(64);
  const auto pd = make_pd_policy({.transfer = TransferMode::kFull});
  Result<RouteDecision> d = pd->route(c.view, input(hashes, 64, 1));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->path, Path::kRemote);
  EXPECT_EQ(d->reason, "turn1");
  EXPECT_EQ(d->decode, d0);
  EXPECT_EQ(d->prefill, p0);
  EXPECT_EQ(d->transfer, TransferMode::kFull);
  d = pd->route(c.view, input(hashes, 64, 3));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reason, "always_remote");
}

TEST(PdLocalPolicyTest, NoPrefillNodeFallsBackLocal) {
  Cluster c;
  c.add(NodeKind::kDecode);
  const NodeId p0 = c.add(NodeKind::kPrefill);
  c.node(p0).healthy = false;
  const auto hashes = prompt_hashes(64);
  for (const auto& policy : {make_pd_policy({}), make_local_policy()}) {
    Result<RouteDecision> d = policy->route(c.view, input(hashes, 64, 1));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->path, Path::kLocal) << policy->name();
    EXPECT_EQ(d->reason, "no_prefill") << policy->name();
    EXPECT_FALSE(d->prefill.has_value());
  }
  // A retry after the remote path failed is not offered the remote path again.
  c.node(p0).healthy = true;
  RouteInput in = input(hashes, 64, 2);
  in.remote_failed = true;
  Result<RouteDecision> d = make_pd_policy({})->route(c.view, in);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reason, "no_prefill");
}

TEST(PdLocalPolicyTest, LocalKeepsLaterTurnsOnTheDecodeNode) {
  Cluster c;
  const NodeId d0 = c.add(NodeKind::kDecode);
  c.add(NodeKind::kPrefill);
  const auto hashes = prompt_hashes(96);
  c.cache(d0, hashes, 2);
  const auto local = make_local_policy();
  Result<RouteDecision> d = local->route(c.view, input(hashes, 96, 1));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->path, Path::kRemote);
  EXPECT_EQ(d->reason, "turn1");
  d = local->route(c.view, input(hashes, 96, 2));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->path, Path::kLocal);
  EXPECT_EQ(d->reason, "always_local");
  EXPECT_EQ(d->num_decode_cached_tokens, 2 * kBlockSize);
  EXPECT_FALSE(d->prefill.has_value());
}

// split: turn 1 remote; of many distinct turn-2 prompts, about the share goes local, and the
// same prompt always goes the same way.
TEST(PdLocalPolicyTest, SplitSendsItsShareOfLaterTurnsLocal) {
  Cluster c;
  c.add(NodeKind::kDecode);
  c.add(NodeKind::kPrefill);
  const auto policy = make_split_policy({.local_share = 0.25});
  ASSERT_TRUE(policy.ok());
  std::vector<BlockHash> hashes = prompt_hashes(64);
  EXPECT_EQ((*policy)->route(c.view, input(hashes, 64, 1))->path, Path::kRemote);
  int local = 0;
  for (uint64_t i = 0; i < 4000; ++i) {
    hashes.back() = BlockHash{0x1234567 * (i + 1)};
    const Result<RouteDecision> d = (*policy)->route(c.view, input(hashes, 64, 2));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->reason, "split");
    EXPECT_EQ(d->path, (*policy)->route(c.view, input(hashes, 64, 2))->path);
    local += d->path == Path::kLocal;
  }
  EXPECT_NEAR(local / 4000.0, 0.25, 0.03);
  for (const double share : {0.0, 1.0}) {
    const auto all = make_split_policy({.local_share = share});
    EXPECT_EQ((*all)->route(c.view, input(hashes, 64, 2))->path, share == 0 ? Path::kRemote : Path::kLocal);
  }
  EXPECT_EQ(make_split_policy({.local_share = 1.5}).status().message(),
            "router.split.local_share: must be in [0, 1]; got 1.5");
}

TEST(PdLocalPolicyTest, RegistryNamesTheSupportedPolicies) {
  Result<std::unique_ptr<RoutingPolicy>> p = make_policy({.name = "kv-aware"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "router.policy: unknown \"kv-aware\"; supported: pd, local, split, threshold, table, ppd");
  p = make_policy({.name = "threshold"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->name(), "threshold");
}

// ---- threshold ------------------------------------------------------------------------------

}  // namespace
}  // namespace ppd::routing
