#include "ppd/stats/stats.h"

#include <gtest/gtest.h>

namespace ppd::stats {
namespace {

TEST(StatsTest, PercentileMatchesNumpyLinearInterpolation) {
  const std::vector<double> one_to_ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // rank = p/100 * 9: p50 -> 4.5 -> 5 + 0.5 = 5.5; p90 -> 8.1 -> 9 + 0.1 = 9.1; p99 -> 8.91 -> 9.91.
  EXPECT_DOUBLE_EQ(percentile_sorted(one_to_ten, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(one_to_ten, 50), 5.5);
  EXPECT_DOUBLE_EQ(percentile_sorted(one_to_ten, 90), 9.1);
  EXPECT_DOUBLE_EQ(percentile_sorted(one_to_ten, 99), 9.91);
  EXPECT_DOUBLE_EQ(percentile_sorted(one_to_ten, 100), 10);

  // np.percentile([15, 20, 35, 40, 50], [25, 40, 75]): ranks 1, 1.6, 3 -> 20, 20 + 0.6 * 15 = 29, 40.
  const std::vector<double> five = {15, 20, 35, 40, 50};
  EXPECT_DOUBLE_EQ(percentile_sorted(five, 25), 20);
  EXPECT_DOUBLE_EQ(percentile_sorted(five, 40), 29);
  EXPECT_DOUBLE_EQ(percentile_sorted(five, 75), 40);
}

TEST(StatsTest, PercentileOfOneValueIsThatValue) {
  for (double p : {0.0, 50.0, 99.0, 100.0}) EXPECT_DOUBLE_EQ(percentile_sorted({7.5}, p), 7.5) << p;
}

TEST(StatsTest, PercentileClampsP) {
  EXPECT_DOUBLE_EQ(percentile_sorted({1, 2}, -5), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted({1, 2}, 250), 2);
}

TEST(StatsTest, ComputeStatsSortsACopy) {
  // Sorted: 1..10; sum 55 -> mean 5.5.
  const Stats s = compute_stats({10, 3, 1, 7, 2, 9, 4, 8, 6, 5});
  EXPECT_EQ(s.count, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_DOUBLE_EQ(s.p50, 5.5);
  EXPECT_DOUBLE_EQ(s.p90, 9.1);
  EXPECT_DOUBLE_EQ(s.p99, 9.91);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
}

TEST(StatsTest, EmptySampleIsAllZeros) {
  const Stats s = compute_stats({});
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.mean, 0);
  EXPECT_EQ(s.p50, 0);
  EXPECT_EQ(s.p90, 0);
  EXPECT_EQ(s.p99, 0);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 0);
}

}  // namespace
}  // namespace ppd::stats
