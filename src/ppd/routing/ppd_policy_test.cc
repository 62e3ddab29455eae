#include <gtest/gtest.h>

#include "ppd/kv/block_hash.h"
#include "ppd/routing/cost_model.h"

namespace ppd::routing {
namespace {

constexpr int kBlockSize = 16;
constexpr uint64_t kModel = 42;

// One prefill node (id 0) and one decode node (id 1), both healthy, with the same step
// model: 1 ms per step, 100 µs per prefill token, 200 µs per decode, 50 µs per 1k decode
// context, 10 µs per 10^6 prefill pairs.
struct OnePrefillOneDecode {
  ClusterView view;
  NodeId prefill, decode;
  OnePrefillOneDecode() {
    const StepTimeModelOptions model{.prior = {1000, 100, 200, 50, 10}};
    prefill = *view.add_node("p", NodeKind::kPrefill, model);
    decode = *view.add_node("d", NodeKind::kDecode, model);
    view.block_size = kBlockSize;
    view.block_bytes = 64 << 10;
    view.apply_load(prefill, {}, {}, 0);
    view.apply_load(decode, {}, {}, 0);
  }
  void decode_holds(const std::vector<BlockHash>& hashes, size_t num_blocks) {
    view.apply_kv_events(decode, std::span(hashes).first(num_blocks), {});
  }
};

struct Prompt {
  std::vector<TokenId> tokens;
  std::vector<BlockHash> hashes;
  explicit Prompt(int n) {
    for (int i = 0; i < n; ++i) tokens.push_back(i % 1000);
    hashes = kv::hash_full_blocks(kModel, tokens, kBlockSize);
  }
  RouteInput input(int history, int max_tokens) const {
    return RouteInput{.num_prompt_tokens = static_cast<int>(tokens.size()),
                      .block_hashes = hashes,
                      .num_history_tokens = history,
                      .num_new_tokens = static_cast<int>(tokens.size()) - history,
                      .max_tokens = max_tokens,
                      .turn = 2};
  }
};

std::unique_ptr<RoutingPolicy> ppd_policy(PpdPolicyOptions o = {}) { return std::move(make_ppd_policy(o)).value(); }

TEST(PpdPolicyTest, GoesRemoteWhenTheDecodeBatchIsSaturatedAndTheAppendLong) {
  OnePrefillOneDecode c;
  const Prompt prompt(2048);  // 1,024 cached on the decode node, 1,024 appended
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_waiting = 8, .num_running = 64, .num_pending_prefill_tokens = 2048, .mean_decode_context_tokens = 1500};
  const RouteDecision d = *ppd_policy()->route(c.view, prompt.input(1024, 32));
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "cost_model");
  EXPECT_EQ(d.num_decode_cached_tokens, 1024);
  ASSERT_TRUE(d.local && d.remote);
  EXPECT_GT(d.local->ttft_s, d.remote->ttft_s);
  EXPECT_GT(d.local->stall_tpot_s, 0);
  EXPECT_EQ(d.remote->stall_tpot_s, 0);
}

TEST(PpdPolicyTest, GoesLocalWhenTheLinkIsSlowAndTheAppendShort) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);  // 1,024 cached, 32 appended
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_running = 8, .transfer_bytes_per_s = 50e6, .mean_decode_context_tokens = 800};
  const RouteDecision d =
      *ppd_policy(PpdPolicyOptions{.transfer = TransferMode::kFull})->route(c.view, prompt.input(1024, 64));
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "cost_model");
  // Full transfer of 66 blocks of 64 KiB at 50 MB/s alone takes 86 ms.
  EXPECT_GT(d.remote->ttft_s, 66.0 * 65536 / 50e6);
  EXPECT_LT(d.local->ttft_s, 0.02);
}

