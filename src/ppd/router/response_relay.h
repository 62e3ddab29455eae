// ResponseRelay: one attempt's node outputs turned into the client's OpenAI response:
// SSE chunks as tokens arrive (stream) or one JSON body at the end; incremental
// detokenization; stop strings (text held back until it cannot start one, the stream cut
// at the first match); usage with cached tokens. It records what routing and metrics need
// (output ids, times, transfer bytes). One relay per attempt, on the request's coroutine.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "ppd/common/clock.h"
#include "ppd/net/response_writer.h"
#include "ppd/router/node_client.h"
#include "ppd/router/openai_api.h"
#include "ppd/tokenizer/incremental_detokenizer.h"

namespace ppd::router {

struct RelayOutcome {
  Status status = Status::Ok();
  bool client_saw_bytes = false;  // a failure after this cannot be retried
};

class ResponseRelay {
 public:
  // All references must outlive the relay.
  ResponseRelay(const router::ApiRequest& request, const router::ResponseMeta& meta,
                const tokenizer::Tokenizer& tokenizer, net::ResponseWriter& writer, const Clock* clock);

  // Reads `stream` to its end and answers the client. On a node failure after bytes went
  // out, the stream ends with an error event; on a client that left, nothing more is sent.
  boost::asio::awaitable<RelayOutcome> run(NodeStream& stream);
  // Called once, when the first token arrives (its prefill is then done), before it is sent.
  void on_first_token(std::function<void()> callback) { on_first_token_ = std::move(callback); }

  const std::vector<TokenId>& output_ids() const { return output_ids_; }
  const std::string& text() const { return text_; }
  const std::string& finish_reason() const { return finish_reason_; }
  bool cut_by_stop_string() const { return cut_by_stop_string_; }
  int num_prompt_tokens() const { return last_.num_prompt_tokens; }
  int num_cached_tokens() const { return last_.num_cached_tokens; }
  int64_t transfer_bytes() const { return transfer_bytes_; }
  int64_t first_token_ns() const { return first_token_ns_; }
  int64_t last_token_ns() const { return last_token_ns_; }

 private:
  // Appends a token's text, applies stop strings and returns the text now safe to send.
  std::string take_text(std::string piece, bool final);
  boost::asio::awaitable<Status> send_piece(const std::string& text, bool first);
  boost::asio::awaitable<Status> send_end();
  router::Usage usage() const;

  const router::ApiRequest& request_;
  const router::ResponseMeta& meta_;
  net::ResponseWriter& writer_;
  const Clock* clock_;
  tokenizer::IncrementalDetokenizer detokenizer_;
  size_t max_stop_bytes_ = 0;
  std::string text_;
  size_t num_sent_bytes_ = 0;
  std::vector<TokenId> output_ids_;
  std::string finish_reason_;
  bool cut_by_stop_string_ = false;
  NodeOutput last_;
  int64_t transfer_bytes_ = 0;
  int64_t first_token_ns_ = 0;
  int64_t last_token_ns_ = 0;
  std::function<void()> on_first_token_;
};

}  // namespace ppd::router
