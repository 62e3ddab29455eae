#include "ppd/router/prompt_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ppd/tokenizer/test_tokenizers.h"

namespace ppd::router {
namespace {

using tokenizer::ChatMessage;
using tokenizer::testing::ByteLevelStyle;

tokenizer::Tokenizer qwen() {
  return tokenizer::testing::must_load(tokenizer::testing::byte_level_tokenizer_json(ByteLevelStyle::kQwen2));
}

ApiRequest chat(std::vector<ChatMessage> messages) {
  ApiRequest r;
  r.kind = ApiKind::kChat;
  r.messages = std::move(messages);
  return r;
}

std::vector<TokenId> bytes_of(std::string_view text) {  // one id per byte: not how BPE would split it
  std::vector<TokenId> ids;
  for (char c : text) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

TEST(PromptBuilderTest, TextTooLongForTheContextIsRefusedBeforeTokenizing) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  const int64_t bound = qwen().max_input_bytes_per_token();
  ASSERT_GT(bound, 0);
  const int max_model_len = 100;
  // Exactly max_model_len - 1 tokens' worth of bytes at the bound may still fit.
  const ApiRequest fits = chat({{"system", std::string(bound * 50, 'a')}, {"user", std::string(bound * 49, 'b')}});
  EXPECT_TRUE(builder.check_size(fits, max_model_len).ok());
  const ApiRequest too_long = chat({{"system", std::string(bound * 50, 'a')}, {"user", std::string(bound * 50, 'b')}});
  const Status s = builder.check_size(too_long, max_model_len);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            fmt::format("messages: {} bytes of text are at least 100 tokens (a token stands for at most {} "
                        "bytes); the prompt must be shorter than max_model_len 100",
                        bound * 100, bound));
  ApiRequest completion;
  completion.kind = ApiKind::kCompletion;
  completion.prompt_text = std::string(bound * 100, 'c');
  EXPECT_TRUE(builder.check_size(completion, max_model_len).message().starts_with("prompt: "));
  completion.prompt_text.reset();
  completion.prompt_token_ids = std::vector<TokenId>(1000, 1);  // ids are checked by count later
  EXPECT_TRUE(builder.check_size(completion, max_model_len).ok());
}

TEST(PromptBuilderTest, OnlyTheLatestAnswersAreLookedUp) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  std::vector<ChatMessage> messages = {{"user", "Hello"}, {"assistant", "Hi"}};
  const PromptPlan first = *builder.build(chat({{"user", "Hello"}}), store);
  builder.remember(chat({{"user", "Hello"}}), first, "Hi", bytes_of("Hi"), store);
  for (int i = 0; i < 4; ++i) {  // four newer answers this router never gave
    messages.push_back({"user", "More"});
    messages.push_back({"assistant", "Sure"});
  }
  messages.push_back({"user", "End"});
  EXPECT_EQ(builder.build(chat(messages), store)->num_reused_tokens, 0);
  messages.erase(messages.begin() + 2, messages.begin() + 4);  // three newer ones: the first answer is found
  EXPECT_GT(builder.build(chat(messages), store)->num_reused_tokens, 0);
}

TEST(PromptBuilderTest, FirstTurnTokenizesTheRenderedTemplate) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  const PromptPlan plan = *builder.build(chat({{"user", "Hello world"}}), store);
  EXPECT_EQ(plan.turn, 1);
  EXPECT_EQ(plan.text, "<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(plan.token_ids, *qwen().encode(plan.text));
  EXPECT_EQ(plan.num_reused_tokens, 0);
  EXPECT_EQ(plan.num_history_tokens, 0);
}

// The answer's ids were generated one byte at a time: a re-tokenization would merge them,
// so only reuse keeps turn 2 equal to what the decode node holds.
TEST(PromptBuilderTest, SecondTurnReusesTheExactIdsOfTheFirst) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  const PromptPlan first = *builder.build(chat({{"user", "Hello"}}), store);
  const std::vector<TokenId> answer = bytes_of("Hello world");
  builder.remember(chat({{"user", "Hello"}}), first, "Hello world", answer, store);

  const PromptPlan second =
      *builder.build(chat({{"user", "Hello"}, {"assistant", "Hello world"}, {"user", "world"}}), store);
  std::vector<TokenId> expected = first.token_ids;
  expected.insert(expected.end(), answer.begin(), answer.end());
  ASSERT_GE(second.token_ids.size(), expected.size());
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), second.token_ids.begin()));
  EXPECT_EQ(second.num_reused_tokens, static_cast<int>(expected.size()));
  EXPECT_EQ(second.num_history_tokens, static_cast<int>(expected.size()));
  EXPECT_EQ(second.turn, 2);
  // The rest is the template's glue and the new message, tokenized on its own.
  const std::vector<TokenId> rest =
      *qwen().encode("<|im_end|>\n<|im_start|>user\nworld<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), second.token_ids.begin() + static_cast<long>(expected.size())));
  EXPECT_EQ(second.token_ids.size(), expected.size() + rest.size());
  // Its answer replaces the first turn's entry: a conversation keeps one.
  builder.remember(chat({{"user", "Hello"}, {"assistant", "Hello world"}, {"user", "world"}}), second, "Bye",
                   bytes_of("Bye"), store);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.num_tokens(), static_cast<int64_t>(second.token_ids.size() + 3));
}

