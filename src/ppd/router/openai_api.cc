#include "ppd/router/openai_api.h"

#include <algorithm>
#include <cmath>

#include "ppd/common/json_excerpt.h"
#include "ppd/common/json_limits.h"

namespace ppd::router {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxExcerptChars = 40;
constexpr size_t kMaxStopStrings = 4;

// Compact JSON; invalid UTF-8 (streamed text may end inside a sequence) is replaced, not thrown.
std::string dump_lenient(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// `value` for an error message: cut to about 40 chars at a UTF-8 boundary (error bodies are JSON).
std::string excerpt(const json& value) { return json_excerpt(value, kMaxExcerptChars); }

Status rule_error(std::string_view field, std::string_view rule, const json& value) {
  return invalid_argument("{}: {}; got {}", field, rule, excerpt(value));
}
Status type_error(std::string_view field, std::string_view kind, const json& value) {
  return rule_error(field, fmt::format("expected {}", kind), value);
}

// The value of `key` in `object`, or nullptr when absent or null (OpenAI reads null as unset).
const json* find_field(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// `*value`, or null for an absent field, without copying (values may be large or deep).
const json& or_null(const json* value) {
  static const json kNull;
  return value == nullptr ? kNull : *value;
}

// An integral JSON number as int64 (2.0 counts; 1.5 does not). Unsigned values past INT64_MAX
// saturate: every caller has a smaller upper bound and reports the value as sent.
std::optional<int64_t> as_int64(const json& value) {
  if (value.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), INT64_MAX));
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_number_float()) return std::nullopt;
  const double d = value.get<double>();
  constexpr double kTwoPow63 = 9223372036854775808.0;
  if (std::trunc(d) != d || d >= kTwoPow63 || d < -kTwoPow63) return std::nullopt;
  return static_cast<int64_t>(d);
}

// An integer in [min, INT32_MAX]; `field` names it in errors.
Result<int> to_int(const json& value, std::string_view field, int64_t min) {
  const std::optional<int64_t> i = as_int64(value);
  if (!i) return type_error(field, "an integer", value);
  if (*i < min) return rule_error(field, fmt::format("must be >= {}", min), value);
  if (*i > INT32_MAX) return rule_error(field, fmt::format("must be <= {}", INT32_MAX), value);
  return static_cast<int>(*i);
}

Result<std::optional<int>> read_int(const json& object, std::string_view key, int64_t min) {
  const json* value = find_field(object, key);
  if (value == nullptr) return std::optional<int>();
  PPD_ASSIGN_OR_RETURN(const int i, to_int(*value, key, min));
  return std::optional<int>(i);
}

// The value of `key` when `is` accepts its JSON type; nullopt when absent or null.
template <typename T>
Result<std::optional<T>> read_typed(const json& object, std::string_view key, bool (json::*is)() const noexcept,
                                    std::string_view kind) {
  const json* value = find_field(object, key);
  if (value == nullptr) return std::optional<T>();
  if (!(value->*is)()) return type_error(key, kind, *value);
  return std::optional<T>(value->get<T>());
}

Result<std::optional<double>> read_number(const json& object, std::string_view key) {
  return read_typed<double>(object, key, &json::is_number, "a number");
}
Result<std::optional<bool>> read_bool(const json& object, std::string_view key) {
  return read_typed<bool>(object, key, &json::is_boolean, "a boolean");
}
Result<std::optional<std::string>> read_string(const json& object, std::string_view key) {
  return read_typed<std::string>(object, key, &json::is_string, "a string");
}

// Errors carry nlohmann's message without its "[json.exception.parse_error.101] " tag, with
// bytes past ASCII (it may quote the input) as '?' so that the message stays valid UTF-8.
Result<json> parse_body(std::string_view body) {
  if (json_nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return invalid_argument("request body: JSON nested deeper than {} levels", kMaxJsonDepth);
  }
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    std::string detail = e.what();
    detail.erase(0, detail.find("] ") == std::string::npos ? 0 : detail.find("] ") + 2);
    std::replace_if(
        detail.begin(), detail.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }, '?');
    return invalid_argument("request body: invalid JSON: {}", detail);
  }
  if (!j.is_object()) return type_error("request body", "a JSON object", j);
  return j;
}

// One content part; only text parts are accepted.
Result<std::string> parse_content_part(const json& part, const std::string& field) {
  if (!part.is_object()) return type_error(field, "an object", part);
  const json& type = or_null(find_field(part, "type"));
  if (type != "text") return rule_error(field + ".type", "only \"text\" is supported", type);
  const json& text = or_null(find_field(part, "text"));
  if (!text.is_string()) return type_error(field + ".text", "a string", text);
  return text.get<std::string>();
}

