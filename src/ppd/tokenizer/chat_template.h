// Built-in chat templates (no Jinja): render_chat reproduces the text that the canonical
// Hugging Face Jinja templates produce for ChatML, Llama 2 chat, Llama 3 instruct and a
// plain "User:/Assistant:" format; select_chat_template picks one by name or detects it
// from a tokenizer. Pure functions; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ppd/common/status.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {

enum class ChatTemplateKind { kChatml, kLlama2, kLlama3, kPlain };

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct RenderOptions {
  // Append the opening of an assistant turn (ChatML, Llama 3, plain; Llama 2 has none).
  bool add_generation_prompt = true;
  // BOS text for Llama 2 / Llama 3; "" means the template's own ("<s>", "<|begin_of_text|>").
  std::string bos_token;
  // EOS text closing Llama 2 assistant turns; "" means "</s>".
  std::string eos_token;
};

// Returns the prompt text for `messages`. INVALID_ARGUMENT naming the message index and
// the rule when the messages do not fit the template: an unknown role, a system message
// that is not first (Llama 2, plain), roles that do not alternate user/assistant (Llama 2),
// or no messages at all.
Result<std::string> render_chat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                                const RenderOptions& options = {});

// Returns the template for `name`: "chatml", "llama-2", "llama-3", "plain", or "auto",
// which looks at the tokenizer's chat_template source ("<|im_start|>" -> chatml,
// "<|start_header_id|>" -> llama-3, "[INST]" -> llama-2), then at its vocabulary (those
// tokens), else picks plain.
Result<ChatTemplateKind> select_chat_template(std::string_view name, const Tokenizer& tokenizer);

// Returns "chatml", "llama-2", "llama-3" or "plain".
std::string_view chat_template_name(ChatTemplateKind kind);

}  // namespace ppd::tokenizer
