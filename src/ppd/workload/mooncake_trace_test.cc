#include <gtest/gtest.h>

#include "ppd/workload/test_util.h"
#include "ppd/workload/traces.h"

namespace ppd::workload {
namespace {

using testing::TempDir;

// Blocks of 10 tokens keep hash_ids short: ceil(input_length / 10) ids per line.
constexpr TraceOptions kSmallBlocks{.mooncake_block_tokens = 10};

// Line 4 shares [0, 1, 2] with line 1; line 5 shares [0, 1] with lines 1 (continued) and 4;
// line 6 shares [0, 3] with line 2; line 2 and 7 share only the system block 0.
constexpr std::string_view kMooncakeTrace =
    R"({"timestamp": 0, "input_length": 25, "output_length": 5, "hash_ids": [0, 1, 2]}
{"timestamp": 500, "input_length": 18, "output_length": 4, "hash_ids": [0, 3], "extra": "ignored"}

{"timestamp": 1000, "input_length": 40, "output_length": 6, "hash_ids": [0, 1, 2, 4]}
{"timestamp": 1500, "input_length": 32, "output_length": 3, "hash_ids": [0, 1, 5, 6]}
{"timestamp": 2500, "input_length": 30, "output_length": 8, "hash_ids": [0, 3, 7]}
{"timestamp": 3000, "input_length": 26, "output_length": 0, "hash_ids": [0, 8, 9]}
)";

struct Expected {
  int64_t user_tokens, output_tokens;
  double offset_s;
};

void expect_turns(const Conversation& c, const std::vector<Expected>& expected) {
  ASSERT_EQ(c.turns.size(), expected.size()) << "conversation " << c.id;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(c.turns[i].user_tokens, expected[i].user_tokens) << "conversation " << c.id << " turn " << i;
    EXPECT_EQ(c.turns[i].output_tokens, expected[i].output_tokens) << "conversation " << c.id << " turn " << i;
    EXPECT_DOUBLE_EQ(c.turns[i].offset_s, expected[i].offset_s) << "conversation " << c.id << " turn " << i;
    EXPECT_EQ(c.turns[i].think_time_s, 0);
  }
}

TEST(MooncakeTraceTest, RecoversConversationsByLongestSharedPrefix) {
  TempDir dir;
  Result<Workload> w = read_mooncake_trace(dir.write("t.jsonl", kMooncakeTrace), kSmallBlocks);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "mooncake");
  EXPECT_TRUE(validate_workload(*w).ok());
  ASSERT_EQ(w->conversations.size(), 3u);
  EXPECT_EQ(w->conversations[0].arrival_s, 0);
  expect_turns(w->conversations[0], {{25, 5, 0}, {40 - 30, 6, 1.0}, {1, 3, 1.5}});  // 32 - 46 < 1
  EXPECT_EQ(w->conversations[1].arrival_s, 0.5);
  expect_turns(w->conversations[1], {{18, 4, 0}, {30 - 22, 8, 2.0}});
  EXPECT_EQ(w->conversations[2].arrival_s, 3.0);
  expect_turns(w->conversations[2], {{26, 1, 0}});
}

TEST(MooncakeTraceTest, ScalesAndTruncates) {
  TempDir dir;
  TraceOptions o = kSmallBlocks;
  o.length_scale = 2;
  o.time_scale = 0.5;
  o.max_conversations = 2;
  Result<Workload> w = read_mooncake_trace(dir.write("t.jsonl", kMooncakeTrace), o);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  ASSERT_EQ(w->conversations.size(), 2u);
  expect_turns(w->conversations[0], {{50, 10, 0}, {20, 12, 0.5}, {2, 6, 0.75}});
  EXPECT_EQ(w->conversations[1].arrival_s, 0.25);
  expect_turns(w->conversations[1], {{36, 8, 0}, {16, 16, 1.0}});
}

TEST(MooncakeTraceTest, AContinuedRequestYieldsToAShorterOpenPrefix) {
  TempDir dir;
  // Line 2 shares [0, 1] with line 1 and continues it. Line 3 shares 4 ids with the continued
  // line 1 and [0, 1] with line 2, so it continues line 2. Line 5 continues line 4.
  const std::string path =
      dir.write("t.jsonl", R"({"timestamp": 0, "input_length": 40, "output_length": 5, "hash_ids": [0, 1, 2, 3]}
{"timestamp": 1, "input_length": 40, "output_length": 5, "hash_ids": [0, 1, 7, 8]}
{"timestamp": 2, "input_length": 50, "output_length": 5, "hash_ids": [0, 1, 2, 3, 9]}
{"timestamp": 3, "input_length": 25, "output_length": 5, "hash_ids": [0, 5, 6]}
{"timestamp": 4, "input_length": 40, "output_length": 5, "hash_ids": [0, 5, 6, 1]}
)");
  Result<Workload> w = read_mooncake_trace(path, kSmallBlocks);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  ASSERT_EQ(w->conversations.size(), 2u);
  expect_turns(w->conversations[0], {{40, 5, 0}, {1, 5, 0.001}, {50 - 45, 5, 0.002}});
  EXPECT_DOUBLE_EQ(w->conversations[1].arrival_s, 0.003);
  expect_turns(w->conversations[1], {{25, 5, 0}, {40 - 30, 5, 0.001}});
}

