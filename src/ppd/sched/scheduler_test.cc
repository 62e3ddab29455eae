#include "ppd/sched/scheduler.h"

#include <map>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <xxhash.h>

namespace ppd::sched {
namespace {

using request::RequestLimits;
using request::resolve_max_tokens;
using request::SamplingParams;
using request::validate_request;

constexpr int kVocab = 50;
constexpr TokenId kEos = 0;

// A stand-in model: the next token is a pure function of all tokens so far, so a request
// recomputed after preemption must produce exactly the same output.
TokenId fake_next_token(std::span<const TokenId> tokens) {
  return static_cast<TokenId>(XXH3_64bits(tokens.data(), tokens.size_bytes()) % kVocab);
}

struct Harness {
  explicit Harness(int num_blocks, SchedulerOptions options = {}, int block_size = 4)
      : kv({.num_blocks = num_blocks, .block_size = block_size}), scheduler(options, &kv) {}

  void add(uint64_t id, std::vector<TokenId> prompt, SamplingParams params) {
    const RequestLimits limits{.max_model_len = 1 << 20, .vocab_size = kVocab};
    ASSERT_TRUE(validate_request(prompt, params, limits).ok());
    const int max_tokens = resolve_max_tokens(static_cast<int>(prompt.size()), params, limits);
    ASSERT_TRUE(scheduler.fits_cache(static_cast<int>(prompt.size()) + max_tokens));
    scheduler.add(std::make_unique<Sequence>(SequenceOptions{.id = RequestId{id},
                                                             .prompt = std::move(prompt),
                                                             .params = params,
                                                             .max_tokens = max_tokens,
                                                             .eos_token_ids = {kEos}}));
  }

  // One engine step with the fake model; checks invariants before and after.
  SchedulerOutput step() {
    EXPECT_TRUE(scheduler.check_invariants().ok()) << scheduler.check_invariants().to_string();
    SchedulerOutput out = scheduler.schedule();
    EXPECT_TRUE(scheduler.check_invariants().ok()) << scheduler.check_invariants().to_string();
    std::vector<TokenId> sampled;
    for (const ScheduledChunk& c : out.chunks) {
      EXPECT_EQ(c.first_position, c.sequence->num_computed_tokens()) << "chunks must be contiguous";
      if (c.samples()) sampled.push_back(fake_next_token(c.sequence->tokens()));
    }
    for (const SequenceUpdate& u : scheduler.update(out, sampled)) {
      if (u.token >= 0) outputs[u.id.value].push_back(u.token);
      if (u.finish_reason != FinishReason::kNone) reasons[u.id.value] = u.finish_reason;
    }
    EXPECT_TRUE(scheduler.check_invariants().ok()) << scheduler.check_invariants().to_string();
    for (auto& seq : scheduler.take_finished()) cached[seq->id().value] = seq->num_cached_prompt_tokens();
    return out;
  }

  int run_to_completion(int max_steps = 100000) {
    int steps = 0;
    while (scheduler.has_unfinished() && steps < max_steps) {
      step();
      ++steps;
    }
    return steps;
  }

