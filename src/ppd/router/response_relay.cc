#include "ppd/router/response_relay.h"

#include <algorithm>

namespace ppd::router {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using router::ApiKind;

ResponseRelay::ResponseRelay(const router::ApiRequest& request, const router::ResponseMeta& meta,
                             const tokenizer::Tokenizer& tokenizer, net::ResponseWriter& writer, const Clock* clock)
    : request_(request),
      meta_(meta),
      writer_(writer),
      clock_(clock),
      detokenizer_(tokenizer, tokenizer::DecodeOptions{.skip_special_tokens = true}) {
  for (const std::string& s : request.stop) max_stop_bytes_ = std::max(max_stop_bytes_, s.size());
}

std::string ResponseRelay::take_text(std::string piece, bool final) {
  const size_t search_from = num_sent_bytes_;
  text_ += piece;
  size_t cut = std::string::npos;
  for (const std::string& stop : request_.stop) cut = std::min(cut, text_.find(stop, search_from));
  if (cut != std::string::npos) {
    text_.resize(cut);
    cut_by_stop_string_ = true;
    final = true;
  }
  size_t safe_end = text_.size();
  if (!final && max_stop_bytes_ > 1) {
    safe_end = text_.size() > max_stop_bytes_ - 1 ? text_.size() - (max_stop_bytes_ - 1) : 0;
    while (safe_end > num_sent_bytes_ && (static_cast<unsigned char>(text_[safe_end]) & 0xC0) == 0x80) --safe_end;
  }
  if (safe_end <= num_sent_bytes_) return {};
  std::string out = text_.substr(num_sent_bytes_, safe_end - num_sent_bytes_);
  num_sent_bytes_ = safe_end;
  return out;
}

router::Usage ResponseRelay::usage() const {
  return {.prompt_tokens = last_.num_prompt_tokens,
          .completion_tokens = static_cast<int>(output_ids_.size()),
          .cached_tokens = last_.num_cached_tokens};
}

asio::awaitable<Status> ResponseRelay::send_piece(const std::string& text, bool first) {
  if (!request_.stream) co_return Status::Ok();
  if (first) {
    Status s = co_await writer_.begin_stream("text/event-stream");
    if (!s.ok()) co_return s;
  }
  if (text.empty() && !(first && meta_.kind == ApiKind::kChat)) co_return Status::Ok();
  const nlohmann::json chunk = router::chunk_body(meta_, text, std::nullopt, first, request_.include_usage);
  co_return co_await writer_.write_chunk(router::sse_event(chunk));
}

asio::awaitable<Status> ResponseRelay::send_end() {
  if (!request_.stream) {
    const nlohmann::json body = router::completion_body(meta_, text_, finish_reason_, usage());
    co_return co_await writer_.send_json(http::status::ok, body);
  }
  const std::string_view reason = finish_reason_;
  const nlohmann::json last = router::chunk_body(meta_, "", reason, false, request_.include_usage);
  std::string out = router::sse_event(last);
  if (request_.include_usage) out += router::sse_event(router::usage_chunk_body(meta_, usage()));
  out += router::kSseDone;
  Status s = co_await writer_.write_chunk(out);
  if (s.ok()) s = co_await writer_.end_stream();
  co_return s;
}

asio::awaitable<RelayOutcome> ResponseRelay::run(NodeStream& stream) {
  for (;;) {
    Result<std::optional<NodeOutput>> out = co_await stream.next();
    if (!out.ok() || !*out) {
      Status error = out.ok() ? unavailable("node {}: stream ended early", stream.node()) : out.status();
      if (writer_.streaming()) {
        const std::string event = router::sse_error_event(error) + std::string(router::kSseDone);
        co_await writer_.write_chunk(event);
        co_await writer_.end_stream();
      }
      co_return RelayOutcome{error, writer_.responded()};
    }
    const NodeOutput& o = **out;
    const bool first = output_ids_.empty();
    if (first) {
      first_token_ns_ = clock_->now_ns();
      transfer_bytes_ = o.transfer_bytes;
      if (on_first_token_) on_first_token_();
    }
    last_token_ns_ = clock_->now_ns();
    output_ids_.push_back(o.token);
    last_ = o;
    const bool done = !o.finish_reason.empty();
    std::string piece = detokenizer_.push(o.token);
    if (done) piece += detokenizer_.flush();
    piece = take_text(std::move(piece), done);
    if (done || cut_by_stop_string_) {
      finish_reason_ = cut_by_stop_string_ || o.finish_reason != "length" ? "stop" : "length";
    }
    Status s = co_await send_piece(piece, first);
    if (s.ok() && !finish_reason_.empty()) s = co_await send_end();
    if (!s.ok()) co_return RelayOutcome{s, true};
    if (!finish_reason_.empty()) co_return RelayOutcome{Status::Ok(), true};
  }
}

}  // namespace ppd::router