TEST(MooncakeTraceTest, SameFileSameWorkload) {
  TempDir dir;
  const std::string path = dir.write("t.jsonl", kMooncakeTrace);
  EXPECT_EQ(read_mooncake_trace(path, kSmallBlocks).value(), read_mooncake_trace(path, kSmallBlocks).value());
}

class MooncakeErrorTest : public ::testing::Test {
 protected:
  // The message of reading `text`; the path is replaced by "P".
  std::string error_of(std::string_view text, StatusCode code = StatusCode::kInvalidArgument) {
    const std::string path = dir_.write("t.jsonl", text);
    Result<Workload> w = read_mooncake_trace(path, kSmallBlocks);
    EXPECT_EQ(w.status().code(), code);
    std::string message = w.status().message();
    if (const size_t at = message.find(path); at != std::string::npos) message.replace(at, path.size(), "P");
    return message;
  }

  TempDir dir_;
};

constexpr std::string_view kGoodLine = R"({"timestamp": 1000, "input_length": 5, "output_length": 5, "hash_ids": [0]})";

TEST_F(MooncakeErrorTest, FieldErrorsNameThePathLineFieldAndValue) {
  const std::string good = std::string(kGoodLine) + "\n";
  EXPECT_EQ(
      error_of(good + good + R"({"timestamp": 1000, "input_length": "abc", "output_length": 5, "hash_ids": [0]})"),
      "mooncake trace P: line 3: input_length: must be an integer >= 1; got \"abc\"");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 5, "hash_ids": [0]})"),
            "mooncake trace P: line 1: output_length: missing");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 5, "output_length": -3, "hash_ids": [0]})"),
            "mooncake trace P: line 1: output_length: must be an integer >= 0; got -3");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 2.5, "output_length": 3, "hash_ids": [0]})"),
            "mooncake trace P: line 1: input_length: must be an integer >= 1; got 2.5");
  EXPECT_EQ(error_of(R"({"timestamp": -1, "input_length": 5, "output_length": 3, "hash_ids": [0]})"),
            "mooncake trace P: line 1: timestamp: must be a number >= 0; got -1");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 25, "output_length": 3, "hash_ids": [0, 1]})"),
            "mooncake trace P: line 1: hash_ids: must hold ceil(input_length / 10) = 3 ids; got 2");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": ["x"]})"),
            "mooncake trace P: line 1: hash_ids[0]: must be an integer >= 0; got \"x\"");
  EXPECT_EQ(error_of(R"({"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": 7})"),
            "mooncake trace P: line 1: hash_ids: must be an array of integers; got 7");
  EXPECT_EQ(error_of(good + R"({"timestamp": 500, "input_length": 5, "output_length": 5, "hash_ids": [0]})"),
            "mooncake trace P: line 2: timestamp: must be >= the previous request's (1000); got 500");
}

TEST_F(MooncakeErrorTest, StructuralErrors) {
  EXPECT_EQ(error_of("[1, 2]\n"), "mooncake trace P: line 1: expected a JSON object; got [1,2]");
  EXPECT_EQ(
      error_of(std::string(kGoodLine) + "\n{\"timestamp\": \n"),
      "mooncake trace P: line 2: invalid JSON: column 15: syntax error while parsing value - unexpected end of input; "
      "expected '[', '{', or a literal");
  EXPECT_EQ(error_of(""), "mooncake trace P: must hold at least one request; got none");
  EXPECT_EQ(error_of("\n  \n"), "mooncake trace P: must hold at least one request; got none");
}

TEST(MooncakeTraceTest, MissingFileAndBadOptions) {
  Result<Workload> w = read_mooncake_trace("/nonexistent/t.jsonl", TraceOptions{});
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w.status().message(), "mooncake trace /nonexistent/t.jsonl: cannot open: No such file or directory");
  EXPECT_EQ(read_mooncake_trace("x", {.length_scale = 0}).status().message(),
            "length_scale: must be in (0, 16]; got 0");
  EXPECT_EQ(read_mooncake_trace("x", {.time_scale = -1}).status().message(), "time_scale: must be > 0; got -1");
  EXPECT_EQ(read_mooncake_trace("x", {.max_conversations = -1}).status().message(),
            "max_conversations: must be >= 0; got -1");
  EXPECT_EQ(read_mooncake_trace("x", {.mooncake_block_tokens = 0}).status().message(),
            "mooncake_block_tokens: must be >= 1; got 0");
}

}  // namespace
}  // namespace ppd::workload
