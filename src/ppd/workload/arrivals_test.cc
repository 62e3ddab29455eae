#include "ppd/workload/arrivals.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace ppd::workload {
namespace {

Workload one_turn_conversations(int n) {
  Workload w;
  for (int i = 0; i < n; ++i) {
    Conversation c;
    c.id = i;
    c.turns.push_back(Turn{.user_tokens = 1, .output_tokens = 1});
    w.conversations.push_back(c);
  }
  return w;
}

TEST(ArrivalsTest, SameSeedSameTimesDifferentSeedDifferent) {
  Workload a = one_turn_conversations(50);
  Workload b = one_turn_conversations(50);
  Workload c = one_turn_conversations(50);
  ASSERT_TRUE(assign_poisson_arrivals(2.0, 7, &a).ok());
  ASSERT_TRUE(assign_poisson_arrivals(2.0, 7, &b).ok());
  ASSERT_TRUE(assign_poisson_arrivals(2.0, 8, &c).ok());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(a.conversations[0].arrival_s, 0);  // the first arrival is the first gap
  EXPECT_TRUE(validate_workload(a).ok());
  for (size_t i = 0; i < a.conversations.size(); ++i) EXPECT_EQ(a.conversations[i].id, static_cast<int64_t>(i));
}

TEST(ArrivalsTest, MeanGapIsOneOverRate) {
  constexpr int kNum = 10000;
  constexpr double kRate = 4.0;
  Workload w = one_turn_conversations(kNum);
  ASSERT_TRUE(assign_poisson_arrivals(kRate, 1, &w).ok());
  const double mean_gap = w.conversations.back().arrival_s / kNum;
  EXPECT_NEAR(mean_gap, 1 / kRate, 0.03 / kRate);
  double sum_sq = 0, previous = 0;
  for (const Conversation& c : w.conversations) {
    const double gap = c.arrival_s - previous;
    ASSERT_GE(gap, 0);
    sum_sq += (gap - mean_gap) * (gap - mean_gap);
    previous = c.arrival_s;
  }
  EXPECT_NEAR(std::sqrt(sum_sq / kNum), 1 / kRate, 0.05 / kRate);  // exponential: stddev == mean
}

TEST(ArrivalsTest, BadRateIsRejectedAndLeavesTheWorkload) {
  Workload w = one_turn_conversations(3);
  const Status s = assign_poisson_arrivals(-1, 0, &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "rate: must be > 0; got -1");
  EXPECT_EQ(assign_poisson_arrivals(0, 0, &w).message(), "rate: must be > 0; got 0");
  EXPECT_EQ(assign_poisson_arrivals(std::numeric_limits<double>::infinity(), 0, &w).message(),
            "rate: must be > 0; got inf");
  EXPECT_EQ(assign_poisson_arrivals(std::nan(""), 0, &w).message(), "rate: must be > 0; got nan");
  EXPECT_EQ(w, one_turn_conversations(3));
}

TEST(ArrivalsTest, ScaleTimesScalesArrivalsBoundedOffsetsAndThinkTimes) {
  Workload w = one_turn_conversations(2);
  w.conversations[1].arrival_s = 2;
  w.conversations[1].turns = {Turn{.user_tokens = 1, .output_tokens = 1, .think_time_s = 0, .offset_s = 0},
                              Turn{.user_tokens = 1, .output_tokens = 1, .think_time_s = 0.5, .offset_s = 1.5}};
  ASSERT_TRUE(scale_times(1.5, &w).ok());
  EXPECT_EQ(w.conversations[0].arrival_s, 0);
  EXPECT_EQ(w.conversations[0].turns[0].offset_s, -1);  // no bound stays no bound
  EXPECT_EQ(w.conversations[1].arrival_s, 3);
  EXPECT_EQ(w.conversations[1].turns[0].offset_s, 0);
  EXPECT_EQ(w.conversations[1].turns[1].offset_s, 2.25);
  EXPECT_EQ(w.conversations[1].turns[1].think_time_s, 0.75);
}

TEST(ArrivalsTest, BadTimeScaleIsRejected) {
  Workload w = one_turn_conversations(1);
  const Status s = scale_times(0, &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "time_scale: must be > 0; got 0");
  EXPECT_EQ(scale_times(-2.5, &w).message(), "time_scale: must be > 0; got -2.5");
}

}  // namespace
}  // namespace ppd::workload