// A string, or an array of text parts (concatenated); absent or null only for the assistant.
Result<std::string> parse_content(const json& message, const std::string& field, const std::string& role) {
  const json* content = find_field(message, "content");
  if (content == nullptr && role == "assistant") return std::string();
  if (content == nullptr || !(content->is_string() || content->is_array())) {
    return type_error(field, "a string or an array of text parts", or_null(content));
  }
  if (content->is_string()) return content->get<std::string>();
  std::string text;
  for (size_t j = 0; j < content->size(); ++j) {
    PPD_ASSIGN_OR_RETURN(const std::string part, parse_content_part((*content)[j], fmt::format("{}[{}]", field, j)));
    text += part;
  }
  return text;
}

Result<tokenizer::ChatMessage> parse_message(const json& message, size_t i) {
  const std::string field = fmt::format("messages[{}]", i);
  if (!message.is_object()) return type_error(field, "an object", message);
  const json* role = find_field(message, "role");
  if (role == nullptr) return invalid_argument("{}.role: missing", field);
  if (!role->is_string()) return type_error(field + ".role", "a string", *role);
  tokenizer::ChatMessage out;
  out.role = role->get<std::string>();
  PPD_ASSIGN_OR_RETURN(out.content, parse_content(message, field + ".content", out.role));
  return out;
}

Status parse_chat_fields(const json& j, ApiRequest& req) {
  const json* messages = find_field(j, "messages");
  if (messages == nullptr) return invalid_argument("messages: missing");
  if (!messages->is_array()) return type_error("messages", "an array", *messages);
  if (messages->empty()) return invalid_argument("messages: must be a non-empty array");
  for (size_t i = 0; i < messages->size(); ++i) {
    PPD_ASSIGN_OR_RETURN(tokenizer::ChatMessage message, parse_message((*messages)[i], i));
    req.messages.push_back(std::move(message));
  }
  PPD_ASSIGN_OR_RETURN(const std::optional<bool> add_generation_prompt, read_bool(j, "add_generation_prompt"));
  req.add_generation_prompt = add_generation_prompt.value_or(true);
  return Status::Ok();
}

// Token ids >= 0 in the array `value` named `field`; the router checks them against the vocabulary.
Result<std::vector<TokenId>> to_token_ids(const json& value, std::string_view field) {
  if (!value.is_array()) return type_error(field, "an array of integers", value);
  std::vector<TokenId> ids;
  for (size_t i = 0; i < value.size(); ++i) {
    PPD_ASSIGN_OR_RETURN(const int id, to_int(value[i], fmt::format("{}[{}]", field, i), 0));
    ids.push_back(id);
  }
  return ids;
}

Status parse_prompt(const json& j, ApiRequest& req) {
  const json* prompt = find_field(j, "prompt");
  if (prompt == nullptr) return invalid_argument("prompt: missing");
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) prompt = &(*prompt)[0];
  if (prompt->is_string()) {
    req.prompt_text = prompt->get<std::string>();
    return Status::Ok();
  }
  if (!prompt->is_array())
    return type_error("prompt", "a string, an array of token ids or an array of one string", *prompt);
  if (prompt->empty()) return rule_error("prompt", "must not be empty", *prompt);
  if ((*prompt)[0].is_string()) return rule_error("prompt", "must hold exactly one string", *prompt);
  PPD_ASSIGN_OR_RETURN(req.prompt_token_ids, to_token_ids(*prompt, "prompt"));
  return Status::Ok();
}

bool is_false(const json& v) { return v.is_boolean() && !v.get<bool>(); }
bool is_zero(const json& v) { return v.is_number() && v.get<double>() == 0.0; }
bool is_one(const json& v) { return v.is_number() && v.get<double>() == 1.0; }
bool is_empty_array(const json& v) { return v.is_array() && v.empty(); }
bool is_text_format(const json& v) {
  return v.is_object() && v.size() == 1 && or_null(find_field(v, "type")) == "text";
}

// Features this server does not offer: each key may only be absent, null or its neutral value.
Status check_unsupported(const json& j, ApiKind kind) {
  const std::pair<std::string_view, bool (*)(const json&)> rules[] = {
      {"logprobs", kind == ApiKind::kChat ? is_false : is_zero},
      {"tools", is_empty_array},
      {"functions", is_empty_array},
      {"frequency_penalty", is_zero},
      {"presence_penalty", is_zero},
      {"repetition_penalty", is_one},
      {"echo", is_false},
      {"best_of", is_one},
      {"response_format", is_text_format}};
  for (const auto& [key, is_neutral] : rules) {
    const json* value = find_field(j, key);
    if (value != nullptr && !is_neutral(*value)) return invalid_argument("{}: not supported", key);
  }
  const json* n = find_field(j, "n");
  if (n != nullptr && as_int64(*n) != 1) return rule_error("n", "only 1 is supported", *n);
  return Status::Ok();
}

