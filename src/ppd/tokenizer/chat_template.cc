#include "ppd/tokenizer/chat_template.h"

#include <array>
#include <utility>

namespace ppd::tokenizer {
namespace {

constexpr std::string_view kWhitespace = " \t\n\r\f\v";

// Jinja's trim / Python's str.strip() on ASCII whitespace.
std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kWhitespace) - begin + 1);
}

Status check_roles(ChatTemplateKind kind, std::span<const ChatMessage> messages) {
  if (messages.empty()) return invalid_argument("messages: must not be empty");
  const bool system_only_first = kind == ChatTemplateKind::kLlama2 || kind == ChatTemplateKind::kPlain;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      return invalid_argument("messages[{}].role: unknown \"{}\"; supported: system, user, assistant", i, role);
    }
    if (role == "system" && i > 0 && system_only_first) {
      return invalid_argument("messages[{}].role: \"system\" must be the first message for {}", i,
                              chat_template_name(kind));
    }
  }
  return Status::Ok();
}

// Llama 2 wants user/assistant turns alternating, starting with user, after an optional
// system message.
Status check_llama2_alternation(std::span<const ChatMessage> messages) {
  const size_t first = messages[0].role == "system" ? 1 : 0;
  if (first == messages.size()) {
    return invalid_argument("messages: llama-2 needs a user message after the system message");
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const char* expected = (i - first) % 2 == 0 ? "user" : "assistant";
    if (messages[i].role != expected) {
      return invalid_argument(
          "messages[{}].role: roles must alternate user/assistant for llama-2; expected \"{}\", "
          "got \"{}\"",
          i, expected, messages[i].role);
    }
  }
  return Status::Ok();
}

std::string render_chatml(std::span<const ChatMessage> messages, const RenderOptions& options) {
  std::string out;
  for (const ChatMessage& message : messages) {
    out += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n";
  }
  if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama2(std::span<const ChatMessage> messages, const RenderOptions& options) {
  const std::string bos = options.bos_token.empty() ? "<s>" : options.bos_token;
  const std::string eos = options.eos_token.empty() ? "</s>" : options.eos_token;
  const bool has_system = messages[0].role == "system";
  std::string out;
  for (size_t i = has_system ? 1 : 0; i < messages.size(); ++i) {
    std::string content = messages[i].content;
    if (has_system && i == 1) {
      content = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + content;
    }
    if (messages[i].role == "user") {
      out += bos + "[INST] " + std::string(trim(content)) + " [/INST]";
    } else {
      out += " " + std::string(trim(content)) + " " + eos;
    }
  }
  return out;
}

std::string render_llama3(std::span<const ChatMessage> messages, const RenderOptions& options) {
  std::string out = options.bos_token.empty() ? "<|begin_of_text|>" : options.bos_token;
  for (const ChatMessage& message : messages) {
    out += "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n" + std::string(trim(message.content)) +
           "<|eot_id|>";
  }
  if (options.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_plain(std::span<const ChatMessage> messages, const RenderOptions& options) {
  std::string out;
  for (const ChatMessage& message : messages) {
    const char* label = message.role == "system" ? "System: " : message.role == "user" ? "User: " : "Assistant: ";
    out += label + message.content + "\n";
  }
  if (options.add_generation_prompt) out += "Assistant:";
  return out;
}

}  // namespace

Result<std::string> render_chat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                                const RenderOptions& options) {
  PPD_RETURN_IF_ERROR(check_roles(kind, messages));
  switch (kind) {
    case ChatTemplateKind::kChatml:
      return render_chatml(messages, options);
    case ChatTemplateKind::kLlama2:
      PPD_RETURN_IF_ERROR(check_llama2_alternation(messages));
      return render_llama2(messages, options);
    case ChatTemplateKind::kLlama3:
      return render_llama3(messages, options);
    case ChatTemplateKind::kPlain:
      return render_plain(messages, options);
  }
  return internal_error("render_chat: unhandled template kind");
}

Result<ChatTemplateKind> select_chat_template(std::string_view name, const Tokenizer& tokenizer) {
  constexpr std::array<std::pair<std::string_view, ChatTemplateKind>, 3> kMarkers = {{
      {"<|im_start|>", ChatTemplateKind::kChatml},
      {"<|start_header_id|>", ChatTemplateKind::kLlama3},
      {"[INST]", ChatTemplateKind::kLlama2},
  }};
  for (const ChatTemplateKind kind :
       {ChatTemplateKind::kChatml, ChatTemplateKind::kLlama2, ChatTemplateKind::kLlama3, ChatTemplateKind::kPlain}) {
    if (name == chat_template_name(kind)) return kind;
  }
  if (name != "auto") {
    return invalid_argument(
        "chat_template: unknown \"{}\"; supported: auto, chatml, llama-2, "
        "llama-3, plain",
        name);
  }
  for (const auto& [marker, kind] : kMarkers) {
    if (tokenizer.chat_template_source().find(marker) != std::string::npos) return kind;
  }
  for (const auto& [marker, kind] : kMarkers) {
    if (tokenizer.token_to_id(marker)) return kind;
  }
  return ChatTemplateKind::kPlain;
}

std::string_view chat_template_name(ChatTemplateKind kind) {
  switch (kind) {
    case ChatTemplateKind::kChatml:
      return "chatml";
    case ChatTemplateKind::kLlama2:
      return "llama-2";
    case ChatTemplateKind::kLlama3:
      return "llama-3";
    case ChatTemplateKind::kPlain:
      return "plain";
  }
  return "unknown";
}

}  // namespace ppd::tokenizer
