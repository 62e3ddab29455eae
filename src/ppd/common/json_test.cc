#include <gtest/gtest.h>

#include <string>

#include "ppd/common/json_excerpt.h"
#include "ppd/common/json_limits.h"

namespace ppd {
namespace {

TEST(JsonExcerptTest, CutsLongAndDeepValuesWithoutRecursingIntoThem) {
  EXPECT_EQ(json_excerpt(nlohmann::json{{"a", 1}, {"b", {1, 2}}}), R"({"a":1,"b":[1,2]})");
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) deep = nlohmann::json::array({std::move(deep)});  // 100,001 levels
  EXPECT_EQ(json_excerpt(deep), std::string(60, '[') + "...");
  EXPECT_EQ(json_excerpt(deep, 10), std::string(10, '[') + "...");
  EXPECT_EQ(json_excerpt(std::string(100, 'x'), 10), "\"xxxxxxxxx...");
  EXPECT_EQ(json_excerpt("\xc3\xa9\xc3\xa9\xc3\xa9", 4), "\"\xc3\xa9...");  // no split character
}

TEST(JsonLimitsTest, CountsNestingOutsideStringsAndStopsPastTheLimit) {
  EXPECT_EQ(json_nesting_depth("1", 64), 0);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":[]}],"c":{}})", 64), 4);
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[[\"[[[","b":[]})", 64), 2);  // brackets in strings
  EXPECT_EQ(json_nesting_depth(std::string(100000, '['), 64), 65);
  EXPECT_EQ(json_nesting_depth("]]]][", 64), 1);
}

}  // namespace
}  // namespace ppd
