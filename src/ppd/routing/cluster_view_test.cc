#include "ppd/routing/cluster_view.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

namespace ppd::routing {
namespace {

std::vector<BlockHash> hashes(std::initializer_list<uint64_t> values) {
  std::vector<BlockHash> out;
  for (uint64_t v : values) out.emplace_back(v);
  return out;
}

TEST(PrefixIndexTest, MatchCountsLeadingBlocksPerNode) {
  PrefixIndex index;
  for (uint64_t h : {1, 2, 3, 4}) index.add(NodeId(0), BlockHash(h));
  for (uint64_t h : {1, 2}) index.add(NodeId(1), BlockHash(h));
  index.add(NodeId(2), BlockHash(2));  // not a prefix: block 0 missing
  std::vector<int> out(3, -1);
  index.match(hashes({1, 2, 3, 9}), out);
  EXPECT_EQ(out, (std::vector<int>{3, 2, 0}));
  index.remove(NodeId(0), BlockHash(2));
  index.match(hashes({1, 2, 3, 9}), out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 0}));
  index.clear_node(NodeId(1));
  index.match(hashes({1, 2}), out);
  EXPECT_EQ(out, (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(index.num_hashes(), 4u);  // 1, 3, 4 on node 0; 2 on node 2
}

// Randomized against a plain reference: per node a set, prefix = leading hits.
TEST(PrefixIndexTest, RandomizedAgainstReference) {
  std::mt19937_64 rng(7);
  constexpr int kNodes = 5;
  PrefixIndex index;
  std::vector<std::set<uint64_t>> ref(kNodes);
  for (int op = 0; op < 5000; ++op) {
    const auto node = static_cast<uint32_t>(rng() % kNodes);
    const uint64_t h = rng() % 40;
    if (rng() % 3 == 0) {
      index.remove(NodeId(node), BlockHash(h));
      ref[node].erase(h);
    } else {
      index.add(NodeId(node), BlockHash(h));
      ref[node].insert(h);
    }
    std::vector<BlockHash> query;
    for (int i = 0; i < 6; ++i) query.emplace_back(rng() % 40);
    std::vector<int> out(kNodes);
    index.match(query, out);
    for (int n = 0; n < kNodes; ++n) {
      int expected = 0;
      while (expected < 6 && ref[n].contains(query[expected].value)) ++expected;
      ASSERT_EQ(out[n], expected) << "op " << op << " node " << n;
    }
  }
}

// Keys that share their low bits probe the same run of slots: removals in the middle of a
// run must not hide the entries after it. Also grows the table past its first size.
TEST(PrefixIndexTest, CollidingKeysAgainstReference) {
  std::mt19937_64 rng(11);
  constexpr int kNodes = 3;
  PrefixIndex index;
  std::vector<std::set<uint64_t>> ref(kNodes);
  auto key = [&] { return ((rng() % 3000) << 20) | (rng() % 3); };  // 3 home slots
  for (int op = 0; op < 20000; ++op) {
    const auto node = static_cast<uint32_t>(rng() % kNodes);
    const uint64_t h = key();
    if (rng() % 5 < 2) {
      index.remove(NodeId(node), BlockHash(h));
      ref[node].erase(h);
    } else {
      index.add(NodeId(node), BlockHash(h));
      ref[node].insert(h);
    }
    if (op % 5000 == 4999) {
      index.clear_node(NodeId(op % kNodes));
      ref[op % kNodes].clear();
    }
    const std::vector<BlockHash> query = {BlockHash(key())};
    std::vector<int> out(kNodes);
    index.match(query, out);
    for (int n = 0; n < kNodes; ++n) ASSERT_EQ(out[n], ref[n].contains(query[0].value) ? 1 : 0) << "op " << op;
  }
  std::set<uint64_t> all;
  for (const auto& r : ref) all.insert(r.begin(), r.end());
  EXPECT_EQ(index.num_hashes(), all.size());
}

TEST(ClusterViewTest, LoadReportsMakeNodesHealthyAndExpiryUnhealthy) {
  ClusterView view;
  const NodeId d = *view.add_node("d", NodeKind::kDecode);
  EXPECT_FALSE(view.node(d).healthy);
  view.apply_load(d, NodeLoad{.num_running = 3}, {}, 1'000);
  EXPECT_TRUE(view.node(d).healthy);
  EXPECT_EQ(view.node(d).load.num_running, 3);
  view.expire(1'500, 1'000);
  EXPECT_TRUE(view.node(d).healthy);
  view.expire(2'001, 1'000);
  EXPECT_FALSE(view.node(d).healthy);
}

TEST(ClusterViewTest, RefusesMoreThanSixtyFourNodes) {
  ClusterView view;
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(view.add_node("n", NodeKind::kDecode).ok());
  const Result<NodeId> extra = view.add_node("n65", NodeKind::kDecode);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.status().message(), "nodes: at most 64 nodes are supported; got more for \"n65\"");
}

TEST(StepTimeModelTest, PredictsThePriorBeforeAnySample) {
  StepTimeModel model(StepTimeModelOptions{.prior = {1000, 100, 200, 50, 300}});
  EXPECT_DOUBLE_EQ(model.predict_s(10, 2, 4000, 2e6), (1000 + 1000 + 400 + 200 + 600) * 1e-6);
}

TEST(StepTimeModelTest, RecoversTheCoefficientsOfNoiselessSteps) {
  StepTimeModel model(StepTimeModelOptions{.prior = {1, 1, 1, 1, 1}, .prior_weight = 1e-3, .decay = 1.0});
  std::mt19937 rng(3);
  for (int i = 0; i < 400; ++i) {
    const int prefill = static_cast<int>(rng() % 512);
    const int decodes = static_cast<int>(rng() % 32);
    const int64_t context = rng() % 20000;
    const double pairs = prefill_pairs(prefill, rng() % 4096);
    const double us = 800 + 40.0 * prefill + 150.0 * decodes + 25.0 * context / 1000.0 + 900 * pairs / 1e6;
    model.observe({prefill, decodes, context, us, pairs});
  }
  EXPECT_NEAR(model.coefficients()[0], 800, 5);
  EXPECT_NEAR(model.coefficients()[1], 40, 0.05);
  EXPECT_NEAR(model.coefficients()[2], 150, 0.5);
  EXPECT_NEAR(model.coefficients()[3], 25, 0.2);
  EXPECT_NEAR(model.coefficients()[4], 900, 1);
}

// A decode-only node never shows prefill tokens: the prefill coefficients stay at the prior.
TEST(StepTimeModelTest, UnobservedFeatureKeepsItsPrior) {
  StepTimeModel model(StepTimeModelOptions{.prior = {1000, 77, 200, 50, 33}, .prior_weight = 1.0, .decay = 1.0});
  for (int i = 1; i <= 200; ++i) model.observe({0, i % 16 + 1, 1000 * (i % 7), 500.0 + 100.0 * (i % 16 + 1)});
  EXPECT_NEAR(model.coefficients()[1], 77, 1e-6);
  EXPECT_NEAR(model.coefficients()[4], 33, 1e-6);
  EXPECT_NEAR(model.coefficients()[2], 100, 10);
  EXPECT_EQ(model.evidence(1), 0);
  EXPECT_GT(model.evidence(2), 0);
}

TEST(StepTimeModelTest, PrefillPairsCountEveryQueryAgainstItsKeys) {
  EXPECT_EQ(prefill_pairs(1, 0), 1);      // one token attends to itself
  EXPECT_EQ(prefill_pairs(4, 0), 10);     // 1 + 2 + 3 + 4
  EXPECT_EQ(prefill_pairs(4, 100), 410);  // and each to the 100 before
}

}  // namespace
}  // namespace ppd::routing