  kv::KvCacheManager kv;
  Scheduler scheduler;
  std::map<uint64_t, std::vector<TokenId>> outputs;
  std::map<uint64_t, FinishReason> reasons;
  std::map<uint64_t, int> cached;
};

SamplingParams fixed_length(int n) {
  SamplingParams p;
  p.temperature = 0;
  p.max_tokens = n;
  p.ignore_eos = true;
  return p;
}

std::vector<TokenId> random_prompt(std::mt19937& rng, int len) {
  std::vector<TokenId> t(static_cast<size_t>(len));
  for (auto& x : t) x = 1 + static_cast<TokenId>(rng() % (kVocab - 1));
  return t;
}

class PreemptionTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(PreemptionTest, TinyBlockBudgetGivesTheSameOutputsAsAnUnconstrainedRun) {
  const uint32_t seed = GetParam();
  SCOPED_TRACE(::testing::Message() << "seed=" << seed);
  std::mt19937 rng(seed);
  SchedulerOptions options{.max_num_batched_tokens = 24, .max_prefill_tokens = 16, .max_num_running = 8};
  Harness roomy(4096, options);
  Harness tight(12, options);  // 48 token slots for up to 8 requests of up to 40 tokens
  const std::vector<TokenId> shared = random_prompt(rng, 9);
  for (uint64_t id = 1; id <= 24; ++id) {
    std::vector<TokenId> prompt = rng() % 2 ? shared : std::vector<TokenId>{};
    auto extra = random_prompt(rng, 1 + static_cast<int>(rng() % 14));
    prompt.insert(prompt.end(), extra.begin(), extra.end());
    const SamplingParams p = fixed_length(1 + static_cast<int>(rng() % 16));
    roomy.add(id, prompt, p);
    tight.add(id, prompt, p);
  }
  roomy.run_to_completion();
  const int steps = tight.run_to_completion();
  EXPECT_LT(steps, 100000) << "tight run did not finish";
  EXPECT_EQ(tight.outputs, roomy.outputs);
  EXPECT_EQ(tight.outputs.size(), 24u);
  EXPECT_EQ(tight.kv.num_allocatable_blocks(), 12) << "blocks leaked";
  EXPECT_EQ(roomy.kv.num_allocatable_blocks(), 4096) << "blocks leaked";
}

INSTANTIATE_TEST_SUITE_P(Seeds, PreemptionTest, ::testing::Values(11u, 12u, 13u, 14u, 15u, 16u));

TEST(SchedulerTest, PreemptionHappensUnderATinyBudget) {
  Harness h(6, {.max_num_batched_tokens = 64, .max_prefill_tokens = 64, .max_num_running = 4});
  std::mt19937 rng(3);
  for (uint64_t id = 1; id <= 3; ++id) h.add(id, random_prompt(rng, 6), fixed_length(10));
  int preemptions = 0;
  while (h.scheduler.has_unfinished()) preemptions += static_cast<int>(h.step().preempted.size());
  EXPECT_GT(preemptions, 0);
  EXPECT_EQ(h.outputs.size(), 3u);
  for (auto& [id, out] : h.outputs) EXPECT_EQ(out.size(), 10u) << id;
}

TEST(SchedulerTest, DecodesFirstAndBudgetsHold) {
  Harness h(256, {.max_num_batched_tokens = 10, .max_prefill_tokens = 6, .max_num_running = 16});
  std::mt19937 rng(1);
  h.add(1, random_prompt(rng, 3), fixed_length(20));
  h.step();  // request 1 prefilled; decoding from now on
  for (uint64_t id = 2; id <= 6; ++id) h.add(id, random_prompt(rng, 20), fixed_length(2));
  int steps_with_prefill = 0;
  for (int s = 0; s < 12; ++s) {
    ASSERT_TRUE(h.scheduler.check_invariants().ok());
    SchedulerOutput out = h.scheduler.schedule();
    EXPECT_LE(out.num_tokens(), 10);
    EXPECT_LE(out.num_prefill_tokens, 6);
    ASSERT_GE(out.num_decode_tokens, 1) << "the decoding request was starved at step " << s;
    EXPECT_EQ(out.chunks.front().sequence->id(), RequestId{1});
    std::vector<TokenId> sampled;
    for (size_t i = 0; i < out.chunks.size(); ++i) {
      const ScheduledChunk& c = out.chunks[i];
      const bool is_decode = i < static_cast<size_t>(out.num_decode_tokens);
      EXPECT_EQ(is_decode, c.sequence->num_pending_tokens() == 1) << "decode chunks come first";
      if (c.samples()) sampled.push_back(fake_next_token(c.sequence->tokens()));
    }
    steps_with_prefill += out.num_prefill_tokens > 0;
    h.scheduler.update(out, sampled);
  }
  EXPECT_GE(steps_with_prefill, 10) << "prefill chunks ran beside the decode";
}

TEST(SchedulerTest, SecondTurnHitsTheFirstTurnsBlocks) {
  Harness h(64, {}, 4);
  std::vector<TokenId> turn1 = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  h.add(1, turn1, fixed_length(6));
  h.run_to_completion();
  ASSERT_EQ(h.outputs[1].size(), 6u);
  EXPECT_EQ(h.cached[1], 0);
  // Turn 2 = turn 1's prompt + its answer + new tokens. 15 of those 16 tokens have KV
  // (the last sampled token was never fed back), so 3 full blocks of 4 match.
  std::vector<TokenId> turn2 = turn1;
  turn2.insert(turn2.end(), h.outputs[1].begin(), h.outputs[1].end());
  turn2.insert(turn2.end(), {21, 22, 23});
  h.add(2, turn2, fixed_length(2));
  h.run_to_completion();
  EXPECT_EQ(h.cached[2], 12);
}

TEST(SchedulerTest, StopConditions) {
  Harness h(64);
  // The fake model's tokens are fixed by the prompt; find a prompt whose first output is EOS.
  std::vector<TokenId> prompt = {1, 1};
  while (fake_next_token(prompt) != kEos) {
    if (++prompt[1] == kVocab) prompt = {prompt[0] + 1, 1};
  }
  SamplingParams greedy;
  greedy.temperature = 0;
  greedy.max_tokens = 5;
  h.add(1, prompt, greedy);
  SamplingParams at_least = greedy;
  at_least.min_tokens = 3;
  h.add(2, prompt, at_least);
  SamplingParams ignore = greedy;
  ignore.ignore_eos = true;
  h.add(3, prompt, ignore);
  h.run_to_completion();
  EXPECT_EQ(h.reasons[1], FinishReason::kStop);
  EXPECT_EQ(h.outputs[1].size(), 1u);
  EXPECT_EQ(h.outputs[3].size(), 5u);
  EXPECT_EQ(h.reasons[3], FinishReason::kLength);
  EXPECT_GE(h.outputs[2].size(), 3u);

  SamplingParams stop_on_second = fixed_length(5);
  std::vector<TokenId> p2 = {7, 7};
  std::vector<TokenId> seq = p2;
  seq.push_back(fake_next_token(seq));
  const TokenId second = fake_next_token(seq);
  stop_on_second.stop_token_ids = {second};
  h.add(4, p2, stop_on_second);
  h.run_to_completion();
  EXPECT_EQ(h.reasons[4], FinishReason::kStop);
  EXPECT_LE(h.outputs[4].size(), 2u);
  EXPECT_EQ(h.outputs[4].back(), second);
}

TEST(SchedulerTest, InvalidSampleFinishesTheRequestWithAnError) {
  Harness h(16);
  h.add(1, {1, 2, 3}, fixed_length(5));
  SchedulerOutput out = h.scheduler.schedule();
  const std::vector<TokenId> invalid = {kInvalidToken};
  const std::vector<SequenceUpdate> updates = h.scheduler.update(out, invalid);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].finish_reason, FinishReason::kError);
  EXPECT_FALSE(h.scheduler.has_unfinished());
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 16);
  auto finished = h.scheduler.take_finished();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]->num_output_tokens(), 0);
}