TEST(PpdPolicyTest, PredictionsFollowTheStepModel) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_running = 4, .transfer_bytes_per_s = 1e9, .mean_decode_context_tokens = 1000};
  const RouteInput in = prompt.input(1024, 10);
  const Placement p = *place(c.view, in);
  // Local: half the decode step under way, then one chunk of 32 tokens after 1,024 beside 4
  // decodes holding 4,000 tokens. Its extra time over the decode step is added to each of the
  // 4 running requests' decode time; with no reservation to read, each is taken to answer 10
  // tokens like this one, so their TPOT grows by extra / 9 each.
  const double step_local = (1000 + 32 * 100 + 4 * 200 + 50 * 4.0 + 10 * prefill_pairs(32, 1024) / 1e6) * 1e-6;
  const double decode_only = (1000 + 4 * 200 + 50 * 4.0) * 1e-6;
  const double tpot = (1000 + 5 * 200 + 50 * (4000 + 1056) / 1000.0) * 1e-6;  // this request joins the decodes
  const PathPrediction local = predict_local(c.view, p, in);
  EXPECT_NEAR(local.ttft_s, 0.5 * decode_only + step_local, 1e-9);
  EXPECT_NEAR(local.tpot_s, tpot, 1e-9);
  EXPECT_NEAR(local.stall_tpot_s, (step_local - decode_only) * 4 / 9, 1e-9);
  // Remote: the prefill node computes all 1,056 tokens in chunks of 512, 512 and 32, then
  // 2 blocks (delta) move at 1 GB/s, plus latency; the import starts and ends between two
  // decode steps, half a step each.
  const PathPrediction remote = predict_remote(c.view, p, in, PpdPolicyOptions{});
  double prefill = 0;
  for (auto [n, before] : {std::pair{512, 0}, std::pair{512, 512}, std::pair{32, 1024}}) {
    prefill += (1000 + 100.0 * n + 10 * prefill_pairs(n, before) / 1e6) * 1e-6;
  }
  EXPECT_NEAR(remote.ttft_s, prefill + 2.0 * 65536 / 1e9 + 0.0005 + decode_only, 1e-9);
  EXPECT_NEAR(remote.tpot_s, tpot, 1e-9);
  EXPECT_EQ(remote.stall_tpot_s, 0);
}

// A turn that follows its session's previous answer on the same node arrives just after that
// answer's last step ended and the next began: it waits for what is left of that step, and
// on the remote path the import starts and ends on the node's step boundaries.
TEST(PpdPolicyTest, AFollowingTurnKnowsTheDecodeNodesStepPhase) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_running = 4, .transfer_bytes_per_s = 1e9, .mean_decode_context_tokens = 1000};
  RouteInput in = prompt.input(1024, 10);
  in.session_decode = c.decode;
  in.since_session_answer_s = 0.0005;  // half a millisecond after the answer
  const Placement p = *place(c.view, in);
  const double decode_only = (1000 + 4 * 200 + 50 * 4.0) * 1e-6;  // 2 ms steps
  const double step_local = (1000 + 32 * 100 + 4 * 200 + 50 * 4.0 + 10 * prefill_pairs(32, 1024) / 1e6) * 1e-6;
  EXPECT_NEAR(predict_local(c.view, p, in).ttft_s, decode_only - 0.0005 + step_local, 1e-9);
  // Remote: 108.6 ms of prefill, predicted within 10%, may end before any of the boundaries
  // around it (1.5 + 2k ms): the import starts half a step later on average; its 131 µs pull
  // then ends at the next boundary, one whole step on.
  double prefill = 0;
  for (auto [n, before] : {std::pair{512, 0}, std::pair{512, 512}, std::pair{32, 1024}}) {
    prefill += (1000 + 100.0 * n + 10 * prefill_pairs(n, before) / 1e6) * 1e-6;
  }
  EXPECT_NEAR(predict_remote(c.view, p, in, {}).ttft_s, prefill + 0.5 * decode_only + decode_only, 1e-5);
  // A short prefill (32 tokens on a cached prefix: 4.2 ms) ends between the boundaries at 3.5
  // and 5.5 ms, nearer the later: the import starts at about 5.4 ms and ends a step later.
  c.view.apply_kv_events(c.prefill, std::span(prompt.hashes).first(64), {});
  const Placement cached = *place(c.view, in);
  ASSERT_EQ(cached.num_prefill_cached_tokens, 1024);
  EXPECT_NEAR(predict_remote(c.view, cached, in, {}).ttft_s, 0.0054 + decode_only, 1e-4);
  // Long after the answer the phase is lost: half a step on average again.
  in.since_session_answer_s = 1.0;
  EXPECT_NEAR(predict_local(c.view, p, in).ttft_s, 0.5 * decode_only + step_local, 1e-9);
}

