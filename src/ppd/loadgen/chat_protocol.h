// The OpenAI chat-completions wire format as the load generator speaks it: the endpoint URL,
// the streamed request body of one conversation turn, and the reading of one SSE line of the
// answer. Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::loadgen {

// Where the load goes: an OpenAI-compatible server, e.g. "http://127.0.0.1:8000" or
// "http://host:8000/v1" (a path prefix ending in /v1 is kept; the routes appended are
// /chat/completions and /models below it, or /v1/... when the URL has no path).
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string base_path;  // "/v1" by default
  std::string url;        // as given, for reports
};

// Parses "http://host:port[/path]". INVALID_ARGUMENT naming the field and value for another
// scheme (https is not supported), a missing host or port, or a port outside [1, 65535].
Result<Endpoint> parse_endpoint(std::string_view url);

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct TurnRequest {
  std::string model;
  const std::vector<ChatMessage>* messages = nullptr;  // the history, ending with the new user message
  int64_t max_tokens = 1;
  bool ignore_eos = true;  // vLLM's extension: generate exactly max_tokens
  double temperature = 0;
  uint64_t seed = 0;
};

// The JSON body: model, messages, max_tokens, stream with include_usage, temperature, seed,
// and ignore_eos when set.
std::string chat_request_body(const TurnRequest& request);

// The usage object of a response.
struct StreamUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt_tokens_details.cached_tokens, 0 when absent
};

// What one SSE line of a streamed chat completion carried.
struct StreamEvent {
  enum class Kind { kIgnore, kChunk, kDone, kError };
  Kind kind = Kind::kIgnore;
  std::optional<std::string> content;  // kChunk: choices[0].delta.content when present
  std::optional<StreamUsage> usage;    // kChunk: the chunk's usage when not null
  std::string error;                   // kError: what went wrong, as the server said it
};

// Reads one line: "data: [DONE]" is kDone, "data: {"error": ...}" is kError with the error's
// message, any other "data: {...}" object is kChunk; comments and blank lines are kIgnore. A
// data line that is not a JSON object is kError naming the line.
StreamEvent parse_stream_line(std::string_view line);

}  // namespace ppd::loadgen
