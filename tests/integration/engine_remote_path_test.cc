// The engine's remote path: a prefill engine computes a prompt and holds its blocks; a
// decode engine imports them (every block, or only those it lacks) and decodes. The tokens
// equal a local run of the same request, for greedy and seeded sampling, and no block leaks
// on either side whether the import finishes, is aborted, or the pinned request is released.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "engine_test_util.h"
#include "ppd/model/model_config.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

using engine::Engine;

request::SamplingParams seeded(int max_tokens) {
  request::SamplingParams p;
  p.max_tokens = max_tokens;
  p.temperature = 0.8f;
  p.top_k = 20;
  p.seed = 1234;
  return p;
}

// Prefill-only copy of `params`: one output token, blocks pinned.
engine::RequestSpec prefill_spec(const std::vector<TokenId>& prompt, request::SamplingParams params) {
  params.max_tokens = 1;
  params.min_tokens = std::min(params.min_tokens, 1);
  return {.prompt = prompt, .params = params, .blocks_on_finish = sched::BlocksOnFinish::kPin};
}

RequestId run_prefill(Engine& p, const std::vector<TokenId>& prompt, const request::SamplingParams& params) {
  Result<RequestId> id = p.add_request(prefill_spec(prompt, params));
  EXPECT_TRUE(id.ok()) << id.status().to_string();
  run_all(p);
  return *id;
}

// Imports `pinned` into `d`, copying the blocks d asks for; returns d's completion and the
// number of blocks moved.
Completion import_and_decode(Engine& d, const engine::PinnedRequest& pinned, const std::vector<TokenId>& prompt,
                             request::SamplingParams params, sched::ImportMode mode, int* num_moved) {
  params.seed = pinned.sampling_seed;
  Result<engine::ImportTarget> target = d.begin_import(
      {.request = {.prompt = prompt, .params = params}, .first_token = pinned.first_token, .mode = mode});
  EXPECT_TRUE(target.ok()) << target.status().to_string();
  EXPECT_TRUE(d.check_invariants().ok());
  for (size_t i = 0; i < target->dest.size(); ++i) {
    const auto src = pinned.blocks[static_cast<size_t>(target->num_local_blocks) + i];
    std::memcpy(target->dest[i].data(), src.data(), src.size());
  }
  *num_moved = static_cast<int>(target->dest.size());
  Result<engine::RequestOutput> first = d.finish_import(target->id);
  EXPECT_TRUE(first.ok()) << first.status().to_string();
  Completion c;
  c.tokens.push_back(first->token);
  if (first->finish_reason == sched::FinishReason::kNone) {
    std::map<uint64_t, Completion> rest = run_all(d);
    const Completion& r = rest[target->id.value];
    c.tokens.insert(c.tokens.end(), r.tokens.begin(), r.tokens.end());
  }
  return c;
}

class RemotePathTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = std::string(GetParam()) == "tiny" ? tiny_model_dir() : tinystories_dir();
    if (dir_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
    vocab_ = model::load_model_config(dir_)->vocab_size;
  }
  std::string dir_;
  int vocab_ = 0;
};