Status read_temperature_top_p(const json& j, request::SamplingParams& p) {
  PPD_ASSIGN_OR_RETURN(const std::optional<double> temperature, read_number(j, "temperature"));
  if (temperature && !(*temperature >= 0.0 && *temperature <= 2.0)) {
    return rule_error("temperature", "must be in [0, 2]", *find_field(j, "temperature"));
  }
  PPD_ASSIGN_OR_RETURN(const std::optional<double> top_p, read_number(j, "top_p"));
  if (top_p && !(*top_p > 0.0 && *top_p <= 1.0))
    return rule_error("top_p", "must be in (0, 1]", *find_field(j, "top_p"));
  p.temperature = temperature.value_or(1.0);
  p.top_p = top_p.value_or(1.0);
  return Status::Ok();
}

// max_tokens, or for chat max_completion_tokens (which wins), and min_tokens.
Status read_length_limits(const json& j, ApiKind kind, request::SamplingParams& p) {
  PPD_ASSIGN_OR_RETURN(p.max_tokens, read_int(j, "max_tokens", 1));
  if (kind == ApiKind::kChat) {
    PPD_ASSIGN_OR_RETURN(const std::optional<int> max_completion_tokens, read_int(j, "max_completion_tokens", 1));
    if (max_completion_tokens) p.max_tokens = max_completion_tokens;
  }
  PPD_ASSIGN_OR_RETURN(const std::optional<int> min_tokens, read_int(j, "min_tokens", 0));
  p.min_tokens = min_tokens.value_or(0);
  if (p.max_tokens && p.min_tokens > *p.max_tokens) {
    return invalid_argument("min_tokens: must be <= max_tokens {}; got {}", *p.max_tokens, p.min_tokens);
  }
  return Status::Ok();
}

// OpenAI's seed may be negative; the engine's is a uint64, so it takes the bits.
Result<std::optional<uint64_t>> read_seed(const json& j) {
  const json* seed = find_field(j, "seed");
  if (seed == nullptr) return std::optional<uint64_t>();
  if (seed->is_number_unsigned()) return std::optional<uint64_t>(seed->get<uint64_t>());
  const std::optional<int64_t> i = as_int64(*seed);
  if (!i) return type_error("seed", "an integer", *seed);
  return std::optional<uint64_t>(static_cast<uint64_t>(*i));
}

Result<request::SamplingParams> parse_sampling(const json& j, ApiKind kind) {
  request::SamplingParams p;
  PPD_RETURN_IF_ERROR(read_temperature_top_p(j, p));
  PPD_ASSIGN_OR_RETURN(const std::optional<int> top_k, read_int(j, "top_k", -1));
  p.top_k = std::max(top_k.value_or(0), 0);  // vLLM's -1 means off, as does 0
  PPD_RETURN_IF_ERROR(read_length_limits(j, kind, p));
  PPD_ASSIGN_OR_RETURN(const std::optional<bool> ignore_eos, read_bool(j, "ignore_eos"));
  p.ignore_eos = ignore_eos.value_or(false);
  PPD_ASSIGN_OR_RETURN(p.seed, read_seed(j));
  if (const json* ids = find_field(j, "stop_token_ids"); ids != nullptr) {
    PPD_ASSIGN_OR_RETURN(p.stop_token_ids, to_token_ids(*ids, "stop_token_ids"));
  }
  return p;
}

