#include "ppd/common/process_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ppd {
namespace {

TEST(ProcessMemoryTest, ParsesRssAnon) {
  EXPECT_EQ(parse_rss_anon("Name:\tppd\nVmRSS:\t  9000 kB\nRssAnon:\t    1234 kB\nRssFile:\t 5 kB\n"), 1234 * 1024);
  EXPECT_EQ(parse_rss_anon("VmRSS:\t9000 kB\n"), std::nullopt);
  EXPECT_EQ(parse_rss_anon("RssAnon:\tmany kB\n"), std::nullopt);
  EXPECT_EQ(parse_rss_anon("RssAnon:\t12 MB\n"), std::nullopt);
}

TEST(ProcessMemoryTest, GrowsWhenMemoryIsTouched) {
  const std::optional<int64_t> before = resident_anon_bytes();
  ASSERT_TRUE(before.has_value());
  std::vector<char> block(64 << 20);
  std::memset(block.data(), 1, block.size());
  const std::optional<int64_t> after = resident_anon_bytes();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after - *before, 60 << 20);
  EXPECT_EQ(block[12345], 1);
}

}  // namespace
}  // namespace ppd
