// The OpenAI-compatible surface of the router: request bodies of /v1/chat/completions and
// /v1/completions parsed and validated into an ApiRequest, and the response bodies built
// back (whole completions, SSE chunks, usage, /v1/models). Unknown keys are ignored, as
// OpenAI-compatible servers do, but known keys with a wrong type or a value outside its
// range, and features this server does not offer (n > 1, logprobs, tools, penalties), are
// INVALID_ARGUMENT naming the field, the rule and the value. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/request/sampling_params.h"
#include "ppd/tokenizer/chat_template.h"

namespace ppd::router {

enum class ApiKind { kChat, kCompletion };

struct ApiRequest {
  ApiKind kind = ApiKind::kChat;
  std::string model;
  std::vector<tokenizer::ChatMessage> messages;          // chat
  std::optional<std::string> prompt_text;                // completion, prompt as text
  std::optional<std::vector<TokenId>> prompt_token_ids;  // completion, prompt as ids
  // temperature, top_p, top_k, max_tokens (or max_completion_tokens), min_tokens,
  // ignore_eos, seed, stop_token_ids. Defaults as OpenAI's: temperature 1, top_p 1.
  request::SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings, at most 4, none empty
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  bool add_generation_prompt = true;  // chat; vLLM's extension
  std::string user;                   // the `user` field; "" when absent
};

// Parses and validates a request body for `kind`. Errors (INVALID_ARGUMENT):
// "request body: invalid JSON: <detail>", "request body: expected a JSON object; got [1]",
// "<field>: <rule>; got <value>", e.g. "temperature: must be in [0, 2]; got 2.5",
// "messages: must be a non-empty array", "n: only 1 is supported; got 2",
// "logprobs: not supported". <value> is the JSON as sent, cut to about 40 characters.
// Null means unset for every optional field.
Result<ApiRequest> parse_api_request(std::string_view body, ApiKind kind);

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;  // usage.prompt_tokens_details.cached_tokens
};

// What every response object of one request shares.
struct ResponseMeta {
  ApiKind kind = ApiKind::kChat;
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

// {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details": {"cached_tokens"}}
nlohmann::json usage_json(const Usage& usage);

// A whole (non-streamed) response: object "chat.completion" with choices[0].message
// {role "assistant", content} or "text_completion" with choices[0].text; finish_reason
// "stop" or "length"; usage.
nlohmann::json completion_body(const ResponseMeta& meta, std::string_view text, std::string_view finish_reason,
                               const Usage& usage);

// One streamed chunk: "chat.completion.chunk" with choices[0].delta ({"role": "assistant"}
// added when `first`, "content" when text is not empty) or "text_completion" with
// choices[0].text; finish_reason null unless given; "usage": null when `usage_null`
// (stream_options.include_usage asks every chunk to carry it).
nlohmann::json chunk_body(const ResponseMeta& meta, std::string_view text,
                          std::optional<std::string_view> finish_reason, bool first, bool usage_null);

// The last chunk when include_usage: "choices": [] and the usage.
nlohmann::json usage_chunk_body(const ResponseMeta& meta, const Usage& usage);

// "data: <json>\n\n"
std::string sse_event(const nlohmann::json& body);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// The OpenAI error object for a Status, as an SSE event for a stream that already began:
// data: {"error": {"message", "type", "param": null, "code"}}\n\n
std::string sse_error_event(const Status& status);

// GET /v1/models: {"object": "list", "data": [{"id", "object": "model", "created", "owned_by": "ppd"}]}
nlohmann::json models_body(std::string_view model, int64_t created);

}  // namespace ppd::router
