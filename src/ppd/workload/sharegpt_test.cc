#include "ppd/workload/sharegpt.h"

#include <sstream>

#include <gtest/gtest.h>

#include "ppd/workload/test_util.h"

namespace ppd::workload {
namespace {

using testing::TempDir;

// One token per whitespace-separated word.
int64_t count_words(std::string_view text) {
  std::istringstream in{std::string(text)};
  int64_t n = 0;
  for (std::string word; in >> word;) ++n;
  return n;
}

// Entry 0: system prompt, two turns, a trailing question; entry 1: no user message; entry 2:
// one turn with an empty reply; entry 3: two user messages in a row, so no complete turn.
constexpr std::string_view kShareGpt = R"([
  {"id": "a", "conversations": [
    {"from": "system", "value": "be brief"},
    {"from": "human", "value": "hello there"},
    {"from": "gpt", "value": "hi how are you", "markdown": {"x": 1}},
    {"from": "human", "value": "fine"},
    {"from": "gpt", "value": "good"},
    {"from": "human", "value": "unanswered"}]},
  {"id": "b", "conversations": [{"from": "gpt", "value": "a reply first"}]},
  {"id": "c", "conversations": [{"from": "user", "value": "one two three"}, {"from": "assistant", "value": ""}]},
  {"id": "d", "conversations": [{"from": "human", "value": "a"}, {"from": "human", "value": "b"},
                                {"from": "gpt", "value": "c"}]}
])";

TEST(ShareGptTest, ReadsCompleteTurnsAndSkipsEntriesWithout) {
  TempDir dir;
  Result<Workload> w = read_sharegpt(dir.write("s.json", kShareGpt), {}, count_words);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "sharegpt");
  EXPECT_TRUE(validate_workload(*w).ok());
  ASSERT_EQ(w->conversations.size(), 2u);
  const Conversation& a = w->conversations[0];
  EXPECT_EQ(a.system_text, "be brief");
  EXPECT_EQ(a.system_tokens, 2);
  ASSERT_EQ(a.turns.size(), 2u);
  EXPECT_EQ(a.turns[0].user_text, "hello there");
  EXPECT_EQ(a.turns[0].user_tokens, 2);
  EXPECT_EQ(a.turns[0].output_tokens, 4);
  EXPECT_EQ(a.turns[0].offset_s, -1);
  EXPECT_EQ(a.turns[1].user_text, "fine");
  EXPECT_EQ(a.turns[1].output_tokens, 1);
  const Conversation& c = w->conversations[1];
  EXPECT_EQ(c.id, 1);
  EXPECT_EQ(c.system_tokens, 0);
  ASSERT_EQ(c.turns.size(), 1u);
  EXPECT_EQ(c.turns[0].user_text, "one two three");
  EXPECT_EQ(c.turns[0].user_tokens, 3);
  EXPECT_EQ(c.turns[0].output_tokens, 1);  // an empty reply still asks for one token
}

TEST(ShareGptTest, CapsOutputsAndKeepsTheFirstUsableEntries) {
  TempDir dir;
  const std::string path = dir.write("s.json", kShareGpt);
  Result<Workload> w = read_sharegpt(path, {.max_conversations = 1, .max_output_tokens = 3}, count_words);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  ASSERT_EQ(w->conversations.size(), 1u);
  EXPECT_EQ(w->conversations[0].turns[0].output_tokens, 3);
  EXPECT_EQ(w->conversations[0].turns[1].output_tokens, 1);
  EXPECT_EQ(read_sharegpt(path, {}, count_words).value(), read_sharegpt(path, {}, count_words).value());
}

class ShareGptErrorTest : public ::testing::Test {
 protected:
  // The message of reading `text`; the path is replaced by "P".
  std::string error_of(std::string_view text) {
    const std::string path = dir_.write("s.json", text);
    Result<Workload> w = read_sharegpt(path, {}, count_words);
    EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
    std::string message = w.status().message();
    if (const size_t at = message.find(path); at != std::string::npos) message.replace(at, path.size(), "P");
    return message;
  }

  TempDir dir_;
};

TEST_F(ShareGptErrorTest, BadStructureNamesTheEntryAndField) {
  const std::string good = R"({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})";
  EXPECT_EQ(error_of("[" + good + R"(, {"conversations": [{"from": "bot", "value": "x"}]}])"),
            "sharegpt P: [1].conversations[0].from: unknown \"bot\"; supported: human, user, gpt, assistant, chatgpt, "
            "bing, bard, system");
  EXPECT_EQ(error_of(R"([{"items": []}])"), "sharegpt P: [0].conversations: missing");
  EXPECT_EQ(error_of(R"([{"conversations": {}}])"), "sharegpt P: [0].conversations: expected an array; got {}");
  EXPECT_EQ(error_of(R"([{"conversations": [{"from": "human", "value": 5}]}])"),
            "sharegpt P: [0].conversations[0].value: expected a string; got 5");
  EXPECT_EQ(error_of(R"([{"conversations": [{"value": "x"}]}])"), "sharegpt P: [0].conversations[0].from: missing");
  EXPECT_EQ(error_of(R"([{"conversations": [{"from": "human"}]}])"), "sharegpt P: [0].conversations[0].value: missing");
  EXPECT_EQ(error_of(R"([{"conversations": ["hi"]}])"),
            "sharegpt P: [0].conversations[0]: expected an object; got \"hi\"");
  EXPECT_EQ(error_of("[" + good + ", 5]"), "sharegpt P: [1]: expected an object; got 5");
  EXPECT_EQ(error_of(R"({"conversations": []})"),
            "sharegpt P: expected a JSON array of entries; got {\"conversations\":[]}");
  EXPECT_EQ(error_of("[1,"),
            "sharegpt P: invalid JSON: parse error at line 1, column 4: syntax error while parsing value - unexpected "
            "end of input; "
            "expected '[', '{', or a literal");
}

TEST_F(ShareGptErrorTest, NoCompleteTurn) {
  const std::string none =
      "sharegpt P: must hold an entry with a complete turn (a user message, then a reply); got none";
  EXPECT_EQ(error_of("[]"), none);
  EXPECT_EQ(error_of(R"([{"conversations": [{"from": "human", "value": ""}, {"from": "gpt", "value": "a"}]}])"), none);
}

TEST(ShareGptTest, BadOptionsAndMissingFile) {
  EXPECT_EQ(read_sharegpt("x", {.max_conversations = -1}, count_words).status().message(),
            "max_conversations: must be >= 0; got -1");
  EXPECT_EQ(read_sharegpt("x", {.max_output_tokens = -1}, count_words).status().message(),
            "max_output_tokens: must be >= 0; got -1");
  Result<Workload> w = read_sharegpt("/nonexistent/s.json", {}, count_words);
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w.status().message(), "sharegpt /nonexistent/s.json: cannot open: No such file or directory");
}

}  // namespace
}  // namespace ppd::workload