// Turn 2 through a prefill engine, imported whole then as a delta, against the local path;
// all three engines keep their KV in `kv_dtype`.
void expect_remote_equals_local(const std::string& dir, int vocab, const std::string& kv_dtype) {
  engine::EngineOptions options = test_options();
  options.kv_dtype = kv_dtype;
  auto p = make_engine(dir, options);
  auto d = make_engine(dir, options);
  auto local = make_engine(dir, options);
  ASSERT_TRUE(p && d && local);
  const int vocab_ = vocab;
  const std::vector<TokenId> turn1 = random_tokens(7, 70, 3, vocab_);
  std::vector<TokenId> turn2 = turn1;
  const std::vector<TokenId> more = random_tokens(8, 29, 3, vocab_);
  turn2.insert(turn2.end(), more.begin(), more.end());
  // d holds turn 1 (as after a first turn); the local engine too.
  run_one(*d, turn1, greedy(1));
  run_one(*local, turn1, greedy(1));

  for (const request::SamplingParams& params : {greedy(24), seeded(24)}) {
    const Completion expected = run_one(*local, turn2, params);
    const RequestId pinned_id = run_prefill(*p, turn2, params);
    const std::optional<engine::PinnedRequest> pinned = p->pinned(pinned_id);
    ASSERT_TRUE(pinned.has_value());
    EXPECT_EQ(pinned->blocks.size(), 7u);        // 99 tokens in blocks of 16
    EXPECT_EQ(pinned->block_hashes.size(), 6u);  // full ones
    EXPECT_EQ(pinned->block_hashes, d->block_hashes(turn2));
    EXPECT_TRUE(p->check_invariants().ok());

    int moved = 0;
    const Completion full = import_and_decode(*d, *pinned, turn2, params, sched::ImportMode::kFull, &moved);
    EXPECT_EQ(moved, 7);
    EXPECT_EQ(full.tokens, expected.tokens);
    const Completion delta = import_and_decode(*d, *pinned, turn2, params, sched::ImportMode::kDelta, &moved);
    EXPECT_EQ(moved, 1);  // all full blocks are cached on d by now; the partial last one moves
    EXPECT_EQ(delta.tokens, expected.tokens);

    EXPECT_TRUE(p->unpin(pinned_id));
    EXPECT_FALSE(p->unpin(pinned_id));
    EXPECT_TRUE(p->check_invariants().ok());
    EXPECT_TRUE(d->check_invariants().ok());
  }
  EXPECT_EQ(p->num_allocatable_blocks(), 512);
  EXPECT_EQ(d->num_allocatable_blocks(), 512);
}

TEST_P(RemotePathTest, FullAndDeltaImportsDecodeLikeTheLocalPath) { expect_remote_equals_local(dir_, vocab_, "auto"); }

// Half-precision KV moves half the bytes, and the remote path still gives the local tokens.
TEST_P(RemotePathTest, HalfPrecisionKvImportsDecodeLikeTheLocalPath) {
  for (const char* kv_dtype : {"f16", "bf16"}) {
    SCOPED_TRACE(kv_dtype);
    expect_remote_equals_local(dir_, vocab_, kv_dtype);
  }
  engine::EngineOptions f32 = test_options(), f16 = test_options();
  f16.kv_dtype = "f16";
  EXPECT_EQ(make_engine(dir_, f32)->block_bytes(), 2 * make_engine(dir_, f16)->block_bytes());
}

// The step that finishes a pinned request hands its blocks out with its last output, the same
// ones pinned() gives later; a request that is not pinned carries none.
TEST_P(RemotePathTest, TheFinishingOutputCarriesThePinnedBlocks) {
  auto p = make_engine(dir_, test_options());
  const std::vector<TokenId> prompt = random_tokens(9, 40, 3, vocab_);
  Result<RequestId> pinned_id = p->add_request(prefill_spec(prompt, greedy(8)));
  Result<RequestId> plain_id = p->add_request({.prompt = prompt, .params = greedy(1)});
  ASSERT_TRUE(pinned_id.ok() && plain_id.ok());
  std::map<uint64_t, engine::RequestOutput> last;
  while (p->has_unfinished()) {
    for (engine::RequestOutput& out : p->step().outputs) {
      if (out.finish_reason != sched::FinishReason::kNone) last[out.id.value] = std::move(out);
    }
  }
  ASSERT_EQ(last.size(), 2u);
  const engine::RequestOutput& finished = last[pinned_id->value];
  ASSERT_NE(finished.pinned, nullptr);
  const std::optional<engine::PinnedRequest> later = p->pinned(*pinned_id);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(finished.pinned->first_token, finished.token);
  EXPECT_EQ(finished.pinned->block_ids, later->block_ids);
  EXPECT_EQ(finished.pinned->block_hashes, later->block_hashes);
  ASSERT_EQ(finished.pinned->blocks.size(), later->blocks.size());
  for (size_t i = 0; i < later->blocks.size(); ++i)
    EXPECT_EQ(finished.pinned->blocks[i].data(), later->blocks[i].data());
  EXPECT_EQ(last[plain_id->value].pinned, nullptr);
  EXPECT_TRUE(p->unpin(*pinned_id));
  EXPECT_TRUE(p->check_invariants().ok());
}

