#include "ppd/loadgen/chat_protocol.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ppd::loadgen {
namespace {

TEST(EndpointTest, ParsesHostPortAndPath) {
  const Result<Endpoint> plain = parse_endpoint("http://127.0.0.1:8000");
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 8000);
  EXPECT_EQ(plain->base_path, "/v1");
  const Result<Endpoint> with_path = parse_endpoint("http://[::1]:9/openai/v1/");
  ASSERT_TRUE(with_path.ok());
  EXPECT_EQ(with_path->host, "::1");
  EXPECT_EQ(with_path->base_path, "/openai/v1");
}

TEST(EndpointTest, BadUrlsNameTheRule) {
  EXPECT_EQ(parse_endpoint("https://x:1").status().message(),
            "endpoint: must start with http:// (https is not supported); got \"https://x:1\"");
  EXPECT_EQ(parse_endpoint("http://localhost").status().message(),
            "endpoint: must be http://host:port[/path]; got \"http://localhost\"");
  EXPECT_EQ(parse_endpoint("http://h:70000").status().message(),
            "endpoint: port must be an integer in [1, 65535]; got \"70000\" in \"http://h:70000\"");
}

TEST(ChatRequestTest, BodyCarriesHistoryLengthAndStreaming) {
  const std::vector<ChatMessage> messages = {{"user", "hi"}, {"assistant", "hello"}, {"user", "more"}};
  const nlohmann::json body = nlohmann::json::parse(
      chat_request_body({.model = "m", .messages = &messages, .max_tokens = 7, .ignore_eos = true, .seed = 3}));
  EXPECT_EQ(body["model"], "m");
  ASSERT_EQ(body["messages"].size(), 3u);
  EXPECT_EQ(body["messages"][1]["role"], "assistant");
  EXPECT_EQ(body["messages"][1]["content"], "hello");
  EXPECT_EQ(body["max_tokens"], 7);
  EXPECT_EQ(body["ignore_eos"], true);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["seed"], 3);
  const nlohmann::json plain =
      nlohmann::json::parse(chat_request_body({.model = "m", .messages = &messages, .ignore_eos = false}));
  EXPECT_FALSE(plain.contains("ignore_eos"));
}

TEST(StreamLineTest, ReadsContentUsageDoneAndErrors) {
  const StreamEvent content = parse_stream_line(R"(data: {"choices":[{"index":0,"delta":{"content":"Once"}}]})");
  EXPECT_EQ(content.kind, StreamEvent::Kind::kChunk);
  EXPECT_EQ(content.content, "Once");
  EXPECT_FALSE(content.usage.has_value());

  const StreamEvent role = parse_stream_line(R"(data: {"choices":[{"delta":{"role":"assistant"}}]})");
  EXPECT_EQ(role.kind, StreamEvent::Kind::kChunk);
  EXPECT_FALSE(role.content.has_value());

  const StreamEvent usage = parse_stream_line(
      R"(data: {"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":8,"prompt_tokens_details":{"cached_tokens":32}}})");
  ASSERT_TRUE(usage.usage.has_value());
  EXPECT_EQ(usage.usage->prompt_tokens, 40);
  EXPECT_EQ(usage.usage->completion_tokens, 8);
  EXPECT_EQ(usage.usage->cached_tokens, 32);

  EXPECT_EQ(parse_stream_line("data: [DONE]").kind, StreamEvent::Kind::kDone);
  EXPECT_EQ(parse_stream_line(": keep-alive").kind, StreamEvent::Kind::kIgnore);
  EXPECT_EQ(parse_stream_line("").kind, StreamEvent::Kind::kIgnore);

  const StreamEvent error = parse_stream_line(R"(data: {"error":{"message":"node lost","code":503}})");
  EXPECT_EQ(error.kind, StreamEvent::Kind::kError);
  EXPECT_EQ(error.error, "node lost");
  const StreamEvent garbage = parse_stream_line("data: {oops");
  EXPECT_EQ(garbage.kind, StreamEvent::Kind::kError);
  EXPECT_EQ(garbage.error, "the stream sent a data line that is not a JSON object: {oops");
}

}  // namespace
}  // namespace ppd::loadgen
