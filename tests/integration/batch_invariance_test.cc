// Batch invariance and preemption at the engine level: a request's output does not depend
// on what else shares its steps, and a pool too small for the load still completes every
// request with the output of an unconstrained run.
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "ppd/model/model_config.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

int vocab_of(const std::string& dir) {
  Result<model::ModelConfig> config = model::load_model_config(dir);
  EXPECT_TRUE(config.ok());
  return config.ok() ? config->vocab_size : 0;
}

request::SamplingParams seeded(int max_tokens, uint64_t seed) {
  request::SamplingParams p;
  p.temperature = 0.8;
  p.top_p = 0.9;
  p.top_k = 50;
  p.seed = seed;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

class BatchInvarianceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = GetParam() == "tiny" ? tiny_model_dir() : tinystories_dir();
    if (dir_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
    vocab_ = vocab_of(dir_);
  }
  std::string dir_;
  int vocab_ = 0;
};

TEST_P(BatchInvarianceTest, AloneEqualsInABatchOf32WithPrefills) {
  const std::vector<TokenId> greedy_prompt = random_tokens(100, 40, 3, vocab_);
  const std::vector<TokenId> sampled_prompt = random_tokens(101, 25, 3, vocab_);
  constexpr int kOutput = 48;
  Completion alone_greedy, alone_sampled;
  {
    auto engine = make_engine(dir_, test_options(1024));
    alone_greedy = run_one(*engine, greedy_prompt, greedy(kOutput, true));
    alone_sampled = run_one(*engine, sampled_prompt, seeded(kOutput, 42));
  }

  engine::EngineOptions options = test_options(1024);
  options.scheduler.max_num_batched_tokens = 160;  // prefills arrive in chunks beside decodes
  auto engine = make_engine(dir_, options);
  ASSERT_NE(engine, nullptr);
  const RequestId greedy_id = *engine->add_request({.prompt = greedy_prompt, .params = greedy(kOutput, true)});
  const RequestId sampled_id = *engine->add_request({.prompt = sampled_prompt, .params = seeded(kOutput, 42)});
  for (int i = 0; i < 30; ++i) {  // 32 requests decode together once these are prefilled
    ASSERT_TRUE(
        engine->add_request({.prompt = random_tokens(200 + i, 20 + (i * 37) % 180, 3, vocab_), .params = greedy(60)})
            .ok());
  }
  std::map<uint64_t, Completion> done;
  int full_mixed_steps = 0;  // steps where the greedy request sampled beside 31 decodes and a prefill
  for (int step = 0; engine->has_unfinished(); ++step) {
    if (step >= 30 && step < 40 && step % 3 == 0) {  // late arrivals: prefills beside 32 decodes
      ASSERT_TRUE(engine->add_request({.prompt = random_tokens(300 + step, 150, 3, vocab_), .params = greedy(4)}).ok());
    }
    engine::StepResult r = engine->step();
    bool greedy_sampled = false;
    for (auto& out : r.outputs) {
      greedy_sampled |= out.id == greedy_id;
      done[out.id.value].tokens.push_back(out.token);
      if (!out.logits.empty()) done[out.id.value].logits.push_back(std::move(out.logits));
    }
    full_mixed_steps += greedy_sampled && r.stats.num_decode_sequences >= 32 && r.stats.num_prefill_tokens > 0;
    ASSERT_TRUE(engine->check_invariants().ok());
  }
  EXPECT_GE(full_mixed_steps, 3) << "the request never decoded in a batch of 32 beside prefills";
  EXPECT_EQ(done[greedy_id.value].tokens, alone_greedy.tokens);
  EXPECT_LE(max_abs_diff(done[greedy_id.value].logits, alone_greedy.logits), 1e-4f);
  EXPECT_EQ(done[sampled_id.value].tokens, alone_sampled.tokens);
  EXPECT_EQ(engine->num_allocatable_blocks(), 1024);
}

TEST_P(BatchInvarianceTest, TinyBlockBudgetPreemptsAndStillMatches) {
  std::vector<std::vector<TokenId>> prompts;
  for (int i = 0; i < 8; ++i) prompts.push_back(random_tokens(300 + i, 40 + 7 * i, 3, vocab_));
  auto run = [&](int num_blocks, int* preemptions) {
    auto engine = make_engine(dir_, test_options(num_blocks));
    std::vector<RequestId> ids;
    for (const auto& p : prompts) ids.push_back(*engine->add_request({.prompt = p, .params = greedy(24)}));
    std::map<uint64_t, std::vector<TokenId>> out;
    while (engine->has_unfinished()) {
      engine::StepResult r = engine->step();
      *preemptions += r.stats.num_preempted;
      for (auto& o : r.outputs) out[o.id.value].push_back(o.token);
      EXPECT_TRUE(engine->check_invariants().ok());
    }
    EXPECT_EQ(engine->num_allocatable_blocks(), num_blocks) << "blocks leaked";
    std::vector<std::vector<TokenId>> ordered;
    for (RequestId id : ids) ordered.push_back(out[id.value]);
    return ordered;
  };
  int roomy_preemptions = 0;
  int tight_preemptions = 0;
  const auto roomy = run(512, &roomy_preemptions);
  const auto tight = run(10, &tight_preemptions);  // 160 token slots for 8 requests of 64-113
  EXPECT_EQ(roomy_preemptions, 0);
  EXPECT_GT(tight_preemptions, 0);
  EXPECT_EQ(tight, roomy);
}

INSTANTIATE_TEST_SUITE_P(Models, BatchInvarianceTest, ::testing::Values("tiny", "tinystories"));

}  // namespace
}  // namespace ppd::testing
