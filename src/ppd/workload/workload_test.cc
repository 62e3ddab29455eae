#include "ppd/workload/workload.h"

#include <cmath>

#include <gtest/gtest.h>

namespace ppd::workload {
namespace {

Turn make_turn(int64_t user_tokens, int64_t output_tokens) {
  Turn t;
  t.user_tokens = user_tokens;
  t.output_tokens = output_tokens;
  return t;
}

// Conversation 0: system 10, turns (5, 7), (3, 4), (2, 1); conversation 1: one turn (40, 10).
Workload two_conversations() {
  Workload w;
  w.name = "test";
  Conversation a;
  a.system_tokens = 10;
  a.turns = {make_turn(5, 7), make_turn(3, 4), make_turn(2, 1)};
  Conversation b;
  b.id = 1;
  b.arrival_s = 1.5;
  b.turns = {make_turn(40, 10)};
  w.conversations = {a, b};
  return w;
}

TEST(WorkloadTest, PromptTokensAtCountsSystemHistoryAndNewMessage) {
  const Workload w = two_conversations();
  EXPECT_EQ(prompt_tokens_at(w.conversations[0], 0), 15);
  EXPECT_EQ(prompt_tokens_at(w.conversations[0], 1), 10 + 12 + 3);
  EXPECT_EQ(prompt_tokens_at(w.conversations[0], 2), 10 + 12 + 7 + 2);
  EXPECT_EQ(prompt_tokens_at(w.conversations[1], 0), 40);
  EXPECT_EQ(num_turns(w), 4);
  EXPECT_EQ(num_turns(Workload{}), 0);
}

TEST(WorkloadTest, ValidateAcceptsWellFormed) { EXPECT_TRUE(validate_workload(two_conversations()).ok()); }

TEST(WorkloadTest, ValidateNamesConversationTurnFieldRuleAndValue) {
  const auto error_of = [](auto mutate) {
    Workload w = two_conversations();
    mutate(w);
    const Status s = validate_workload(w);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    return s.message();
  };
  EXPECT_EQ(error_of([](Workload& w) { w.conversations.clear(); }), "conversations: must not be empty; got 0");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[1].id = 7; }), "conversation at index 1: id: must be 1; got 7");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].arrival_s = 2; }),
            "conversation 1: arrival_s: must be >= conversation 0's (2); got 1.5");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].arrival_s = -1; }),
            "conversation 0: arrival_s: must be >= 0; got -1");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].system_tokens = -1; }),
            "conversation 0: system_tokens: must be >= 0; got -1");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[1].turns.clear(); }),
            "conversation 1: turns: must be non-empty; got none");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].turns[2].user_tokens = 0; }),
            "conversation 0: turn 2: user_tokens: must be >= 1; got 0");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[1].turns[0].output_tokens = -5; }),
            "conversation 1: turn 0: output_tokens: must be >= 1; got -5");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].turns[1].think_time_s = -0.5; }),
            "conversation 0: turn 1: think_time_s: must be >= 0; got -0.5");
  EXPECT_EQ(error_of([](Workload& w) { w.conversations[0].turns[1].offset_s = std::nan(""); }),
            "conversation 0: turn 1: offset_s: must be finite; got nan");
}

TEST(WorkloadTest, FitContextDropsTheFirstTooLongTurnAndLaterOnes) {
  Workload w = two_conversations();
  // Conversation 0 needs 22, 29 and 32 tokens at its three turns; conversation 1 needs 50.
  EXPECT_EQ(fit_context(29, &w), 2);
  ASSERT_EQ(w.conversations.size(), 1u);
  EXPECT_EQ(w.conversations[0].turns.size(), 2u);
  EXPECT_TRUE(validate_workload(w).ok());
}

TEST(WorkloadTest, FitContextRenumbersAfterDroppingAConversation) {
  Workload w = two_conversations();
  std::swap(w.conversations[0], w.conversations[1]);
  w.conversations[0].arrival_s = 0;
  EXPECT_EQ(fit_context(32, &w), 1);  // conversation 0 (40 + 10 tokens) goes
  ASSERT_EQ(w.conversations.size(), 1u);
  EXPECT_EQ(w.conversations[0].id, 0);
  EXPECT_EQ(w.conversations[0].system_tokens, 10);
  EXPECT_EQ(w.conversations[0].turns.size(), 3u);
}

TEST(WorkloadTest, FitContextWithoutALimitIsANoOp) {
  Workload w = two_conversations();
  EXPECT_EQ(fit_context(0, &w), 0);
  EXPECT_EQ(fit_context(-1, &w), 0);
  EXPECT_EQ(w, two_conversations());
  EXPECT_EQ(fit_context(50, &w), 0);
  EXPECT_EQ(w, two_conversations());
}

TEST(WorkloadTest, ScaleTokensRoundsAndKeepsAtLeastOne) {
  EXPECT_EQ(scale_tokens(100, 1.0), 100);
  EXPECT_EQ(scale_tokens(3, 1.5), 5);  // 4.5 rounds away from zero
  EXPECT_EQ(scale_tokens(3, 0.5), 2);
  EXPECT_EQ(scale_tokens(1, 0.1), 1);
  EXPECT_EQ(scale_tokens(1024, 16), 16384);
}

}  // namespace
}  // namespace ppd::workload
