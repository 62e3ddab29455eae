// Append-prefill equivalence: the same prompt computed (a) in one prefill, (b) in chunks of
// 1, 7 and 64 tokens, (c) as a prefix-cache hit plus an append of the rest, and (d) from
// prefix blocks exported by one engine and imported into another, gives the same greedy
// tokens for 32 steps and logits within 1e-4 of (a).
#include <iostream>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "ppd/model/model_config.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

constexpr int kSteps = 32;
constexpr float kLogitTolerance = 1e-4f;

struct Case {
  const char* model;  // "tiny" or "tinystories"
  uint32_t seed;
  int prompt_tokens;
  int cached_prefix_tokens;  // prompt tokens the first engine runs before the full prompt
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " seed " << c.seed << ", " << c.prompt_tokens << " tokens, " << c.cached_prefix_tokens << " cached";
}

class AppendPrefillTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = std::string(GetParam().model) == "tiny" ? tiny_model_dir() : tinystories_dir();
    if (dir_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
    Result<model::ModelConfig> config = model::load_model_config(dir_);
    ASSERT_TRUE(config.ok()) << config.status().to_string();
    prompt_ = random_tokens(GetParam().seed, GetParam().prompt_tokens, 3, config->vocab_size);
  }

  void expect_same_as(const Completion& reference, const Completion& got, const std::string& what) {
    EXPECT_EQ(got.tokens, reference.tokens) << what;
    const float diff = max_abs_diff(got.logits, reference.logits);
    EXPECT_LE(diff, kLogitTolerance) << what;
    std::cout << GetParam().model << " " << what << ": max |logit - full prefill| = " << diff << "\n";
  }

  std::string dir_;
  std::vector<TokenId> prompt_;
};

TEST_P(AppendPrefillTest, EveryPathGivesTheSameTokensAndLogits) {
  const Case& c = GetParam();
  auto full_engine = make_engine(dir_, test_options());
  ASSERT_NE(full_engine, nullptr);
  const Completion full = run_one(*full_engine, prompt_, greedy(kSteps, true));
  ASSERT_EQ(full.tokens.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(full.logits.size(), static_cast<size_t>(kSteps));

  for (int chunk : {1, 7, 64}) {
    engine::EngineOptions options = test_options();
    options.scheduler.max_prefill_tokens = chunk;
    auto engine = make_engine(dir_, options);
    ASSERT_NE(engine, nullptr);
    expect_same_as(full, run_one(*engine, prompt_, greedy(kSteps, true)), "chunk " + std::to_string(chunk));
  }

  // (c) The prefix is computed and cached by an earlier request; the prompt hits it.
  auto cached_engine = make_engine(dir_, test_options());
  ASSERT_NE(cached_engine, nullptr);
  const std::vector<TokenId> prefix(prompt_.begin(), prompt_.begin() + c.cached_prefix_tokens);
  run_one(*cached_engine, prefix, greedy(1));
  const int block_size = cached_engine->block_size();
  const int expected_hit = c.cached_prefix_tokens / block_size * block_size;
  ASSERT_GT(expected_hit, 0);
  const Completion appended = run_one(*cached_engine, prompt_, greedy(kSteps, true));
  EXPECT_EQ(appended.num_cached_tokens, expected_hit);
  expect_same_as(full, appended, "prefix hit + append");

  // (d) The prefix blocks move to a second engine by export and import.
  auto importer = make_engine(dir_, test_options());
  ASSERT_NE(importer, nullptr);
  const std::vector<BlockHash> hashes = cached_engine->block_hashes(prefix);
  ASSERT_EQ(static_cast<int>(hashes.size()) * block_size, expected_hit);
  for (BlockHash h : hashes) {
    std::optional<std::span<const uint8_t>> bytes = cached_engine->export_block(h);
    ASSERT_TRUE(bytes.has_value());
    ASSERT_TRUE(importer->import_block(h, *bytes).ok());
  }
  const Completion imported = run_one(*importer, prompt_, greedy(kSteps, true));
  EXPECT_EQ(imported.num_cached_tokens, expected_hit);
  expect_same_as(full, imported, "imported prefix + append");

  for (auto* e : {full_engine.get(), cached_engine.get(), importer.get()}) {
    EXPECT_TRUE(e->check_invariants().ok());
    EXPECT_EQ(e->num_allocatable_blocks(), 512) << "blocks leaked";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, AppendPrefillTest,
                         ::testing::Values(Case{"tiny", 1, 150, 100}, Case{"tiny", 2, 97, 33},
                                           Case{"tiny", 3, 300, 290}, Case{"tinystories", 4, 150, 100},
                                           Case{"tinystories", 5, 200, 48}, Case{"tinystories", 6, 64, 17}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.model) + "_seed" + std::to_string(p.param.seed);
                         });

}  // namespace
}  // namespace ppd::testing
