#include "ppd/workload/replay.h"

#include <cmath>

#include <gtest/gtest.h>

namespace ppd::workload {
namespace {

Conversation two_turns(double arrival_s, double think_s, double offset_s) {
  Conversation c{.id = 0, .arrival_s = arrival_s};
  c.turns = {{.user_tokens = 1, .output_tokens = 1}, {.user_tokens = 1, .output_tokens = 1}};
  c.turns[1].think_time_s = think_s;
  c.turns[1].offset_s = offset_s;
  return c;
}

TEST(ReplayTest, AFirstTurnIsDueAtArrivalALaterOneAfterThinkingAndItsOffset) {
  const Conversation c = two_turns(1.5, 0.25, -1);
  EXPECT_EQ(turn_due_ns(c, 0, 0), 1'500'000'000);
  EXPECT_EQ(turn_due_ns(c, 1, 2'000'000'000), 2'250'000'000);  // the previous end plus think time
  const Conversation traced = two_turns(1.5, 0.25, 3.0);
  EXPECT_EQ(turn_due_ns(traced, 1, 2'000'000'000), 4'500'000'000);  // not before arrival + offset
  EXPECT_EQ(turn_due_ns(traced, 1, 5'000'000'000), 5'250'000'000);
}

TEST(ReplayTest, TheDurationCutsOffLaterTurnsOnly) {
  EXPECT_FALSE(past_duration(0, 1e9));  // 0: no duration
  EXPECT_FALSE(past_duration(10, 10));
  EXPECT_TRUE(past_duration(10, 10.5));
}

TEST(ReplayTest, OptionsNameTheFieldTheRuleAndTheValue) {
  EXPECT_TRUE(check_replay_options(0, 0).ok());
  EXPECT_EQ(check_replay_options(-1, 0).message(), "warmup: must be >= 0; got -1");
  EXPECT_EQ(check_replay_options(0, -1).message(), "duration_s: must be >= 0; got -1");
  EXPECT_EQ(check_replay_options(0, std::nan("")).message(), "duration_s: must be >= 0; got nan");
}

}  // namespace
}  // namespace ppd::workload
