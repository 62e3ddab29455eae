#include <gtest/gtest.h>

#include "ppd/workload/test_util.h"
#include "ppd/workload/traces.h"

namespace ppd::workload {
namespace {

using testing::TempDir;

// Seven rows across midnight: fixed 3-turn grouping gives conversations of 3, 3 and 1 rows.
constexpr std::string_view kAzureTrace = R"(TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 23:59:58.5000000,374,44
2023-11-16 23:59:59.0000000,396,109
2023-11-16 23:59:59.7500000,879,0
2023-11-17 00:00:00.2500000,91,16
2023-11-17 00:00:01,12,7
2023-11-17 00:00:03.1,100,200
2023-11-17 00:01:00.000000001,5,6
)";

TEST(AzureTraceTest, GroupsRowsInFileOrder) {
  TempDir dir;
  Result<Workload> w = read_azure_trace(dir.write("t.csv", kAzureTrace), {.min_turns = 3, .max_turns = 3});
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "azure");
  EXPECT_TRUE(validate_workload(*w).ok());
  ASSERT_EQ(w->conversations.size(), 3u);
  const Conversation& c0 = w->conversations[0];
  EXPECT_EQ(c0.arrival_s, 0);
  ASSERT_EQ(c0.turns.size(), 3u);
  EXPECT_EQ(c0.turns[0].user_tokens, 374);
  EXPECT_EQ(c0.turns[0].output_tokens, 44);
  EXPECT_EQ(c0.turns[0].offset_s, 0);
  EXPECT_DOUBLE_EQ(c0.turns[1].offset_s, 0.5);
  EXPECT_EQ(c0.turns[2].output_tokens, 1);  // 0 generated tokens still asks for one
  EXPECT_DOUBLE_EQ(c0.turns[2].offset_s, 1.25);
  const Conversation& c1 = w->conversations[1];
  EXPECT_DOUBLE_EQ(c1.arrival_s, 1.75);  // across midnight
  ASSERT_EQ(c1.turns.size(), 3u);
  EXPECT_EQ(c1.turns[0].user_tokens, 91);
  EXPECT_DOUBLE_EQ(c1.turns[1].offset_s, 0.75);
  EXPECT_DOUBLE_EQ(c1.turns[2].offset_s, 2.85);
  EXPECT_EQ(c1.turns[2].output_tokens, 200);
  const Conversation& c2 = w->conversations[2];  // what is left
  EXPECT_DOUBLE_EQ(c2.arrival_s, 61.500000001);
  ASSERT_EQ(c2.turns.size(), 1u);
  EXPECT_EQ(c2.turns[0].user_tokens, 5);
}

TEST(AzureTraceTest, SeededTurnCountsScalingAndTruncation) {
  TempDir dir;
  const std::string path = dir.write("t.csv", kAzureTrace);
  const TraceOptions o{.min_turns = 1, .max_turns = 3, .seed = 9};
  const Workload w = read_azure_trace(path, o).value();
  EXPECT_EQ(w, read_azure_trace(path, o).value());
  EXPECT_EQ(num_turns(w), 7);
  for (size_t i = 0; i + 1 < w.conversations.size(); ++i) {
    EXPECT_GE(w.conversations[i].turns.size(), 1u);
    EXPECT_LE(w.conversations[i].turns.size(), 3u);
  }
  const Workload scaled =
      read_azure_trace(path,
                       {.length_scale = 0.5, .time_scale = 2, .max_conversations = 1, .min_turns = 2, .max_turns = 2})
          .value();
  ASSERT_EQ(scaled.conversations.size(), 1u);
  ASSERT_EQ(scaled.conversations[0].turns.size(), 2u);
  EXPECT_EQ(scaled.conversations[0].turns[0].user_tokens, 187);
  EXPECT_EQ(scaled.conversations[0].turns[1].output_tokens, 55);  // 54.5 rounds up
  EXPECT_DOUBLE_EQ(scaled.conversations[0].turns[1].offset_s, 1.0);
}

