#include "ppd/net/server_request.h"

#include <gtest/gtest.h>

namespace ppd::net {
namespace {

namespace http = boost::beast::http;

TEST(ParseQueryTest, DecodesPairsInOrder) {
  QueryParams params = parse_query("a=1&b=x%20y+z&flag&&c=%zz");
  QueryParams expected = {{"a", "1"}, {"b", "x y z"}, {"flag", ""}, {"c", "%zz"}};
  EXPECT_EQ(params, expected);
}

TEST(HttpRequestTest, SplitsPathAndQueryAndFindsHeaders) {
  http::request<http::string_body> message{http::verb::post, "/v1/x?model=m%2F1&n=2", 11};
  message.set("X-Request-Id", "r7");
  message.body() = "{}";
  HttpRequest request(std::move(message));
  EXPECT_EQ(request.method(), http::verb::post);
  EXPECT_EQ(request.path(), "/v1/x");
  EXPECT_EQ(request.query("model"), "m/1");
  EXPECT_EQ(request.query("n"), "2");
  EXPECT_EQ(request.query("missing"), std::nullopt);
  EXPECT_EQ(request.header("x-request-id"), "r7");
  EXPECT_EQ(request.header("absent"), std::nullopt);
  EXPECT_EQ(request.body(), "{}");
}

}  // namespace
}  // namespace ppd::net