TEST(PromptBuilderTest, AnEditedAnswerIsTokenizedAfresh) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  const PromptPlan first = *builder.build(chat({{"user", "Hello"}}), store);
  builder.remember(chat({{"user", "Hello"}}), first, "Hello world", bytes_of("Hello world"), store);
  const PromptPlan second =
      *builder.build(chat({{"user", "Hello"}, {"assistant", "Hello there"}, {"user", "world"}}), store);
  EXPECT_EQ(second.num_reused_tokens, 0);
  EXPECT_EQ(second.token_ids, *qwen().encode(second.text));
  EXPECT_EQ(second.turn, 2);
  // n_ctx: the tokens of the history before the last user message.
  const std::vector<ChatMessage> history = {{"user", "Hello"}, {"assistant", "Hello there"}};
  const std::string history_text =
      *tokenizer::render_chat(tokenizer::ChatTemplateKind::kChatml, history, {.add_generation_prompt = false});
  EXPECT_EQ(second.num_history_tokens, static_cast<int>(qwen().encode(history_text)->size()));
}

// The plain template writes "Assistant: " before an answer but ends its generation prompt
// at "Assistant:"; the key follows the rendering, so the reuse still finds it.
TEST(PromptBuilderTest, ReuseFollowsTheTemplatesRenderingOfTheAnswer) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kPlain);
  ConversationStore store(1 << 20);
  const PromptPlan first = *builder.build(chat({{"user", "Hello"}}), store);
  builder.remember(chat({{"user", "Hello"}}), first, "Hello world", bytes_of(" Hello world"), store);
  const PromptPlan second =
      *builder.build(chat({{"user", "Hello"}, {"assistant", "Hello world"}, {"user", "world"}}), store);
  EXPECT_EQ(second.num_reused_tokens, static_cast<int>(first.token_ids.size() + 12));
  const std::vector<TokenId> rest = *qwen().encode("\nUser: world\nAssistant:");
  EXPECT_EQ(second.token_ids.size(), first.token_ids.size() + 12 + rest.size());
}

TEST(PromptBuilderTest, CompletionPromptsAsTextOrIds) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  ApiRequest text{.kind = ApiKind::kCompletion, .prompt_text = "Hello world"};
  EXPECT_EQ(builder.build(text, store)->token_ids, *qwen().encode("Hello world"));
  ApiRequest ids{.kind = ApiKind::kCompletion, .prompt_token_ids = std::vector<TokenId>{5, 6, 7}};
  EXPECT_EQ(builder.build(ids, store)->token_ids, (std::vector<TokenId>{5, 6, 7}));
}

TEST(PromptBuilderTest, TemplateErrorsNameTheMessage) {
  const PromptBuilder builder(qwen(), tokenizer::ChatTemplateKind::kChatml);
  ConversationStore store(1 << 20);
  const Result<PromptPlan> bad = builder.build(chat({{"robot", "Hello"}}), store);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "messages[0].role: unknown \"robot\"; supported: system, user, assistant");
}

TEST(ConversationStoreTest, EvictsLeastRecentlyUsedPastItsBudget) {
  ConversationStore store(10);
  store.put("a", {1, 2, 3, 4});
  store.put("b", {5, 6, 7, 8});
  ASSERT_NE(store.find("a"), nullptr);  // a is now the most recent
  store.put("c", {9, 10, 11});          // 11 tokens > 10: b goes
  EXPECT_EQ(store.find("b"), nullptr);
  EXPECT_EQ(*store.find("a"), (std::vector<TokenId>{1, 2, 3, 4}));
  EXPECT_EQ(store.num_tokens(), 7);
  store.put("huge", std::vector<TokenId>(11, 0));  // larger than the budget: not kept
  EXPECT_EQ(store.find("huge"), nullptr);
  EXPECT_EQ(store.size(), 2u);
  store.put("a", {1});  // replaces
  EXPECT_EQ(store.num_tokens(), 4);
  store.erase("c");
  EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace ppd::router
