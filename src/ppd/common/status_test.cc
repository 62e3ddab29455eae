#include "ppd/common/status.h"

#include <gtest/gtest.h>

namespace ppd {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("value: must be > 0; got {}", v);
  return v;
}

Result<int> doubled(int v) {
  PPD_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(StatusTest, ToStringHasCodeAndMessage) {
  Status s = invalid_argument("max_tokens: must be in [1, {}]; got {}", 4096, 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.to_string(), "INVALID_ARGUMENT: max_tokens: must be in [1, 4096]; got 0");
  EXPECT_EQ(s.with_context("request 7").message(), "request 7: max_tokens: must be in [1, 4096]; got 0");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*doubled(4), 8);
  Result<int> bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "value: must be > 0; got -1");
}

}  // namespace
}  // namespace ppd
