// Reads the real Mooncake and Azure traces from $PPD_SHARED_DIR/traces and checks gross facts.
#include <gtest/gtest.h>

#include "ppd/workload/test_util.h"
#include "ppd/workload/traces.h"

namespace ppd::workload {
namespace {

// Checks what every read trace must satisfy, beyond validate_workload().
void expect_sane(const Workload& w) {
  ASSERT_TRUE(validate_workload(w).ok()) << validate_workload(w).to_string();
  ASSERT_GT(w.conversations.size(), 0u);
  for (size_t i = 0; i < w.conversations.size(); ++i) {
    const Conversation& c = w.conversations[i];
    ASSERT_EQ(c.id, static_cast<int64_t>(i));
    if (i > 0) {
      ASSERT_GE(c.arrival_s, w.conversations[i - 1].arrival_s);
    }
    for (const Turn& t : c.turns) {
      ASSERT_GE(t.user_tokens, 1);
      ASSERT_GE(t.output_tokens, 1);
      ASSERT_GE(t.offset_s, 0);
    }
  }
}

TEST(RealTracesTest, MooncakeConversationTrace) {
  const std::string dir = testing::shared_traces_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset; the real traces live under it";
  Result<Workload> w = read_mooncake_trace(dir + "/mooncake-fast25/conversation_trace.jsonl", {});
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  expect_sane(*w);
  const int64_t num_requests = num_turns(*w);
  const auto num_continuations = num_requests - static_cast<int64_t>(w->conversations.size());
  EXPECT_EQ(num_requests, 12031);
  EXPECT_GE(num_continuations, 4000);
  EXPECT_LE(num_continuations, 4700);
  std::cout << "mooncake: " << w->conversations.size() << " conversations, " << num_requests << " requests, "
            << num_continuations << " continuations\n";
}

TEST(RealTracesTest, AzureConversationTrace) {
  const std::string dir = testing::shared_traces_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset; the real traces live under it";
  Result<Workload> w = read_azure_trace(dir + "/azure-llm-2023/AzureLLMInferenceTrace_conv.csv", {});
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  expect_sane(*w);
  EXPECT_EQ(num_turns(*w), 19366);
  EXPECT_EQ(w->conversations.front().arrival_s, 0);
  std::cout << "azure: " << w->conversations.size() << " conversations, " << num_turns(*w) << " requests, last "
            << "arrival " << w->conversations.back().arrival_s << " s\n";
}

}  // namespace
}  // namespace ppd::workload