TEST(AzureTraceTest, DifferentSeedsGroupDifferently) {
  TempDir dir;
  std::string text = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n";  // CRLF line ends are accepted
  for (int i = 0; i < 200; ++i) text += "2023-11-16 18:15:46.6805900,10,20\r\n";
  const std::string path = dir.write("t.csv", text);
  const Workload a = read_azure_trace(path, {.seed = 1}).value();
  const Workload b = read_azure_trace(path, {.seed = 2}).value();
  EXPECT_NE(a, b);
  EXPECT_EQ(num_turns(a), 200);
  EXPECT_EQ(num_turns(b), 200);
}

class AzureErrorTest : public ::testing::Test {
 protected:
  // The message of reading `text`; the path is replaced by "P".
  std::string error_of(std::string_view text, StatusCode code = StatusCode::kInvalidArgument) {
    const std::string path = dir_.write("t.csv", text);
    Result<Workload> w = read_azure_trace(path, TraceOptions{});
    EXPECT_EQ(w.status().code(), code);
    std::string message = w.status().message();
    if (const size_t at = message.find(path); at != std::string::npos) message.replace(at, path.size(), "P");
    return message;
  }

  TempDir dir_;
};

TEST_F(AzureErrorTest, MalformedRowsNameThePathLineColumnAndValue) {
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n";
  EXPECT_EQ(error_of("TIMESTAMP,Context,Generated\n"),
            "azure trace P: line 1: header: must be \"TIMESTAMP,ContextTokens,GeneratedTokens\"; got "
            "\"TIMESTAMP,Context,Generated\"");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:47,374\n"),
            "azure trace P: line 3: expected 3 columns (TIMESTAMP,ContextTokens,GeneratedTokens); got 2");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:47,x,4\n"),
            "azure trace P: line 3: ContextTokens: must be an integer >= 1; got \"x\"");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:47,0,4\n"),
            "azure trace P: line 3: ContextTokens: must be an integer >= 1; got \"0\"");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:47,3,-4\n"),
            "azure trace P: line 3: GeneratedTokens: must be an integer >= 0; got \"-4\"");
  const std::string bad_time = "TIMESTAMP: must be \"YYYY-MM-DD hh:mm:ss[.fraction]\"; got ";
  EXPECT_EQ(error_of(head + "2023-13-16 18:15:47,3,4\n"),
            "azure trace P: line 3: " + bad_time + "\"2023-13-16 18:15:47\"");
  // Found by fuzz_traces: a year past 2262 overflowed the nanoseconds (UBSan).
  EXPECT_EQ(error_of(head + "2849-11-16 18:15:46,3,4\n"),
            "azure trace P: line 3: TIMESTAMP: the year must be in [1970, 2200]; got \"2849-11-16 18:15:46\"");
  EXPECT_EQ(error_of(head + "2023-02-29 18:15:47,3,4\n"),
            "azure trace P: line 3: " + bad_time + "\"2023-02-29 18:15:47\"");
  EXPECT_EQ(error_of(head + "2023-11-16T18:15:47,3,4\n"),
            "azure trace P: line 3: " + bad_time + "\"2023-11-16T18:15:47\"");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:47.,3,4\n"),
            "azure trace P: line 3: " + bad_time + "\"2023-11-16 18:15:47.\"");
  EXPECT_EQ(error_of(head + "2023-11-16 18:15:46.5,3,4\n"),
            "azure trace P: line 3: TIMESTAMP: must not precede the previous row's; got \"2023-11-16 18:15:46.5\"");
}

TEST_F(AzureErrorTest, EmptyTracesAndBadOptions) {
  EXPECT_EQ(error_of(""), "azure trace P: must hold a header and at least one row; got none");
  EXPECT_EQ(error_of("TIMESTAMP,ContextTokens,GeneratedTokens\n"),
            "azure trace P: must hold at least one row; got none");
  EXPECT_EQ(read_azure_trace("/nonexistent/t.csv", {}).status().message(),
            "azure trace /nonexistent/t.csv: cannot open: No such file or directory");
  EXPECT_EQ(read_azure_trace("x", {.min_turns = 0}).status().message(), "min_turns: must be >= 1; got 0");
  EXPECT_EQ(read_azure_trace("x", {.min_turns = 3, .max_turns = 2}).status().message(),
            "max_turns: must be >= min_turns (3); got 2");
  EXPECT_EQ(read_azure_trace("x", {.length_scale = 20}).status().message(), "length_scale: must be in (0, 16]; got 20");
}

}  // namespace
}  // namespace ppd::workload
