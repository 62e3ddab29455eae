#include "ppd/router/prompt_builder.h"

#include <algorithm>

namespace ppd::router {

using tokenizer::ChatMessage;

namespace {

constexpr int kMaxAnswerLookback = 4;  // assistant messages tried, latest first

}  // namespace

PromptBuilder::PromptBuilder(tokenizer::Tokenizer tokenizer, tokenizer::ChatTemplateKind chat_template)
    : tokenizer_(std::move(tokenizer)), chat_template_(chat_template) {}

Result<std::string> PromptBuilder::render(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  tokenizer::RenderOptions options{.add_generation_prompt = add_generation_prompt,
                                   .bos_token = tokenizer_.bos_token(),
                                   .eos_token = tokenizer_.eos_token()};
  return tokenizer::render_chat(chat_template_, messages, options);
}

// Templates that write the BOS text themselves (Llama 2/3) get no extra BOS id.
Result<std::vector<TokenId>> PromptBuilder::encode(std::string_view text, bool at_start) const {
  const bool template_has_bos = !tokenizer_.bos_token().empty() && text.starts_with(tokenizer_.bos_token());
  const bool add_bos = at_start && tokenizer_.add_bos_token() && tokenizer_.bos_id() && !template_has_bos;
  return tokenizer_.encode(text, tokenizer::EncodeOptions{.add_bos = add_bos});
}

Status PromptBuilder::check_size(const ApiRequest& request, int max_model_len) const {
  const int64_t bytes_per_token = tokenizer_.max_input_bytes_per_token();
  if (bytes_per_token <= 0 || (request.kind != ApiKind::kChat && !request.prompt_text)) return Status::Ok();
  int64_t num_bytes = 0;
  if (request.kind == ApiKind::kChat) {
    for (const ChatMessage& m : request.messages) num_bytes += static_cast<int64_t>(m.content.size());
  } else {
    num_bytes = static_cast<int64_t>(request.prompt_text->size());
  }
  const int64_t min_tokens = (num_bytes + bytes_per_token - 1) / bytes_per_token;
  if (min_tokens < max_model_len) return Status::Ok();
  return invalid_argument(
      "{}: {} bytes of text are at least {} tokens (a token stands for at most {} bytes); the "
      "prompt must be shorter than max_model_len {}",
      request.kind == ApiKind::kChat ? "messages" : "prompt", num_bytes, min_tokens, bytes_per_token, max_model_len);
}

Result<PromptPlan> PromptBuilder::build(const ApiRequest& request, ConversationStore& store) const {
  if (request.kind == ApiKind::kChat) return build_chat(request, store);
  PromptPlan plan;
  if (request.prompt_token_ids) {
    plan.token_ids = *request.prompt_token_ids;
    return plan;
  }
  plan.text = *request.prompt_text;
  PPD_ASSIGN_OR_RETURN(plan.token_ids, encode(plan.text, /*at_start=*/true));
  if (plan.token_ids.empty()) return invalid_argument("prompt: must not be empty");
  return plan;
}

std::optional<std::string> PromptBuilder::answer_key(std::span<const ChatMessage> messages) const {
  const std::string& content = messages.back().content;
  if (content.empty()) return std::nullopt;
  Result<std::string> text = render(messages, /*add_generation_prompt=*/false);
  if (!text.ok()) return std::nullopt;
  const size_t at = text->rfind(content);
  if (at == std::string::npos) return std::nullopt;
  text->resize(at + content.size());
  return std::move(*text);
}

// Looks for the latest assistant message whose text up to its end this router recorded;
// reuses those ids and tokenizes only what follows.
Result<PromptPlan> PromptBuilder::build_chat(const ApiRequest& request, ConversationStore& store) const {
  const std::vector<ChatMessage>& messages = request.messages;
  PromptPlan plan;
  PPD_ASSIGN_OR_RETURN(plan.text, render(messages, request.add_generation_prompt));
  plan.turn = 1 + static_cast<int>(std::count_if(messages.begin(), messages.end(),
                                                 [](const ChatMessage& m) { return m.role == "assistant"; }));
  int num_tried = 0;
  for (size_t k = messages.size(); k-- > 1 && num_tried < kMaxAnswerLookback;) {
    if (messages[k].role != "assistant") continue;
    ++num_tried;
    const std::optional<std::string> key = answer_key(std::span(messages).first(k + 1));
    if (!key || !plan.text.starts_with(*key)) continue;
    const std::shared_ptr<const std::vector<TokenId>> ids = store.find(*key);
    if (ids == nullptr) continue;
    PPD_ASSIGN_OR_RETURN(std::vector<TokenId> rest, encode(std::string_view(plan.text).substr(key->size()), false));
    plan.token_ids = *ids;
    plan.token_ids.insert(plan.token_ids.end(), rest.begin(), rest.end());
    plan.num_reused_tokens = static_cast<int>(ids->size());
    plan.reused_key_bytes = key->size();
    plan.num_history_tokens = plan.num_reused_tokens;
    return plan;
  }
  PPD_ASSIGN_OR_RETURN(plan.token_ids, encode(plan.text, /*at_start=*/true));
  // n_ctx without reuse: the tokens of everything before the last user message.
  auto last_user =
      std::find_if(messages.rbegin(), messages.rend(), [](const ChatMessage& m) { return m.role == "user"; });
  const size_t num_before = last_user == messages.rend() ? 0 : static_cast<size_t>(messages.rend() - last_user - 1);
  if (num_before > 0) {
    Result<std::string> history = render(std::span(messages).first(num_before), false);
    if (history.ok()) {
      Result<std::vector<TokenId>> ids = encode(*history, true);
      if (ids.ok()) plan.num_history_tokens = static_cast<int>(ids->size());
    }
  }
  return plan;
}

void PromptBuilder::remember(const ApiRequest& request, const PromptPlan& plan, std::string_view answer_text,
                             std::span<const TokenId> answer_ids, ConversationStore& store) const {
  if (request.kind != ApiKind::kChat || !request.add_generation_prompt) return;
  std::vector<ChatMessage> messages = request.messages;
  messages.push_back({"assistant", std::string(answer_text)});
  std::optional<std::string> key = answer_key(messages);
  if (!key) return;
  std::vector<TokenId> ids = plan.token_ids;
  ids.insert(ids.end(), answer_ids.begin(), answer_ids.end());
  store.put(*key, std::move(ids));
  if (plan.reused_key_bytes > 0) store.erase(std::string_view(plan.text).substr(0, plan.reused_key_bytes));
}

}  // namespace ppd::router
