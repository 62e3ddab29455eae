#include "ppd/loadgen/chat_protocol.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace ppd::loadgen {
namespace {

using nlohmann::json;

Result<uint16_t> parse_port(std::string_view text, std::string_view url) {
  int port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return invalid_argument("endpoint: port must be an integer in [1, 65535]; got \"{}\" in \"{}\"", text, url);
  }
  return static_cast<uint16_t>(port);
}

std::optional<StreamUsage> read_usage(const json& chunk) {
  const auto it = chunk.find("usage");
  if (it == chunk.end() || !it->is_object()) return std::nullopt;
  StreamUsage u;
  u.prompt_tokens = it->value("prompt_tokens", int64_t{0});
  u.completion_tokens = it->value("completion_tokens", int64_t{0});
  if (const auto d = it->find("prompt_tokens_details"); d != it->end() && d->is_object()) {
    u.cached_tokens = d->value("cached_tokens", int64_t{0});
  }
  return u;
}

std::optional<std::string> read_content(const json& chunk) {
  const auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) return std::nullopt;
  const json& first = choices->front();
  const auto delta = first.find("delta");
  if (delta == first.end() || !delta->is_object()) return std::nullopt;
  const auto content = delta->find("content");
  if (content == delta->end() || !content->is_string()) return std::nullopt;
  return content->get<std::string>();
}

std::string error_message(const json& error) {
  if (error.is_object() && error.contains("message") && error["message"].is_string()) {
    return error["message"].get<std::string>();
  }
  return error.dump();
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return invalid_argument("endpoint: must start with http:// (https is not supported); got \"{}\"", url);
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalid_argument("endpoint: must be http://host:port[/path]; got \"{}\"", url);
  }
  Endpoint e;
  e.host = std::string(authority.substr(0, colon));
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  PPD_ASSIGN_OR_RETURN(e.port, parse_port(authority.substr(colon + 1), url));
  e.base_path = path.empty() ? "/v1" : std::string(path);
  e.url = std::string(url);
  return e;
}

std::string chat_request_body(const TurnRequest& r) {
  json messages = json::array();
  for (const ChatMessage& m : *r.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  json body = {{"model", r.model},
               {"messages", std::move(messages)},
               {"max_tokens", r.max_tokens},
               {"temperature", r.temperature},
               {"seed", r.seed},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  if (r.ignore_eos) body["ignore_eos"] = true;
  return body.dump();
}

StreamEvent parse_stream_line(std::string_view line) {
  StreamEvent e;
  if (!line.starts_with("data:")) return e;
  std::string_view data = line.substr(5);
  while (!data.empty() && data.front() == ' ') data.remove_prefix(1);
  if (data == "[DONE]") {
    e.kind = StreamEvent::Kind::kDone;
    return e;
  }
  const json chunk = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!chunk.is_object()) {
    e.kind = StreamEvent::Kind::kError;
    e.error = "the stream sent a data line that is not a JSON object: " + std::string(data.substr(0, 200));
    return e;
  }
  if (const auto it = chunk.find("error"); it != chunk.end() && !it->is_null()) {
    e.kind = StreamEvent::Kind::kError;
    e.error = error_message(*it);
    return e;
  }
  e.kind = StreamEvent::Kind::kChunk;
  e.content = read_content(chunk);
  e.usage = read_usage(chunk);
  return e;
}

}  // namespace ppd::loadgen
