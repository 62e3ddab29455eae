#include "ppd/sim/sim_node.h"

#include <gtest/gtest.h>

#include "ppd/kv/block_hash.h"
#include "ppd/sim/roofline_cost_model.h"

namespace ppd::sim {
namespace {

SimNodeOptions options(int max_prefill_tokens) {
  SimNodeOptions o;
  o.scheduler.max_num_batched_tokens = 4096;
  o.scheduler.max_prefill_tokens = max_prefill_tokens;
  o.kv_cache = {.num_blocks = 1024, .block_size = 16};
  o.vocab_size = 128256;
  return o;
}

std::vector<TokenId> prompt(int n, int salt) {
  std::vector<TokenId> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = simulated_token(RequestId{1000 + static_cast<uint64_t>(salt)}, i, 128256);
  return ids;
}

// Steps a lone request to its end; returns each step's duration.
std::vector<int64_t> run_alone(SimNode& node) {
  std::vector<int64_t> steps;
  while (node.has_work()) {
    const std::optional<int64_t> ns = node.begin_step();
    if (!ns) break;
    steps.push_back(*ns);
    node.end_step();
  }
  return steps;
}

// One request on an idle node takes exactly what the cost model says: its prefill chunks, then
// one decode step per further token at a context one longer each time.
TEST(SimNodeTest, OneRequestOnAnIdleNodeTakesWhatTheCostModelSays) {
  const RooflineCostModel cost(*hardware_preset("h100-80gb"), *model_shape_preset("llama-3.1-8b"));
  SimNode node(options(256), &cost);
  ASSERT_TRUE(node.add_request(RequestId{1}, prompt(600, 0), 4).ok());
  const std::vector<int64_t> steps = run_alone(node);
  const std::vector<int64_t> expected = {
      cost.step_time_ns({.prefill_chunks = {{.num_tokens = 256, .num_context_tokens = 0}}}),
      cost.step_time_ns({.prefill_chunks = {{.num_tokens = 256, .num_context_tokens = 256}}}),
      cost.step_time_ns({.prefill_chunks = {{.num_tokens = 88, .num_context_tokens = 512, .samples = true}}}),
      cost.step_time_ns({.decode_context_tokens = {601}}),
      cost.step_time_ns({.decode_context_tokens = {602}}),
      cost.step_time_ns({.decode_context_tokens = {603}}),
  };
  EXPECT_EQ(steps, expected);
  std::vector<std::unique_ptr<sched::Sequence>> done = node.take_finished();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]->num_output_tokens(), 4);
  EXPECT_TRUE(node.scheduler().check_invariants().ok());
}

// The next turn repeats the answer's tokens, so it finds the whole history cached and only the
// new message is prefilled (an append-prefill), as on a real decode node.
TEST(SimNodeTest, TheNextTurnHitsThePrefixCache) {
  const RooflineCostModel cost(*hardware_preset("h100-80gb"), *model_shape_preset("llama-3.1-8b"));
  SimNode node(options(2048), &cost);
  ASSERT_TRUE(node.add_request(RequestId{1}, prompt(320, 0), 33).ok());
  run_alone(node);
  std::vector<std::unique_ptr<sched::Sequence>> done = node.take_finished();
  ASSERT_EQ(done.size(), 1u);
  std::vector<TokenId> next(done[0]->tokens().begin(), done[0]->tokens().end());  // 353 tokens
  const std::vector<TokenId> message = prompt(40, 1);
  next.insert(next.end(), message.begin(), message.end());
  ASSERT_TRUE(node.add_request(RequestId{2}, next, 1).ok());
  ASSERT_TRUE(node.begin_step().has_value());
  // 352 of the 353 history tokens sit in 22 full blocks; the last one was never computed.
  ASSERT_EQ(node.last_shape().prefill_chunks.size(), 1u);
  EXPECT_EQ(node.last_shape().prefill_chunks[0].num_context_tokens, 352);
  EXPECT_EQ(node.last_shape().prefill_chunks[0].num_tokens, 393 - 352);
  node.end_step();
}

// Hashes handed in with a prompt (the simulator's client computes them once) are the node's
// own: the next turn given them hits exactly the blocks it hits when the node hashes itself.
TEST(SimNodeTest, GivenPromptHashesMatchTheNodesOwn) {
  const RooflineCostModel cost(*hardware_preset("h100-80gb"), *model_shape_preset("llama-3.1-8b"));
  SimNode node(options(2048), &cost);
  const std::vector<TokenId> first = prompt(320, 0);
  const std::vector<BlockHash> hashes = kv::hash_full_blocks(0, first, 16);
  ASSERT_TRUE(node.add_request(RequestId{1}, first, 8, sched::BlocksOnFinish::kRelease, hashes).ok());
  run_alone(node);
  ASSERT_EQ(node.take_finished().size(), 1u);
  std::vector<TokenId> next = first;
  const std::vector<TokenId> message = prompt(40, 1);
  next.insert(next.end(), message.begin(), message.end());
  // Unhashed, this prompt hits the 20 blocks of the first; so it must with the given hashes.
  ASSERT_TRUE(
      node.add_request(RequestId{2}, next, 1, sched::BlocksOnFinish::kRelease, kv::hash_full_blocks(0, next, 16)).ok());
  ASSERT_TRUE(node.begin_step().has_value());
  ASSERT_EQ(node.last_shape().prefill_chunks.size(), 1u);
  EXPECT_EQ(node.last_shape().prefill_chunks[0].num_context_tokens, 320);
  node.end_step();
  EXPECT_TRUE(node.scheduler().check_invariants().ok());
}

TEST(SimNodeTest, BadRequestsAreErrors) {
  const RooflineCostModel cost(*hardware_preset("h100-80gb"), *model_shape_preset("llama-3.1-8b"));
  SimNode node(options(256), &cost);
  EXPECT_EQ(node.add_request(RequestId{1}, {}, 4).message(), "prompt: must not be empty; request 1");
  EXPECT_EQ(node.add_request(RequestId{2}, prompt(4, 0), 0).message(), "max_tokens: must be >= 1; got 0");
  EXPECT_EQ(node.add_request(RequestId{3}, prompt(20000, 0), 1).message(),
            "request 3: 20001 tokens never fit the KV cache of 1024 blocks");
}

}  // namespace
}  // namespace ppd::sim
