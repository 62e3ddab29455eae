#include "ppd/sim/shared_link.h"

#include <gtest/gtest.h>

namespace ppd::sim {
namespace {

// 1 GB/s: one byte per nanosecond, so times below are byte counts.
constexpr LinkOptions kGigabyte{.bytes_per_s = 1e9, .latency_ns = 0};

TEST(SharedLinkTest, OneTransferTakesBytesOverBandwidthPlusLatency) {
  SharedLink link({.bytes_per_s = 1e9, .latency_ns = 500});
  EXPECT_EQ(link.start(0, 1'000'000), 0u);
  EXPECT_EQ(link.next_delivery_ns(), 1'000'500);
  EXPECT_TRUE(link.advance(1'000'499).empty());
  EXPECT_EQ(link.advance(1'000'500), (std::vector<uint64_t>{0}));
  EXPECT_FALSE(link.next_delivery_ns().has_value());
}

TEST(SharedLinkTest, TwoTransfersShareTheBandwidthHalfEach) {
  SharedLink link(kGigabyte);
  link.start(0, 1'000'000);
  link.start(0, 1'000'000);
  // Each gets 0.5 GB/s: both end at 2 ms, not one at 1 ms and one at 2 ms.
  EXPECT_EQ(link.next_delivery_ns(), 2'000'000);
  EXPECT_EQ(link.advance(2'000'000), (std::vector<uint64_t>{0, 1}));
}

TEST(SharedLinkTest, TheShortTransferLeavesAndTheLongOneSpeedsUp) {
  SharedLink link(kGigabyte);
  link.start(0, 1'000'000);
  link.start(0, 2'000'000);
  // Shared until the first has its 1 MB (2 ms); the second then has 1 MB left at full speed.
  EXPECT_EQ(link.next_delivery_ns(), 2'000'000);
  EXPECT_EQ(link.advance(2'000'000), (std::vector<uint64_t>{0}));
  EXPECT_EQ(link.next_delivery_ns(), 3'000'000);
  EXPECT_EQ(link.advance(3'000'000), (std::vector<uint64_t>{1}));
}

TEST(SharedLinkTest, ALateTransferSlowsTheOneInFlight) {
  SharedLink link(kGigabyte);
  link.start(0, 1'000'000);
  link.start(500'000, 250'000);                   // the first has 500 KB left; both now move at 0.5 GB/s
  EXPECT_EQ(link.next_delivery_ns(), 1'000'000);  // the late one: 250 KB at 0.5 GB/s
  EXPECT_EQ(link.advance(1'000'000), (std::vector<uint64_t>{1}));
  EXPECT_EQ(link.next_delivery_ns(), 1'250'000);  // 250 KB left, alone again
  EXPECT_EQ(link.advance(1'250'000), (std::vector<uint64_t>{0}));
}

TEST(SharedLinkTest, BadOptionsNameTheField) {
  EXPECT_EQ(validate_link_options({.bytes_per_s = 0}).message(), "link.bytes_per_s: must be > 0; got 0");
  EXPECT_EQ(validate_link_options({.bytes_per_s = 1, .latency_ns = -1}).message(),
            "link.latency_ns: must be >= 0; got -1");
}

}  // namespace
}  // namespace ppd::sim