TEST(SchedulerTest, AbortReleasesBlocksAtAnyStage) {
  Harness h(32, {.max_num_batched_tokens = 4, .max_prefill_tokens = 4});
  std::mt19937 rng(2);
  h.add(1, random_prompt(rng, 30), fixed_length(4));
  h.add(2, random_prompt(rng, 5), fixed_length(4));
  h.step();  // 1 is mid-prefill, 2 waits
  EXPECT_EQ(h.scheduler.abort(RequestId{2})->finish_reason(), FinishReason::kAbort);
  EXPECT_EQ(h.scheduler.abort(RequestId{1})->finish_reason(), FinishReason::kAbort);
  EXPECT_EQ(h.scheduler.abort(RequestId{1}), nullptr);
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 32);
  EXPECT_FALSE(h.scheduler.has_unfinished());
}

TEST(SchedulerTest, PinnedRequestKeepsItsBlocksUntilUnpinned) {
  Harness h(16);
  h.scheduler.add(std::make_unique<Sequence>(SequenceOptions{.id = RequestId{1},
                                                             .prompt = {5, 6, 7, 8, 9, 10},
                                                             .max_tokens = 1,
                                                             .eos_token_ids = {kEos},
                                                             .blocks_on_finish = BlocksOnFinish::kPin}));
  h.run_to_completion();
  ASSERT_NE(h.scheduler.find(RequestId{1}), nullptr);
  EXPECT_EQ(h.scheduler.find(RequestId{1})->status(), SequenceStatus::kPinned);
  EXPECT_EQ(h.scheduler.pinned_ids(), std::vector<RequestId>{RequestId{1}});
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 14);  // 2 blocks pinned
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
  EXPECT_TRUE(h.scheduler.unpin(RequestId{1}));
  EXPECT_FALSE(h.scheduler.unpin(RequestId{1}));
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 16);
  EXPECT_EQ(h.kv.num_cached_blocks(), 1);  // the full block stays as cached prefix
}