namespace ppd::routing {
namespace {

// Steps of a node whose true cost is 2 ms + 30 µs per prefill token + 100 µs per decode +
// 10 µs per 1k decode context tokens + 500 µs per 10^6 prefill pairs.
StepSample true_step(int prefill, int decodes, int64_t context, double pairs = 0) {
  return {.num_prefill_tokens = prefill,
          .num_decode_sequences = decodes,
          .num_decode_context_tokens = context,
          .step_us =
              2000 + 30.0 * prefill + 100.0 * decodes + 10.0 * static_cast<double>(context) / 1000 + 500 * pairs / 1e6,
          .num_prefill_pairs = pairs};
}

// A decode node that never prefilled prices prefill from the prefill node's steps, not from
// the prior (100 µs per token here), and each report's derived means follow its steps.
TEST(ClusterViewTest, ANodeThatNeverPrefilledPricesPrefillFromItsPeers) {
  ClusterView view;
  const NodeId p = *view.add_node("p", NodeKind::kPrefill);
  const NodeId d = *view.add_node("d", NodeKind::kDecode);
  std::vector<StepSample> prefill_steps, decode_steps;
  for (int i = 1; i <= 120; ++i) {
    prefill_steps.push_back(true_step(64 * (i % 32 + 1), 0, 0, prefill_pairs(64 * (i % 32 + 1), 512 * (i % 7))));
  }
  for (int i = 1; i <= 40; ++i) decode_steps.push_back(true_step(0, i, 500 * i));
  view.apply_load(p, {}, prefill_steps, 1);
  view.apply_load(d, {}, decode_steps, 2);
  EXPECT_EQ(view.node(d).step_model.evidence(1), 0);  // its own steps never prefilled
  EXPECT_GT(view.node(p).step_model.evidence(1), 0);
  view.apply_load(d, {}, decode_steps, 3);  // its next report takes the fleet's prior
  const double predicted = view.node(d).step_model.predict_s(1024, 8, 8000, prefill_pairs(1024, 512));
  const double truth = true_step(1024, 8, 8000, prefill_pairs(1024, 512)).step_us * 1e-6;
  EXPECT_NEAR(predicted, truth, 0.05 * truth);
  EXPECT_NEAR(view.fleet_coefficients()[1], 30, 1.5);
  EXPECT_DOUBLE_EQ(view.node(d).load.mean_decode_context_tokens, 500);
  double mean_us = 0;
  for (const StepSample& s : decode_steps) mean_us += s.step_us / 40;
  EXPECT_NEAR(view.node(d).load.mean_decode_step_s, mean_us * 1e-6, 1e-12);
  view.apply_load(d, {}, {}, 4);  // a report without steps keeps the last means
  EXPECT_DOUBLE_EQ(view.node(d).load.mean_decode_context_tokens, 500);
  EXPECT_NEAR(view.node(d).load.mean_decode_step_s, mean_us * 1e-6, 1e-12);
}

}  // namespace
}  // namespace ppd::routing