// A string or an array of at most 4; none may be empty.
Result<std::vector<std::string>> parse_stop(const json& j) {
  const json* stop = find_field(j, "stop");
  if (stop == nullptr) return std::vector<std::string>();
  if (!stop->is_string() && !stop->is_array()) return type_error("stop", "a string or an array of strings", *stop);
  const json single = stop->is_string() ? json::array({*stop}) : json::array();
  const json& list = stop->is_string() ? single : *stop;
  if (list.size() > kMaxStopStrings) {
    return invalid_argument("stop: must hold at most {} strings; got {}", kMaxStopStrings, list.size());
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = stop->is_string() ? "stop" : fmt::format("stop[{}]", i);
    if (!list[i].is_string()) return type_error(field, "a string", list[i]);
    if (list[i].get_ref<const std::string&>().empty()) return rule_error(field, "must not be empty", list[i]);
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

Status parse_stream(const json& j, ApiRequest& req) {
  PPD_ASSIGN_OR_RETURN(const std::optional<bool> stream, read_bool(j, "stream"));
  req.stream = stream.value_or(false);
  const json* options = find_field(j, "stream_options");
  if (options == nullptr) return Status::Ok();
  if (!options->is_object()) return type_error("stream_options", "an object", *options);
  if (!req.stream) return invalid_argument("stream_options: only allowed when stream is true");
  const json* include_usage = find_field(*options, "include_usage");
  if (include_usage == nullptr) return Status::Ok();
  if (!include_usage->is_boolean()) return type_error("stream_options.include_usage", "a boolean", *include_usage);
  req.include_usage = include_usage->get<bool>();
  return Status::Ok();
}

// The codes as the server maps them to HTTP (see net::http_status_for; router does not use net).
std::pair<int, std::string_view> error_kind_for(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return {400, "invalid_request_error"};
    case StatusCode::kNotFound:
      return {404, "not_found_error"};
    case StatusCode::kResourceExhausted:
      return {429, "rate_limit_error"};
    case StatusCode::kUnavailable:
      return {503, "service_unavailable_error"};
    case StatusCode::kDeadlineExceeded:
      return {504, "timeout_error"};
    default:
      return {500, "server_error"};
  }
}

// The fields every response object shares; completions stream "text_completion" objects too.
json response_head(const ResponseMeta& meta, bool chunk) {
  const std::string_view chat_object = chunk ? "chat.completion.chunk" : "chat.completion";
  const std::string_view object = meta.kind == ApiKind::kChat ? chat_object : "text_completion";
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

Result<ApiRequest> parse_api_request(std::string_view body, ApiKind kind) {
  PPD_ASSIGN_OR_RETURN(const json j, parse_body(body));
  ApiRequest req;
  req.kind = kind;
  PPD_ASSIGN_OR_RETURN(const std::optional<std::string> model, read_string(j, "model"));
  if (!model) return invalid_argument("model: missing");
  if (model->empty()) return invalid_argument("model: must not be empty");
  req.model = *model;
  PPD_RETURN_IF_ERROR(kind == ApiKind::kChat ? parse_chat_fields(j, req) : parse_prompt(j, req));
  PPD_RETURN_IF_ERROR(check_unsupported(j, kind));
  PPD_ASSIGN_OR_RETURN(req.sampling, parse_sampling(j, kind));
  PPD_ASSIGN_OR_RETURN(req.stop, parse_stop(j));
  PPD_RETURN_IF_ERROR(parse_stream(j, req));
  PPD_ASSIGN_OR_RETURN(const std::optional<std::string> user, read_string(j, "user"));
  req.user = user.value_or("");
  return req;
}

json usage_json(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

json completion_body(const ResponseMeta& meta, std::string_view text, std::string_view finish_reason,
                     const Usage& usage) {
  json choice = {{"index", 0}, {"finish_reason", finish_reason}, {"logprobs", nullptr}};
  if (meta.kind == ApiKind::kChat) choice["message"] = {{"role", "assistant"}, {"content", text}};
  if (meta.kind == ApiKind::kCompletion) choice["text"] = text;
  json body = response_head(meta, false);
  body["choices"] = json::array({std::move(choice)});
  body["usage"] = usage_json(usage);
  return body;
}

json chunk_body(const ResponseMeta& meta, std::string_view text, std::optional<std::string_view> finish_reason,
                bool first, bool usage_null) {
  json choice = {{"index", 0}, {"finish_reason", finish_reason ? json(*finish_reason) : json()}, {"logprobs", nullptr}};
  if (meta.kind == ApiKind::kChat) {
    choice["delta"] = json::object();
    if (first) choice["delta"]["role"] = "assistant";
    if (!text.empty()) choice["delta"]["content"] = text;
  } else {
    choice["text"] = text;
  }
  json body = response_head(meta, true);
  body["choices"] = json::array({std::move(choice)});
  if (usage_null) body["usage"] = nullptr;
  return body;
}

json usage_chunk_body(const ResponseMeta& meta, const Usage& usage) {
  json body = response_head(meta, true);
  body["choices"] = json::array();
  body["usage"] = usage_json(usage);
  return body;
}

std::string sse_event(const json& body) { return "data: " + dump_lenient(body) + "\n\n"; }

std::string sse_error_event(const Status& status) {
  const auto [http_status, type] = error_kind_for(status.code());
  const json error = {{"message", status.message()}, {"type", type}, {"param", nullptr}, {"code", http_status}};
  return sse_event({{"error", error}});
}

json models_body(std::string_view model, int64_t created) {
  const json entry = {{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "ppd"}};
  return {{"object", "list"}, {"data", json::array({entry})}};
}

}  // namespace ppd::router