// A waiting request counts as prefill to come less the prefix the cache held when it was queued.
TEST(SchedulerTest, PendingPrefillLeavesOutTheCachedPrefix) {
  Harness h(16);
  h.add(1, {5, 6, 7, 8, 9, 10, 11, 12, 13}, fixed_length(1));
  h.run_to_completion();  // blocks [5..8] and [9..12] cached
  h.add(2, {5, 6, 7, 8, 9, 10, 11, 12, 20, 21}, fixed_length(1));
  EXPECT_EQ(h.scheduler.num_pending_prefill_tokens(), 2);
  h.add(3, {30, 31, 32}, fixed_length(1));
  EXPECT_EQ(h.scheduler.num_pending_prefill_tokens(), 2 + 3);
  h.add(4, {5, 6, 7, 8}, fixed_length(1));  // its whole prompt cached: the last token is computed
  EXPECT_EQ(h.scheduler.num_pending_prefill_tokens(), 2 + 3 + 4);
}

// Pins fill the pool: a waiting request gets an empty batch, the same at every try (nothing
// changes, so a caller may idle), and is admitted once unpin frees the blocks.
TEST(SchedulerTest, AnEmptyBatchRepeatsUntilAPinIsReleased) {
  Harness h(4);
  h.scheduler.add(std::make_unique<Sequence>(SequenceOptions{.id = RequestId{1},
                                                             .prompt = {5, 6, 7, 8, 9, 10, 11, 12, 13},
                                                             .max_tokens = 1,
                                                             .eos_token_ids = {kEos},
                                                             .blocks_on_finish = BlocksOnFinish::kPin}));
  h.run_to_completion();                                    // 3 of the 4 blocks pinned
  h.add(2, {20, 21, 22, 23, 24, 25, 26}, fixed_length(2));  // needs 3 blocks at admission
  for (int i = 0; i < 3; ++i) {
    const SchedulerOutput out = h.step();
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(out.preempted.empty());
    EXPECT_EQ(h.scheduler.num_waiting(), 1);
  }
  ASSERT_TRUE(h.scheduler.unpin(RequestId{1}));
  EXPECT_FALSE(h.step().empty());
  h.run_to_completion();
  EXPECT_EQ(h.outputs[2].size(), 2u);
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 4);
}

