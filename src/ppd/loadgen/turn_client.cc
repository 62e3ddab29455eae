#include "ppd/loadgen/turn_client.h"

#include <utility>

#include <fmt/format.h>

#include "ppd/net/http_client.h"

namespace ppd::loadgen {
namespace {

// What the stream showed so far.
struct StreamState {
  stats::RequestRecord* record = nullptr;
  std::string* answer = nullptr;
  SteadyTime::time_point start;
  bool done = false;
  bool has_usage = false;
  std::string error;
};

Status on_line(std::string_view line, StreamState* s) {
  const StreamEvent e = parse_stream_line(line);
  switch (e.kind) {
    case StreamEvent::Kind::kIgnore:
      break;
    case StreamEvent::Kind::kDone:
      s->done = true;
      break;
    case StreamEvent::Kind::kError:
      if (s->error.empty()) s->error = e.error;
      break;
    case StreamEvent::Kind::kChunk:
      if (e.content.has_value() && !e.content->empty()) {
        s->record->token_times_s.push_back(seconds_since(s->start));
        *s->answer += *e.content;
      }
      if (e.usage.has_value()) {
        s->has_usage = true;
        s->record->prompt_tokens = e.usage->prompt_tokens;
        s->record->output_tokens = e.usage->completion_tokens;
        s->record->cached_tokens = e.usage->cached_tokens;
      }
      break;
  }
  return Status::Ok();
}

std::string failure(const Result<net::HttpResponse>& r, const StreamState& s, int64_t timeout_ms) {
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kDeadlineExceeded) return fmt::format("timeout after {} ms", timeout_ms);
    return r.status().message();
  }
  if (r->status_code != 200) return fmt::format("HTTP {}: {}", r->status_code, r->body.substr(0, 300));
  if (!s.error.empty()) return s.error;
  if (!s.done) return "the stream ended without data: [DONE]";
  return "";
}

void finish_record(const Result<net::HttpResponse>& r, const StreamState& s, const TurnCall& call,
                   stats::RequestRecord* record) {
  record->error = failure(r, s, call.timeout_ms);
  record->ok = record->error.empty();
  if (!record->token_times_s.empty()) record->first_token_s = record->token_times_s.front();
  if (!s.has_usage) record->output_tokens = static_cast<int64_t>(record->token_times_s.size());
  // E2E ends at the last content token (vLLM); a failure, or an answer without tokens, ends now.
  const bool ends_at_token = record->ok && !record->token_times_s.empty();
  record->end_s = ends_at_token ? record->token_times_s.back() : seconds_since(call.start);
}

}  // namespace

double seconds_since(SteadyTime::time_point start) {
  return std::chrono::duration<double>(SteadyTime::now() - start).count();
}

boost::asio::awaitable<TurnOutcome> send_turn(TurnCall call) {
  TurnOutcome out;
  out.record.conversation_id = call.conversation_id;
  out.record.turn = call.turn;
  net::HttpRequestSpec spec{.host = call.endpoint->host,
                            .port = call.endpoint->port,
                            .method = boost::beast::http::verb::post,
                            .target = call.endpoint->base_path + "/chat/completions",
                            .body = std::move(call.body),
                            .content_type = "application/json",
                            .timeout_ms = call.timeout_ms};
  if (!call.api_key.empty()) spec.headers.emplace_back("Authorization", "Bearer " + call.api_key);
  if (!call.session_id.empty()) spec.headers.emplace_back("X-Session-ID", call.session_id);
  StreamState state{.record = &out.record, .answer = &out.answer, .start = call.start};
  out.record.send_s = seconds_since(call.start);
  // A named handler: coroutine rule 1 (docs/decisions/0005).
  net::LineHandler handler = [&state](std::string_view line) { return on_line(line, &state); };
  const Result<net::HttpResponse> r = co_await net::http_stream(std::move(spec), std::move(handler));
  finish_record(r, state, call, &out.record);
  co_return out;
}

}  // namespace ppd::loadgen