TEST_P(RemotePathTest, DeltaImportPullsOnlyTheBlocksTheDecodeNodeLacks) {
  auto p = make_engine(dir_, test_options());
  auto d = make_engine(dir_, test_options());
  const std::vector<TokenId> prompt = random_tokens(9, 100, 3, vocab_);
  run_one(*d, std::vector<TokenId>(prompt.begin(), prompt.begin() + 40), greedy(1));  // 2 full blocks cached
  const RequestId pinned_id = run_prefill(*p, prompt, greedy(8));
  int moved = 0;
  import_and_decode(*d, *p->pinned(pinned_id), prompt, greedy(8), sched::ImportMode::kDelta, &moved);
  EXPECT_EQ(moved, 7 - 2);
  EXPECT_TRUE(p->unpin(pinned_id));
}

TEST_P(RemotePathTest, AbortedImportAndAbortedPinnedRequestLeakNothing) {
  auto p = make_engine(dir_, test_options(64));
  auto d = make_engine(dir_, test_options(64));
  const std::vector<TokenId> prompt = random_tokens(10, 50, 3, vocab_);
  const RequestId pinned_id = run_prefill(*p, prompt, greedy(8));
  EXPECT_EQ(p->num_allocatable_blocks(), 64 - 4);  // 4 blocks pinned
  Result<engine::ImportTarget> target = d->begin_import(
      {.request = {.prompt = prompt, .params = greedy(8)}, .first_token = p->pinned(pinned_id)->first_token});
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(d->num_allocatable_blocks(), 64 - 4);
  EXPECT_TRUE(d->abort_request(target->id));
  EXPECT_EQ(d->finish_import(target->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(p->abort_request(pinned_id));
  EXPECT_FALSE(p->pinned(pinned_id).has_value());
  EXPECT_TRUE(p->check_invariants().ok());
  EXPECT_TRUE(d->check_invariants().ok());
  EXPECT_EQ(p->num_allocatable_blocks(), 64);
  EXPECT_EQ(d->num_allocatable_blocks(), 64);
}

TEST_P(RemotePathTest, ImportErrorsAreClear) {
  auto d = make_engine(dir_, test_options(8));
  const std::vector<TokenId> prompt = random_tokens(11, 40, 3, vocab_);
  Result<engine::ImportTarget> bad_token =
      d->begin_import({.request = {.prompt = prompt, .params = greedy(4)}, .first_token = vocab_});
  EXPECT_EQ(bad_token.status().to_string(),
            fmt::format("INVALID_ARGUMENT: first_token: must be in [0, {}); got {}", vocab_, vocab_));
  Result<engine::ImportTarget> big = d->begin_import(
      {.request = {.prompt = random_tokens(12, 100, 3, vocab_), .params = greedy(4)}, .first_token = 5});
  ASSERT_TRUE(big.ok());  // 7 of the 8 blocks
  Result<engine::ImportTarget> no_room =
      d->begin_import({.request = {.prompt = prompt, .params = greedy(4)}, .first_token = 5});
  EXPECT_EQ(no_room.status().to_string(), "RESOURCE_EXHAUSTED: kv import: 3 blocks needed, 1 allocatable");
  EXPECT_TRUE(d->check_invariants().ok());
  EXPECT_TRUE(d->abort_request(big->id));
  EXPECT_EQ(d->num_allocatable_blocks(), 8);
}

INSTANTIATE_TEST_SUITE_P(Models, RemotePathTest, ::testing::Values("tiny", "tinystories"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace ppd::testing