TEST(SchedulerTest, ImportUsesLocalBlocksThenRunsFromTheFirstToken) {
  Harness h(16);
  h.add(1, {5, 6, 7, 8, 9, 10, 11, 12, 13}, {.max_tokens = 1});
  h.run_to_completion();  // blocks [5..8] and [9..12] cached
  const std::vector<TokenId> prompt = {5, 6, 7, 8, 9, 10, 11, 12, 20, 21};
  auto make = [&](uint64_t id) {
    return std::make_unique<Sequence>(
        SequenceOptions{.id = RequestId{id}, .prompt = prompt, .max_tokens = 4, .eos_token_ids = {kEos}});
  };
  Result<int> delta = h.scheduler.add_importing(make(2), ImportMode::kDelta);
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(*delta, 2);
  Result<int> full = h.scheduler.add_importing(make(3), ImportMode::kFull);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, 0);
  EXPECT_TRUE(h.scheduler.check_invariants().ok()) << h.scheduler.check_invariants().to_string();
  EXPECT_EQ(h.scheduler.find(RequestId{2})->num_cached_prompt_tokens(), 8);
  EXPECT_EQ(h.scheduler.finish_import(RequestId{2}, 30), FinishReason::kNone);
  EXPECT_NE(h.scheduler.abort(RequestId{3}), nullptr);
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
  const SchedulerOutput out = h.step();  // request 2 decodes its first token at once
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].first_position, 10);
  EXPECT_EQ(out.num_decode_tokens, 1);
  h.run_to_completion();
  EXPECT_EQ(h.outputs[2].size(), 3u);  // 30 came from the prefill node; 3 more here
  EXPECT_EQ(h.kv.num_allocatable_blocks(), 16);
}

TEST(SchedulerTest, ImportWithoutRoomIsRefusedAndHoldsNothing) {
  Harness h(2);
  Result<int> r = h.scheduler.add_importing(
      std::make_unique<Sequence>(SequenceOptions{
          .id = RequestId{1}, .prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9}, .max_tokens = 1, .eos_token_ids = {kEos}}),
      ImportMode::kDelta);
  EXPECT_EQ(r.status().to_string(), "RESOURCE_EXHAUSTED: kv import: 3 blocks needed, 2 allocatable");
  EXPECT_EQ(h.scheduler.find(RequestId{1}), nullptr);
  EXPECT_TRUE(h.scheduler.check_invariants().ok());
}

TEST(ValidateRequestTest, MessagesNameFieldRuleAndValue) {
  const RequestLimits limits{.max_model_len = 512, .vocab_size = 2048};
  const std::vector<TokenId> ten(10, 1);
  auto msg = [&](std::span<const TokenId> prompt, SamplingParams p) {
    return validate_request(prompt, p, limits).message();
  };
  SamplingParams p;
  EXPECT_EQ(msg(std::vector<TokenId>{}, p), "prompt: must hold at least 1 token; got 0");
  EXPECT_EQ(msg(std::vector<TokenId>(600, 1), p),
            "prompt: must be shorter than max_model_len 512 to leave room for output; got 600 tokens");
  EXPECT_EQ(msg(std::vector<TokenId>(512, 1), p),
            "prompt: must be shorter than max_model_len 512 to leave room for output; got 512 tokens");
  EXPECT_TRUE(validate_request(std::vector<TokenId>(511, 1), p, limits).ok());
  EXPECT_EQ(msg(std::vector<TokenId>{1, 2, 4096}, p),
            "prompt: token id 4096 at index 2 outside the vocabulary [0, 2048)");
  p.max_tokens = 0;
  EXPECT_EQ(msg(ten, p), "max_tokens: must be in [1, 502] for a 10-token prompt and max_model_len 512; got 0");
  p.max_tokens = 503;
  EXPECT_EQ(msg(ten, p), "max_tokens: must be in [1, 502] for a 10-token prompt and max_model_len 512; got 503");
  p = {};
  p.temperature = -0.5;
  EXPECT_EQ(msg(ten, p), "temperature: must be in [0, 2]; got -0.5");
  p = {};
  p.top_p = 0;
  EXPECT_EQ(msg(ten, p), "top_p: must be in (0, 1]; got 0");
  p = {};
  p.top_k = -3;
  EXPECT_EQ(msg(ten, p), "top_k: must be -1, 0 (off) or >= 1; got -3");
  p = {};
  p.max_tokens = 4;
  p.min_tokens = 5;
  EXPECT_EQ(msg(ten, p), "min_tokens: must be in [0, max_tokens = 4]; got 5");
  p = {};
  p.stop_token_ids = {2048};
  EXPECT_EQ(msg(ten, p), "stop_token_ids: id 2048 outside the vocabulary [0, 2048)");
  EXPECT_TRUE(validate_request(ten, SamplingParams{}, limits).ok());
}

}  // namespace
}  // namespace ppd::sched
