#include "ppd/sim/cluster.h"

#include <cmath>

#include <gtest/gtest.h>

#include "ppd/workload/arrivals.h"
#include "ppd/workload/synthetic.h"

namespace ppd::sim {
namespace {

// Every step costs 1 ms, plus 10 µs per prefill token and 100 µs per decode sequence: easy
// to add up by hand.
class LinearCost final : public StepCostModel {
 public:
  int64_t step_time_ns(const StepShape& s) const override {
    return 1'000'000 + 10'000 * s.num_prefill_tokens() + 100'000 * s.num_decode_sequences();
  }
};

ClusterOptions cluster(int num_prefill, int num_decode, std::string policy) {
  ClusterOptions o;
  o.num_prefill = num_prefill;
  o.num_decode = num_decode;
  o.node.scheduler = {.max_num_batched_tokens = 1024, .max_prefill_tokens = 256, .max_num_running = 64};
  o.node.kv_cache = {.num_blocks = 256, .block_size = 16};
  o.node.vocab_size = 1000;
  o.link = {.bytes_per_s = 1e9, .latency_ns = 50'000};
  o.block_bytes = 1000;
  o.policy.name = std::move(policy);
  return o;
}

workload::Conversation conversation(int64_t id, double arrival_s, std::vector<workload::Turn> turns) {
  return {.id = id, .arrival_s = arrival_s, .turns = std::move(turns)};
}

workload::Workload workload_of(std::vector<workload::Conversation> c) { return {.name = "test", .conversations = c}; }

SimResult run(const ClusterOptions& o, const workload::Workload& w, ClientOptions client = {}) {
  static const LinearCost cost;
  Result<SimResult> r = simulate_cluster(o, cost, w, client);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(*r) : SimResult{};
}

// A lone 100-token request on an idle decode node: one 100-token prefill step (2 ms), then
// one decode step per further token (1.1 ms each).
TEST(ClusterTest, OneRequestOnAnIdleClusterTakesWhatTheCostModelSays) {
  const SimResult r =
      run(cluster(0, 1, "ppd"), workload_of({conversation(0, 0.5, {{.user_tokens = 100, .output_tokens = 4}})}));
  ASSERT_EQ(r.records.size(), 1u);
  const stats::RequestRecord& rec = r.records[0];
  EXPECT_TRUE(rec.ok) << rec.error;
  EXPECT_DOUBLE_EQ(rec.send_s, 0.5);
  EXPECT_DOUBLE_EQ(rec.first_token_s, 0.502);
  EXPECT_DOUBLE_EQ(rec.end_s, 0.5053);
  ASSERT_EQ(rec.token_times_s.size(), 4u);
  EXPECT_DOUBLE_EQ(rec.token_times_s[1], 0.5031);
  EXPECT_EQ(rec.prompt_tokens, 100);
  EXPECT_EQ(rec.output_tokens, 4);
  EXPECT_EQ(r.router.local_decisions, 1);
  EXPECT_EQ(r.num_steps, 4);
}

// The remote path: the prefill node's step (2 ms), then the pull of the prompt's 7 blocks of
// 1000 bytes at 1 GB/s plus 50 µs, then the decode steps on the decode node.
TEST(ClusterTest, RemotePathIsPrefillThenPullThenDecode) {
  const SimResult r =
      run(cluster(1, 1, "pd"), workload_of({conversation(0, 0, {{.user_tokens = 100, .output_tokens = 4}})}));
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_DOUBLE_EQ(r.records[0].first_token_s, 0.002057);
  EXPECT_DOUBLE_EQ(r.records[0].end_s, 0.002057 + 3 * 0.0011);
  EXPECT_EQ(r.router.remote_decisions, 1);
  EXPECT_EQ(r.router.kv_transfer_bytes, 7000);
}

// Pins fill the prefill node's pool: the third request waits there until a pull ends and its
// pin drops, and then the node steps again (it used to stay idle: "simulation stalled").
TEST(ClusterTest, APrefillNodeFullOfPinsResumesWhenAPullEnds) {
  ClusterOptions o = cluster(1, 1, "pd");
  o.node.kv_cache.num_blocks = 16;  // two 100-token prompts (7 blocks each) pinned fill it
  o.link = {.bytes_per_s = 1e6, .latency_ns = 0};
  const workload::Turn t{.user_tokens = 100, .output_tokens = 2};
  const SimResult r = run(o, workload_of({conversation(0, 0, {t}), conversation(1, 0, {t}), conversation(2, 0, {t})}));
  ASSERT_EQ(r.records.size(), 3u);
  for (const stats::RequestRecord& rec : r.records) EXPECT_TRUE(rec.ok) << rec.error;
}

// Two pulls at once into one decode node share its link: each takes twice as long.
TEST(ClusterTest, TwoPullsIntoOneDecodeNodeShareItsLink) {
  ClusterOptions o = cluster(2, 1, "pd");
  o.link = {.bytes_per_s = 1e6, .latency_ns = 0};
  const workload::Turn t{.user_tokens = 100, .output_tokens = 2};
  const SimResult r = run(o, workload_of({conversation(0, 0, {t}), conversation(1, 0, {t})}));
  ASSERT_EQ(r.records.size(), 2u);
  for (const stats::RequestRecord& rec : r.records) EXPECT_DOUBLE_EQ(rec.first_token_s, 0.002 + 2 * 0.007);
}

// The router counts a request's prompt on its prefill node until the first token, as the real
// router does: B arrives while A decodes (A's first token at 2.057 ms, its last at 0.22 s), so
// the prefill node has nothing pending and the prefill-busy rule (over 50 tokens) must not
// send B local.
TEST(ClusterTest, ThePromptLeavesTheRoutersPrefillCountAtTheFirstToken) {
  ClusterOptions o = cluster(1, 1, "threshold");
  o.policy.threshold = {.max_local_prefill_tokens = 0, .max_prefill_queue_tokens = 50};
  const SimResult r = run(o, workload_of({conversation(0, 0, {{.user_tokens = 100, .output_tokens = 200}}),
                                          conversation(1, 0.1, {{.user_tokens = 100, .output_tokens = 4}})}));
  ASSERT_EQ(r.records.size(), 2u);
  const stats::RequestRecord& a = r.records[0].conversation_id == 0 ? r.records[0] : r.records[1];
  EXPECT_LT(a.first_token_s, 0.1);
  EXPECT_GT(a.end_s, 0.1);
  EXPECT_EQ(r.router.remote_decisions, 2);
  EXPECT_EQ(r.router.local_decisions, 0);
}

const workload::Workload kTwoTurns = workload_of(
    {conversation(0, 0, {{.user_tokens = 100, .output_tokens = 20}, {.user_tokens = 30, .output_tokens = 5}})});

// Turn 2 under `local` append-prefills on the decode node, which caches turn 1's prompt and
// every answer token but the last: 119 tokens, 7 full blocks.
TEST(ClusterTest, TheSecondTurnHitsTheDecodeNodesPrefixCache) {
  const SimResult r = run(cluster(1, 1, "local"), kTwoTurns);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[1].turn, 2);
  EXPECT_EQ(r.records[1].prompt_tokens, 150);
  EXPECT_EQ(r.records[1].cached_tokens, 112);
  EXPECT_EQ(r.router.remote_decisions, 1);
  EXPECT_EQ(r.router.local_decisions, 1);
  EXPECT_EQ(r.router.prefix_hit_tokens_local, 112);
  EXPECT_EQ(r.router.kv_transfer_bytes, 7000);  // turn 1 only
}

// Delta transfer pulls only the blocks the decode node lacks on turn 2 (3 of 10); full
// transfer pulls all 10.
TEST(ClusterTest, DeltaTransferPullsOnlyMissingBlocks) {
  ClusterOptions o = cluster(1, 1, "pd");
  EXPECT_EQ(run(o, kTwoTurns).router.kv_transfer_bytes, 10'000);
  o.policy.pd.transfer = routing::TransferMode::kFull;
  EXPECT_EQ(run(o, kTwoTurns).router.kv_transfer_bytes, 17'000);
}

TEST(ClusterTest, ThinkTimeDelaysTheNextTurn) {
  workload::Workload w = kTwoTurns;
  w.conversations[0].turns[1].think_time_s = 1.5;
  const SimResult r = run(cluster(0, 1, "ppd"), w);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_DOUBLE_EQ(r.records[1].send_s, r.records[0].end_s + 1.5);
}

workload::Workload paper(int n, double rate, uint64_t seed) {
  Result<workload::Workload> w = workload::make_paper_workload({.scale = 0.25, .num_conversations = n, .seed = seed});
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE(workload::assign_poisson_arrivals(rate, seed, &*w).ok());
  return *w;
}

TEST(ClusterTest, SameInputsSameRecords) {
  const ClusterOptions o = cluster(1, 2, "ppd");
  const SimResult a = run(o, paper(40, 4, 1));
  const SimResult b = run(o, paper(40, 4, 1));
  EXPECT_EQ(a.records.size(), 80u);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.num_events, b.num_events);
  EXPECT_NE(a.records, run(o, paper(40, 4, 2)).records);
}

TEST(ClusterTest, EveryPolicyServesEveryTurn) {
  for (const char* policy : {"pd", "local", "threshold", "ppd"}) {
    const SimResult r = run(cluster(2, 2, policy), paper(30, 8, 3));
    ASSERT_EQ(r.records.size(), 60u) << policy;
    for (const stats::RequestRecord& rec : r.records) EXPECT_TRUE(rec.ok) << policy << ": " << rec.error;
  }
}

// A request that can never fit a node's cache fails on its own, ends its conversation, and
// the others go on; the run ends with no block left referenced.
TEST(ClusterTest, ARequestThatNeverFitsFailsAlone) {
  const workload::Workload w = workload_of(
      {conversation(0, 0, {{.user_tokens = 5000, .output_tokens = 4}, {.user_tokens = 10, .output_tokens = 4}}),
       conversation(1, 0, {{.user_tokens = 50, .output_tokens = 4}})});
  for (const char* policy : {"pd", "local"}) {
    const SimResult r = run(cluster(1, 1, policy), w);
    ASSERT_EQ(r.records.size(), 2u) << policy;
    EXPECT_FALSE(r.records[0].ok);
    EXPECT_NE(r.records[0].error.find("never fit the KV cache of 256 blocks"), std::string::npos) << r.records[0].error;
    EXPECT_TRUE(r.records[1].ok);
    EXPECT_EQ(r.num_skipped_turns, 1);
  }
}

TEST(ClusterTest, WarmupAndDurationAreTheLoadGeneratorsRules) {
  workload::Workload w = workload_of({conversation(0, 0, {{.user_tokens = 10, .output_tokens = 2}}),
                                      conversation(1, 1, {{.user_tokens = 10, .output_tokens = 2}}),
                                      conversation(2, 5, {{.user_tokens = 10, .output_tokens = 2}})});
  const SimResult r = run(cluster(0, 1, "ppd"), w, {.num_warmup_conversations = 1, .duration_s = 2});
  EXPECT_EQ(r.num_warmup_requests, 1);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].conversation_id, 1);
  EXPECT_EQ(r.num_skipped_turns, 1);
}

TEST(ClusterTest, BadOptionsNameTheField) {
  const LinearCost cost;
  const workload::Workload w = kTwoTurns;
  ClusterOptions o = cluster(1, 0, "ppd");
  EXPECT_EQ(simulate_cluster(o, cost, w, {}).status().message(), "num_decode: must be >= 1; got 0");
  o = cluster(1, 1, "fastest");
  EXPECT_NE(simulate_cluster(o, cost, w, {}).status().message().find("unknown \"fastest\""), std::string::npos);
  o = cluster(1, 1, "ppd");
  o.link.bytes_per_s = 0;
  EXPECT_NE(simulate_cluster(o, cost, w, {}).status().message().find("bytes_per_s"), std::string::npos);
  EXPECT_EQ(simulate_cluster(cluster(1, 1, "ppd"), cost, w, {.duration_s = -1}).status().message(),
            "duration_s: must be >= 0; got -1");
  EXPECT_EQ(simulate_cluster(cluster(1, 1, "ppd"), cost, w, {.duration_s = std::nan("")}).status().message(),
            "duration_s: must be >= 0; got nan");
}

}  // namespace
}  // namespace ppd::sim
