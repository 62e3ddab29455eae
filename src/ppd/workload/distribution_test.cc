#include "ppd/workload/distribution.h"

#include <gtest/gtest.h>

namespace ppd::workload {
namespace {

bool in_range(int64_t v, const LengthRange& r) { return v >= r.min && v <= r.max; }

TEST(DistributionTest, DefaultsStayInTheirRanges) {
  const DistributionOptions o;
  Result<Workload> w = make_distribution_workload(o);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "distribution");
  ASSERT_EQ(w->conversations.size(), 100u);
  EXPECT_TRUE(validate_workload(*w).ok());
  int64_t min_turns = 100, max_turns = 0;
  for (const Conversation& c : w->conversations) {
    const auto n = static_cast<int64_t>(c.turns.size());
    min_turns = std::min(min_turns, n);
    max_turns = std::max(max_turns, n);
    EXPECT_EQ(c.system_tokens, 0);
    EXPECT_TRUE(in_range(c.turns[0].user_tokens, o.first_user_tokens));
    for (size_t i = 0; i < c.turns.size(); ++i) {
      if (i > 0) {
        EXPECT_TRUE(in_range(c.turns[i].user_tokens, o.user_tokens));
      }
      EXPECT_TRUE(in_range(c.turns[i].output_tokens, o.output_tokens));
      EXPECT_EQ(c.turns[i].think_time_s, 0);
    }
  }
  EXPECT_EQ(min_turns, 2);  // 100 draws from [2, 6] reach both ends
  EXPECT_EQ(max_turns, 6);
}

TEST(DistributionTest, FixedRangesGiveExactScaledLengths) {
  DistributionOptions o{.num_conversations = 2, .min_turns = 3, .max_turns = 3};
  o.system_tokens = {5, 5};
  o.first_user_tokens = {10, 10};
  o.user_tokens = {3, 3};
  o.output_tokens = {7, 7};
  o.scale = 1.5;
  const Workload w = make_distribution_workload(o).value();
  ASSERT_EQ(w.conversations.size(), 2u);
  const Conversation& c = w.conversations[1];
  EXPECT_EQ(c.id, 1);
  EXPECT_EQ(c.system_tokens, 8);  // 7.5 rounds up
  ASSERT_EQ(c.turns.size(), 3u);
  EXPECT_EQ(c.turns[0].user_tokens, 15);
  EXPECT_EQ(c.turns[1].user_tokens, 5);  // 4.5 rounds up
  EXPECT_EQ(c.turns[2].user_tokens, 5);
  EXPECT_EQ(c.turns[2].output_tokens, 11);  // 10.5 rounds up
  EXPECT_EQ(prompt_tokens_at(c, 2), 8 + 15 + 11 + 5 + 11 + 5);
}

TEST(DistributionTest, ZeroSystemPromptStaysZeroUnderScale) {
  DistributionOptions o{.num_conversations = 50, .scale = 4};
  o.system_tokens = {0, 1};
  const Workload w = make_distribution_workload(o).value();
  int num_with_system = 0;
  for (const Conversation& c : w.conversations) {
    EXPECT_TRUE(c.system_tokens == 0 || c.system_tokens == 4) << c.system_tokens;
    num_with_system += c.system_tokens > 0;
  }
  EXPECT_GT(num_with_system, 0);
  EXPECT_LT(num_with_system, 50);
}

TEST(DistributionTest, ThinkTimesBeforeLaterTurnsOnly) {
  const Workload w = make_distribution_workload({.num_conversations = 500, .mean_think_time_s = 3}).value();
  double sum = 0;
  int n = 0;
  for (const Conversation& c : w.conversations) {
    EXPECT_EQ(c.turns[0].think_time_s, 0);
    for (size_t i = 1; i < c.turns.size(); ++i, ++n) sum += c.turns[i].think_time_s;
  }
  EXPECT_NEAR(sum / n, 3.0, 0.3);
}

TEST(DistributionTest, DeterministicPerSeedAndStableUnderMoreConversations) {
  const DistributionOptions o{.num_conversations = 20, .mean_think_time_s = 1, .seed = 42};
  DistributionOptions other_seed = o;
  other_seed.seed = 43;
  DistributionOptions fewer = o;
  fewer.num_conversations = 10;
  const Workload w = make_distribution_workload(o).value();
  EXPECT_EQ(w, make_distribution_workload(o).value());
  EXPECT_NE(w, make_distribution_workload(other_seed).value());
  const Workload prefix = make_distribution_workload(fewer).value();
  for (size_t i = 0; i < prefix.conversations.size(); ++i) EXPECT_EQ(prefix.conversations[i], w.conversations[i]);
}

TEST(DistributionTest, BadOptionsNameTheFieldRuleAndValue) {
  const auto error_of = [](auto mutate) {
    DistributionOptions o;
    mutate(o);
    Result<Workload> w = make_distribution_workload(o);
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
    return w.status().message();
  };
  using O = DistributionOptions;
  EXPECT_EQ(error_of([](O& o) { o.num_conversations = 0; }), "num_conversations: must be >= 1; got 0");
  EXPECT_EQ(error_of([](O& o) { o.min_turns = 0; }), "min_turns: must be >= 1; got 0");
  EXPECT_EQ(error_of([](O& o) { o.max_turns = 1; }), "max_turns: must be >= min_turns (2); got 1");
  EXPECT_EQ(error_of([](O& o) { o.system_tokens = {-1, 0}; }), "system_tokens.min: must be >= 0; got -1");
  EXPECT_EQ(error_of([](O& o) { o.first_user_tokens.min = 0; }), "first_user_tokens.min: must be >= 1; got 0");
  EXPECT_EQ(error_of([](O& o) { o.user_tokens.max = 8; }), "user_tokens.max: must be >= user_tokens.min (16); got 8");
  EXPECT_EQ(error_of([](O& o) { o.output_tokens = {0, 5}; }), "output_tokens.min: must be >= 1; got 0");
  EXPECT_EQ(error_of([](O& o) { o.mean_think_time_s = -1; }), "mean_think_time_s: must be >= 0; got -1");
  EXPECT_EQ(error_of([](O& o) { o.scale = 0; }), "scale: must be in (0, 16]; got 0");
}

}  // namespace
}  // namespace ppd::workload
