// PromptBuilder: an OpenAI request to the prompt's token ids, with what routing needs to
// know about it (turn, history tokens). Chat requests go through the chat template; when
// the history holds an answer this router produced, the ids recorded for the text up to
// that answer are reused as they are and only the rest is tokenized, so turn 2+ matches
// the decode node's cached blocks token for token. Only the latest few answers are looked up,
// so a history of many short answers costs a few renderings, not one per answer. Stateless
// apart from the store it is given (which is thread-safe): safe to use from several threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/router/conversation_store.h"
#include "ppd/router/openai_api.h"
#include "ppd/tokenizer/chat_template.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::router {

struct PromptPlan {
  std::vector<TokenId> token_ids;
  int num_history_tokens = 0;   // tokens before the new user message (n_ctx)
  int num_reused_tokens = 0;    // ids taken from the conversation store
  size_t reused_key_bytes = 0;  // the store entry they came from: the first bytes of `text`
  int turn = 1;                 // 1 + the assistant messages in a chat history; 1 for completions
  std::string text;             // the rendered prompt; empty for token-id prompts
};

class PromptBuilder {
 public:
  PromptBuilder(tokenizer::Tokenizer tokenizer, tokenizer::ChatTemplateKind chat_template);

  // Refuses, before any tokenizing, a request whose text is sure to be max_model_len tokens or
  // more: its message contents (or prompt) hold more bytes than max_model_len tokens can stand
  // for (Tokenizer::max_input_bytes_per_token()). INVALID_ARGUMENT naming the field and sizes.
  Status check_size(const ApiRequest& request, int max_model_len) const;

  // Returns the plan, or INVALID_ARGUMENT from the template ("messages[1].role: ...") or
  // the tokenizer. Reads (and refreshes) `store`.
  Result<PromptPlan> build(const ApiRequest& request, ConversationStore& store) const;

  // Records a finished chat answer: the conversation's text up to the end of the answer, as
  // the template renders it, stands for the prompt's ids followed by the answer's ids
  // (without a final stop token, whose KV no node computed). The entry this prompt reused is
  // dropped: the new one extends it, and the conversation goes on from there. Completions are
  // not recorded. Mutates `store`.
  void remember(const ApiRequest& request, const PromptPlan& plan, std::string_view answer_text,
                std::span<const TokenId> answer_ids, ConversationStore& store) const;

  const tokenizer::Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Result<PromptPlan> build_chat(const ApiRequest& request, ConversationStore& store) const;
  Result<std::string> render(std::span<const tokenizer::ChatMessage> messages, bool add_generation_prompt) const;
  // The rendered text of `messages` up to the end of the last one's content (an assistant
  // answer): the key of its store entry. nullopt when the template does not show the
  // content verbatim.
  std::optional<std::string> answer_key(std::span<const tokenizer::ChatMessage> messages) const;
  Result<std::vector<TokenId>> encode(std::string_view text, bool at_start) const;

  tokenizer::Tokenizer tokenizer_;
  tokenizer::ChatTemplateKind chat_template_;
};

}  // namespace ppd::router
