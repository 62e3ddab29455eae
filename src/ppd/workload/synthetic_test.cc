#include "ppd/workload/synthetic.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace ppd::workload {
namespace {

TEST(SyntheticTest, PaperTablesMatchThePaper) {
  ASSERT_EQ(paper_contexts().size(), 2u);
  EXPECT_EQ(paper_contexts()[0].name, "small");
  EXPECT_EQ(paper_contexts()[1].input_tokens, 1024);
  EXPECT_EQ(paper_contexts()[1].output_tokens, 1024);
  ASSERT_EQ(paper_turn2_types().size(), 9u);
  EXPECT_EQ(paper_turn2_types()[3].name, "very_long_gen");
  EXPECT_EQ(paper_turn2_types()[3].input_tokens, 64);
  EXPECT_EQ(paper_turn2_types()[3].output_tokens, 1024);
  EXPECT_EQ(paper_turn2_types()[8].name, "huge_paste");
  EXPECT_EQ(paper_turn2_types()[8].input_tokens, 1024);
  EXPECT_EQ(paper_turn2_types()[8].output_tokens, 32);
}

TEST(SyntheticTest, DefaultsGiveNinetyTwoTurnConversationsOfTheGrid) {
  Result<Workload> w = make_paper_workload(PaperOptions{});
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "paper");
  ASSERT_EQ(w->conversations.size(), 90u);
  EXPECT_TRUE(validate_workload(*w).ok());
  for (const Conversation& c : w->conversations) {
    ASSERT_EQ(c.turns.size(), 2u);
    EXPECT_EQ(c.label, c.turns[0].label + "/" + c.turns[1].label);
    EXPECT_EQ(c.arrival_s, 0);
    EXPECT_EQ(c.turns[1].think_time_s, 0);
    EXPECT_EQ(c.system_tokens, 0);
  }
}

TEST(SyntheticTest, DrawsEveryCellWithTheTablesLengths) {
  Result<Workload> w = make_paper_workload(PaperOptions{.num_conversations = 1000, .seed = 3});
  ASSERT_TRUE(w.ok());
  std::map<std::string_view, const Turn2Type*> types;
  for (const Turn2Type& t : paper_turn2_types()) types[t.name] = &t;
  std::set<std::string> cells;
  for (const Conversation& c : w->conversations) {
    cells.insert(c.label);
    const Turn& turn2 = c.turns[1];
    ASSERT_TRUE(types.contains(turn2.label)) << turn2.label;
    EXPECT_EQ(turn2.user_tokens, types[turn2.label]->input_tokens);
    EXPECT_EQ(turn2.output_tokens, types[turn2.label]->output_tokens);
    EXPECT_EQ(c.turns[0].user_tokens, c.turns[0].label == "small" ? 128 : 1024);
  }
  EXPECT_EQ(cells.size(), 18u);
}

TEST(SyntheticTest, SelectedCellsAndScale) {
  const PaperOptions o{.contexts = {"large"}, .turn2_types = {"huge_paste"}, .scale = 0.5, .num_conversations = 3};
  Result<Workload> w = make_paper_workload(o);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->conversations.size(), 3u);
  const Conversation& c = w->conversations[2];
  EXPECT_EQ(c.id, 2);
  EXPECT_EQ(c.label, "large/huge_paste");
  EXPECT_EQ(c.turns[0].label, "large");
  EXPECT_EQ(c.turns[0].user_tokens, 512);
  EXPECT_EQ(c.turns[0].output_tokens, 512);
  EXPECT_EQ(c.turns[1].label, "huge_paste");
  EXPECT_EQ(c.turns[1].user_tokens, 512);
  EXPECT_EQ(c.turns[1].output_tokens, 16);

  Result<Workload> tiny = make_paper_workload({.contexts = {"small"}, .turn2_types = {"tiny"}, .scale = 0.01});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->conversations[0].turns[1].user_tokens, 1);  // 0.16 rounds to 0, raised to 1
  EXPECT_EQ(tiny->conversations[0].turns[0].output_tokens, 1);
}

TEST(SyntheticTest, SameSeedSameWorkloadDifferentSeedDifferent) {
  const PaperOptions o{.num_conversations = 40, .mean_think_time_s = 1.0, .seed = 11};
  PaperOptions other = o;
  other.seed = 12;
  EXPECT_EQ(make_paper_workload(o).value(), make_paper_workload(o).value());
  EXPECT_NE(make_paper_workload(o).value(), make_paper_workload(other).value());
}

TEST(SyntheticTest, ThinkTimesAreExponentialAndDoNotChangeTheCells) {
  const PaperOptions without{.num_conversations = 4000, .seed = 5};
  PaperOptions with = without;
  with.mean_think_time_s = 2.0;
  const Workload a = make_paper_workload(without).value();
  const Workload b = make_paper_workload(with).value();
  double sum = 0;
  for (size_t i = 0; i < a.conversations.size(); ++i) {
    EXPECT_EQ(a.conversations[i].label, b.conversations[i].label);
    EXPECT_EQ(b.conversations[i].turns[0].think_time_s, 0);
    sum += b.conversations[i].turns[1].think_time_s;
  }
  EXPECT_NEAR(sum / 4000, 2.0, 0.1);
}

TEST(SyntheticTest, BadOptionsNameTheFieldRuleAndValue) {
  const auto error_of = [](const PaperOptions& o) {
    Result<Workload> w = make_paper_workload(o);
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
    return w.status().message();
  };
  EXPECT_EQ(error_of({.turn2_types = {"tiny", "foo"}}),
            "turn2_types: unknown \"foo\"; supported: tiny, short_gen, long_gen, very_long_gen, small_bal, mid_bal, "
            "mid_paste, big_paste, huge_paste");
  EXPECT_EQ(error_of({.contexts = {"medium"}}), "contexts: unknown \"medium\"; supported: small, large");
  EXPECT_EQ(error_of({.contexts = {"small", "small"}}),
            "contexts: must name each entry once; got \"small\" twice or more");
  EXPECT_EQ(error_of({.scale = 0}), "scale: must be in (0, 16]; got 0");
  EXPECT_EQ(error_of({.scale = 17}), "scale: must be in (0, 16]; got 17");
  EXPECT_EQ(error_of({.num_conversations = 0}), "num_conversations: must be >= 1; got 0");
  EXPECT_EQ(error_of({.mean_think_time_s = -1}), "mean_think_time_s: must be >= 0; got -1");
}

}  // namespace
}  // namespace ppd::workload
