// HandleTable: a release or an expiry while a send of the handle's blocks is in flight waits
// for the send to end, so the engine never gets blocks back that are still being sent.
#include "ppd/node/handle_table.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace ppd::node {
namespace {

class HandleTableTest : public ::testing::Test {
 protected:
  HandleTable table_{[this](uint64_t owner) { unpinned_.push_back(owner); }};
  std::array<uint8_t, 64> bytes_{};
  std::vector<std::span<const uint8_t>> blocks(int n) {
    return std::vector<std::span<const uint8_t>>(n, std::span<const uint8_t>(bytes_.data(), 16));
  }
  std::vector<uint64_t> unpinned_;
};

TEST_F(HandleTableTest, AReleaseDuringASendUnpinsWhenTheSendEnds) {
  ASSERT_TRUE(table_.add(0xabc, 7, blocks(3), 0));
  EXPECT_FALSE(table_.add(0xabc, 8, blocks(1), 0)) << "a taken handle";
  EXPECT_EQ(table_.num_blocks(), 3);
  const std::array<uint32_t, 2> indices = {0, 2};
  ASSERT_TRUE(table_.resolve(0xabc, indices).ok());  // a send begins
  table_.release(0xabc);
  EXPECT_TRUE(unpinned_.empty()) << "the blocks are still being sent";
  EXPECT_FALSE(table_.contains(0xabc));
  EXPECT_EQ(table_.size(), 0);
  EXPECT_EQ(table_.resolve(0xabc, indices).status().code(), StatusCode::kNotFound);  // no new send
  table_.end_send(0xabc);
  EXPECT_EQ(unpinned_, std::vector<uint64_t>{7});
  EXPECT_EQ(table_.num_blocks(), 0);
  table_.release(0xabc);  // twice: nothing more
  EXPECT_EQ(unpinned_.size(), 1u);
}

TEST_F(HandleTableTest, ExpirySkipsAHandleBeingSent) {
  ASSERT_TRUE(table_.add(1, 11, blocks(2), 100));
  ASSERT_TRUE(table_.add(2, 12, blocks(2), 100));
  ASSERT_TRUE(table_.resolve(1, std::array<uint32_t, 1>{1}).ok());
  EXPECT_EQ(table_.release_older_than(1000), std::vector<uint64_t>{2});
  EXPECT_EQ(unpinned_, std::vector<uint64_t>{12});
  table_.end_send(1);
  EXPECT_TRUE(table_.contains(1)) << "a finished send leaves the pin as it was";
  EXPECT_EQ(table_.release_older_than(1000), std::vector<uint64_t>{1});
  EXPECT_EQ(unpinned_, (std::vector<uint64_t>{12, 11}));
}

}  // namespace
}  // namespace ppd::node