// The prefills already queued on a node share its steps with this one: 32 queued tokens and
// 32 of its own make one 64-token chunk, not two steps.
TEST(PpdPolicyTest, QueuedPrefillsShareTheSteps) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_running = 4, .num_pending_prefill_tokens = 32, .mean_decode_context_tokens = 1000};
  const RouteInput in = prompt.input(1024, 10);
  const PathPrediction local = predict_local(c.view, *place(c.view, in), in);
  const double decode_only = (1000 + 4 * 200 + 50 * 4.0) * 1e-6;
  const double step = (1000 + 64 * 100 + 4 * 200 + 50 * 4.0 + 10 * prefill_pairs(64, 1024) / 1e6) * 1e-6;
  EXPECT_NEAR(local.ttft_s, 0.5 * decode_only + step, 1e-9);
  // The stall is what this request adds: its own 32 tokens' share of the step's extra time.
  const double queued_alone = (32 * 100 + 10 * prefill_pairs(32, 0) / 1e6) * 1e-6;
  EXPECT_NEAR(local.stall_tpot_s, (step - decode_only - queued_alone) * 4 / 9, 1e-9);
}

// A decode node running max_num_running requests admits a waiting one only as its decodes
// finish (Σ 1/(outputs − 1) to a step); an import is not held to that limit, only to free
// blocks.
TEST(PpdPolicyTest, AFullDecodeNodeMakesItsNewRequestsWait) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  NodeState& d = c.view.mutable_node(c.decode);
  d.limits.max_num_running = 8;
  d.load = {.num_waiting = 2,
            .num_running = 8,
            .num_free_blocks = 100000,
            .transfer_bytes_per_s = 1e9,
            .mean_decode_context_tokens = 1000};
  const RouteInput in = prompt.input(1024, 10);  // the others' outputs stand in: 9 after the first
  const Placement p = *place(c.view, in);
  const PathPrediction full = predict_local(c.view, p, in);
  const PathPrediction remote_full = predict_remote(c.view, p, in, {});
  d.limits.max_num_running = 256;
  const PathPrediction roomy = predict_local(c.view, p, in);
  const double step = (1000 + 8 * 200 + 50 * 8.0) * 1e-6;
  // 8 + 2 waiting + this one − 8 slots: 3 finishes at 8/9 a step.
  EXPECT_NEAR(full.ttft_s - roomy.ttft_s, 3 / (8.0 / 9) * step, 1e-9);
  EXPECT_NEAR(predict_remote(c.view, p, in, {}).ttft_s, remote_full.ttft_s, 1e-12);
  // With long outputs the decodes finish slowly: 3 finishes take seconds, more than the
  // remote path's prefill.
  const RouteInput long_outputs = prompt.input(1024, 4097);
  EXPECT_EQ(ppd_policy()->route(c.view, long_outputs)->path, Path::kLocal);
  d.limits.max_num_running = 8;
  EXPECT_EQ(ppd_policy()->route(c.view, long_outputs)->path, Path::kRemote);

  // Too few free blocks for a full import (66 blocks, 2 free): it waits until the decodes
  // free them, each finish freeing 1000 / 16 blocks.
  const PpdPolicyOptions full_transfer{.transfer = TransferMode::kFull};
  d.load.num_free_blocks = 2;
  const double wait = (66 - 2) / (1000.0 / 16) / (8.0 / 4096) * step;
  EXPECT_GE(predict_remote(c.view, p, long_outputs, full_transfer).ttft_s, wait);
  d.load.num_free_blocks = -1;  // not reported: no wait
  EXPECT_LT(predict_remote(c.view, p, long_outputs, full_transfer).ttft_s, wait);
}

