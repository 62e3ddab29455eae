// Golden test: TinyStories-656K reproduces the reference greedy decode of ../shared/README.md,
// computed in float64 by an independent implementation.
#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

const std::vector<TokenId>& kReferenceIds = kTinyStoriesGreedyFromBos;

struct TopLogit {
  TokenId id;
  float value;
};
const std::vector<TopLogit> kReferenceTop5 = {
    {147, 14.7817f}, {429, 12.9551f}, {1166, 10.1302f}, {299, 9.9054f}, {875, 9.8035f}};

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, GreedyFromBosReproducesReference) {
  PPD_REQUIRE_TINYSTORIES(dir);
  engine::EngineOptions options = test_options();
  options.kernels = GetParam();
  auto engine = make_engine(dir, options);
  ASSERT_NE(engine, nullptr);
  Completion c = run_one(*engine, {1}, greedy(60, /*return_logits=*/true));
  EXPECT_EQ(c.tokens, kReferenceIds);

  ASSERT_FALSE(c.logits.empty());
  const std::vector<float>& step0 = c.logits[0];
  std::vector<TokenId> order(step0.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                    [&](TokenId a, TokenId b) { return step0[a] > step0[b]; });
  for (size_t i = 0; i < kReferenceTop5.size(); ++i) {
    EXPECT_EQ(order[i], kReferenceTop5[i].id) << "rank " << i;
    EXPECT_NEAR(step0[static_cast<size_t>(kReferenceTop5[i].id)], kReferenceTop5[i].value, 1e-3) << "rank " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(KernelPaths, GoldenTest, ::testing::Values("scalar", "auto"));

TEST(GoldenTest, TwoThreadsGiveTheSameTokens) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options(512, /*num_threads=*/2));
  ASSERT_NE(engine, nullptr);
  // Several requests at once, so that the pool splits rows, columns and attention items.
  std::vector<RequestId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(*engine->add_request({.prompt = {1}, .params = greedy(60)}));
  std::map<uint64_t, Completion> done = run_all(*engine);
  for (RequestId id : ids) EXPECT_EQ(done[id.value].tokens, kReferenceIds);
}

// Greedy from BOS ends its story with <|end_story|> (id 2) as its 139th token.
constexpr int kEosStep = 139;
constexpr TokenId kEos = 2;

TEST(GoldenTest, StopsAtEosWhenNotIgnored) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options());
  ASSERT_NE(engine, nullptr);
  request::SamplingParams p = greedy(400);
  p.ignore_eos = false;
  const Completion c = run_one(*engine, {1}, p);
  EXPECT_EQ(c.finish_reason, sched::FinishReason::kStop);
  ASSERT_EQ(c.tokens.size(), static_cast<size_t>(kEosStep));
  EXPECT_EQ(c.tokens.back(), kEos);
  EXPECT_EQ(std::vector<TokenId>(c.tokens.begin(), c.tokens.begin() + 60), kReferenceIds);
}

TEST(GoldenTest, MinTokensMasksEosUntilReached) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options());
  ASSERT_NE(engine, nullptr);
  request::SamplingParams p = greedy(170);
  p.ignore_eos = false;
  p.min_tokens = 150;
  const Completion c = run_one(*engine, {1}, p);
  const Completion unmasked = run_one(*engine, {1}, greedy(kEosStep));
  ASSERT_GE(c.tokens.size(), 150u);
  EXPECT_EQ(std::count(c.tokens.begin(), c.tokens.begin() + 150, kEos), 0) << "EOS was masked";
  // Up to where greedy ends the story the two runs agree; there the masked one goes on.
  EXPECT_EQ(std::vector<TokenId>(c.tokens.begin(), c.tokens.begin() + kEosStep - 1),
            std::vector<TokenId>(unmasked.tokens.begin(), unmasked.tokens.end() - 1));
  EXPECT_EQ(unmasked.tokens.back(), kEos);
}

TEST(GoldenTest, StopTokenIdsEndTheRequestAfterMinTokens) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options());
  ASSERT_NE(engine, nullptr);
  request::SamplingParams p = greedy(60);
  p.stop_token_ids = {282};  // the third reference token
  Completion c = run_one(*engine, {1}, p);
  EXPECT_EQ(c.finish_reason, sched::FinishReason::kStop);
  EXPECT_EQ(c.tokens, (std::vector<TokenId>{147, 201, 282}));
  // With min_tokens 5 the stop id is masked at step 3, so greedy takes another path.
  p.min_tokens = 5;
  c = run_one(*engine, {1}, p);
  ASSERT_GE(c.tokens.size(), 5u);
  EXPECT_EQ(std::count(c.tokens.begin(), c.tokens.begin() + 5, 282), 0);
  EXPECT_EQ(std::vector<TokenId>(c.tokens.begin(), c.tokens.begin() + 2), (std::vector<TokenId>{147, 201}));
}

}  // namespace
}  // namespace ppd::testing
