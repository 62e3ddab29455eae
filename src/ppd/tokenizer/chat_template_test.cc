#include "ppd/tokenizer/chat_template.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/tokenizer/test_tokenizers.h"

namespace ppd::tokenizer {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are kind."},
    {"user", "Hi"},
    {"assistant", "Hello!"},
    {"user", "Tell me a story."},
};

std::string render(ChatTemplateKind kind, const std::vector<ChatMessage>& messages, RenderOptions options = {}) {
  Result<std::string> text = render_chat(kind, messages, options);
  EXPECT_TRUE(text.ok()) << text.status().to_string();
  return text.ok() ? *text : "";
}

TEST(ChatTemplateTest, Chatml) {
  EXPECT_EQ(render(ChatTemplateKind::kChatml, kConversation),
            "<|im_start|>system\nYou are kind.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>user\nTell me a story.<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render(ChatTemplateKind::kChatml, {{"user", "Hi"}}, {.add_generation_prompt = false}),
            "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplateTest, Llama2) {
  EXPECT_EQ(render(ChatTemplateKind::kLlama2, kConversation),
            "<s>[INST] <<SYS>>\nYou are kind.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
            "<s>[INST] Tell me a story. [/INST]");
  EXPECT_EQ(render(ChatTemplateKind::kLlama2, {{"user", " Hi \n"}}), "<s>[INST] Hi [/INST]");
}

TEST(ChatTemplateTest, Llama3) {
  EXPECT_EQ(render(ChatTemplateKind::kLlama3, kConversation),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are kind.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nTell me a story.<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(
      render(ChatTemplateKind::kLlama3, {{"user", "  Hi \n"}}, {.add_generation_prompt = false, .bos_token = "<BOS>"}),
      "<BOS><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
}

TEST(ChatTemplateTest, Plain) {
  EXPECT_EQ(render(ChatTemplateKind::kPlain, kConversation),
            "System: You are kind.\nUser: Hi\nAssistant: Hello!\nUser: Tell me a story.\nAssistant:");
  EXPECT_EQ(render(ChatTemplateKind::kPlain, {{"user", "Hi"}}), "User: Hi\nAssistant:");
}

TEST(ChatTemplateTest, ValidationErrors) {
  const auto error = [](ChatTemplateKind kind, const std::vector<ChatMessage>& messages) {
    return render_chat(kind, messages).status().to_string();
  };
  EXPECT_EQ(error(ChatTemplateKind::kChatml, {}), "INVALID_ARGUMENT: messages: must not be empty");
  EXPECT_EQ(error(ChatTemplateKind::kChatml, {{"user", "a"}, {"tool", "b"}}),
            "INVALID_ARGUMENT: messages[1].role: unknown \"tool\"; supported: system, user, assistant");
  EXPECT_EQ(error(ChatTemplateKind::kLlama2, {{"user", "a"}, {"user", "b"}}),
            "INVALID_ARGUMENT: messages[1].role: roles must alternate user/assistant for llama-2; "
            "expected \"assistant\", got \"user\"");
  EXPECT_EQ(error(ChatTemplateKind::kLlama2, {{"system", "s"}, {"assistant", "b"}}),
            "INVALID_ARGUMENT: messages[1].role: roles must alternate user/assistant for llama-2; "
            "expected \"user\", got \"assistant\"");
  EXPECT_EQ(error(ChatTemplateKind::kLlama2, {{"system", "s"}}),
            "INVALID_ARGUMENT: messages: llama-2 needs a user message after the system message");
  EXPECT_EQ(error(ChatTemplateKind::kPlain, {{"user", "a"}, {"system", "s"}}),
            "INVALID_ARGUMENT: messages[1].role: \"system\" must be the first message for plain");
  EXPECT_TRUE(render_chat(ChatTemplateKind::kChatml, std::vector<ChatMessage>{{"user", "a"}, {"system", "s"}}).ok());
}

TEST(ChatTemplateTest, SelectsByNameOrDetects) {
  using testing::ByteLevelStyle;
  const Tokenizer plain =
      testing::must_load(testing::sentencepiece_tokenizer_json(testing::SentencePieceStyle::kLlama2));
  EXPECT_EQ(*select_chat_template("chatml", plain), ChatTemplateKind::kChatml);
  EXPECT_EQ(*select_chat_template("llama-2", plain), ChatTemplateKind::kLlama2);
  EXPECT_EQ(*select_chat_template("llama-3", plain), ChatTemplateKind::kLlama3);
  EXPECT_EQ(*select_chat_template("plain", plain), ChatTemplateKind::kPlain);
  EXPECT_EQ(*select_chat_template("auto", plain), ChatTemplateKind::kPlain);
  EXPECT_EQ(select_chat_template("vicuna", plain).status().to_string(),
            "INVALID_ARGUMENT: chat_template: unknown \"vicuna\"; supported: auto, chatml, "
            "llama-2, llama-3, plain");
  const auto with_template = [](std::string_view source) {
    const std::string config = nlohmann::json{{"chat_template", source}}.dump();
    return *select_chat_template(
        "auto",
        testing::must_load(testing::sentencepiece_tokenizer_json(testing::SentencePieceStyle::kLlama2), config));
  };
  EXPECT_EQ(with_template("{{ '<|im_start|>' + m }}"), ChatTemplateKind::kChatml);
  EXPECT_EQ(with_template("{{ '<|start_header_id|>' }}"), ChatTemplateKind::kLlama3);
  EXPECT_EQ(with_template("{{ bos_token + '[INST] ' }}"), ChatTemplateKind::kLlama2);
  EXPECT_EQ(with_template("{{ 'User: ' }}"), ChatTemplateKind::kPlain);
  EXPECT_EQ(
      *select_chat_template("auto", testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kQwen2))),
      ChatTemplateKind::kChatml);
}

}  // namespace
}  // namespace ppd::tokenizer