// The stall reaches every running request on the node, in proportion to 1 / (outputs - 1)
// of each, as the router's reservations record them.
TEST(PpdPolicyTest, TheStallCountsEveryRunningRequest) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  const RouteInput in = prompt.input(1024, 10);
  c.view.mutable_node(c.decode).load = {.num_running = 4, .mean_decode_context_tokens = 1000};
  NodeState& d = c.view.mutable_node(c.decode);
  d.num_router_active = d.num_router_decoding = 4;
  d.router_inverse_outputs = 4.0 / 99;  // four requests of 100 outputs
  const double few = predict_local(c.view, *place(c.view, in), in).stall_tpot_s;
  d.num_router_active = d.num_router_decoding = 2;  // the node runs 4, the router sent 2 of them: they count twice
  d.router_inverse_outputs = 2.0 / 99;
  EXPECT_NEAR(predict_local(c.view, *place(c.view, in), in).stall_tpot_s, few, 1e-12);
  c.view.mutable_node(c.decode).load.num_running = 40;
  d.num_router_active = d.num_router_decoding = 40;
  d.router_inverse_outputs = 40.0 / 99;
  const PathPrediction many = predict_local(c.view, *place(c.view, in), in);
  EXPECT_GT(many.stall_tpot_s, 9 * few);  // ten times the requests (and a longer context in the step)
  // The weighted model charges it: the local path's advantage shrinks.
  const PathPrediction remote = predict_remote(c.view, *place(c.view, in), in, {});
  PathPrediction less = many;
  less.stall_tpot_s = few;
  EXPECT_LT(local_advantage(many, remote, {}), local_advantage(less, remote, {}));
}

TEST(PpdPolicyTest, SloModeOverridesTheWeights) {
  OnePrefillOneDecode c;
  const Prompt prompt(1056);
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {.num_running = 4, .mean_decode_context_tokens = 1000};
  // With no weight on TTFT the cost model always prefers remote (local only adds stall) ...
  EXPECT_EQ(ppd_policy({.w_ttft = 0})->route(c.view, prompt.input(1024, 64))->path, Path::kRemote);
  // ... but remote cannot meet a 20 ms TTFT (about 110 ms of prefill) and local can.
  const RouteDecision d = *ppd_policy({.w_ttft = 0, .slo_ttft_s = 0.02})->route(c.view, prompt.input(1024, 64));
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "slo");
  // Both meet a loose pair: the weights decide.
  EXPECT_EQ(
      ppd_policy({.w_ttft = 0, .slo_ttft_s = 10, .slo_tpot_s = 10})->route(c.view, prompt.input(1024, 64))->reason,
      "cost_model");
}

// SLO mode counts the running requests the stall would push past the TPOT SLO: a local path
// that meets this request's SLOs but breaks 40 others' loses to a remote one that misses its
// own TTFT.
TEST(PpdPolicyTest, SloModeSparesTheOtherRequestsTpot) {
  OnePrefillOneDecode c;
  const Prompt prompt(3072);  // 1,024 cached, 2,048 appended: about 205 ms of extra step time
  c.decode_holds(prompt.hashes, 64);
  c.view.mutable_node(c.decode).load = {
      .num_running = 40, .mean_decode_context_tokens = 1000, .mean_decode_step_s = 0.011};
  NodeState& d = c.view.mutable_node(c.decode);
  d.num_router_active = d.num_router_decoding = 40;
  d.router_inverse_outputs = 40.0 / 63;  // 64 outputs each: the stall adds ~3 ms to their TPOT
  const RouteInput in = prompt.input(1024, 64);
  const PpdPolicyOptions slo{.w_tpot = 0, .slo_ttft_s = 0.28, .slo_tpot_s = 0.013};
  const RouteDecision dec = *ppd_policy(slo)->route(c.view, in);
  ASSERT_TRUE(dec.local && dec.remote);
  EXPECT_LT(dec.local->ttft_s, 0.28);
  EXPECT_GT(dec.remote->ttft_s, 0.28);
  EXPECT_EQ(dec.path, Path::kRemote);
  EXPECT_EQ(dec.reason, "slo");
  const Placement p = *place(c.view, in);
  EXPECT_GT(expected_slo_misses(c.view, p, in, *dec.local, slo), 10);
  EXPECT_LT(expected_slo_misses(c.view, p, in, *dec.remote, slo), 1);
}

TEST(PpdPolicyTest, TurnOneIsRemoteAndNoPrefillNodeMeansLocal) {
  OnePrefillOneDecode c;
  const Prompt prompt(100);
  RouteInput in = prompt.input(0, 16);
  in.turn = 1;
  RouteDecision d = *ppd_policy()->route(c.view, in);
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "turn1");
  EXPECT_EQ(d.prefill, c.prefill);
  c.view.mutable_node(c.prefill).healthy = false;
  d = *ppd_policy()->route(c.view, in);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "no_prefill");
  c.view.mutable_node(c.decode).healthy = false;
  const Result<RouteDecision> none = ppd_policy()->route(c.view, in);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(none.status().message(), "no healthy decode node");
}

// In SLO mode turn 1 is decided too: a backed-up prefill node sends it to an idle decode
// node, but only when that saves clearly more than a tie of expected misses.
TEST(PpdPolicyTest, SloModePrefillsTurnOneLocallyWhenThePrefillNodeIsBackedUp) {
  OnePrefillOneDecode c;
  const Prompt prompt(256);
  RouteInput in = prompt.input(0, 16);
  in.turn = 1;
  const PpdPolicyOptions slo{.slo_ttft_s = 0.1, .slo_tpot_s = 0.01};
  RouteDecision d = *ppd_policy(slo)->route(c.view, in);  // both meet: remote, as without SLOs
  EXPECT_EQ(d.path, Path::kRemote);
  EXPECT_EQ(d.reason, "turn1");
  // 4096 tokens queued on P: about 0.4 s before this prompt's turn, against 26 ms on D.
  c.view.mutable_node(c.prefill).load.num_pending_prefill_tokens = 4096;
  d = *ppd_policy(slo)->route(c.view, in);
  EXPECT_EQ(d.path, Path::kLocal);
  EXPECT_EQ(d.reason, "slo_turn1");
  EXPECT_EQ(ppd_policy()->route(c.view, in)->path, Path::kRemote);  // the weights never take turn 1 local
}

TEST(PpdPolicyTest, RejectsBadOptions) {
  EXPECT_EQ(make_ppd_policy({.w_ttft = -1}).status().message(), "router.ppd.w_ttft: must be >= 0; got -1");
  EXPECT_EQ(make_ppd_policy({.slo_ttft_s = 0.0}).status().message(), "router.slo_ttft_ms: must be > 0; got 0");
  EXPECT_EQ(make_ppd_policy({.slo_sigma = 0}).status().message(), "router.ppd.slo_sigma: must be > 0; got 0");
  EXPECT_EQ(make_ppd_policy({.slo_tpot_sigma = -1}).status().message(),
            "router.ppd.slo_tpot_sigma: must be > 0; got -1");
}

}  // namespace
}  // namespace ppd::routing
