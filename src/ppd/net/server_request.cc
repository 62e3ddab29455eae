#include "ppd/net/server_request.h"

namespace ppd::net {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

QueryParams parse_query(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    params.emplace_back(form_decode(name), form_decode(value));
  }
  return params;
}

HttpRequest::HttpRequest(boost::beast::http::request<boost::beast::http::string_body> message)
    : message_(std::move(message)) {
  std::string_view target = message_.target();
  size_t question = target.find('?');
  path_ = std::string(target.substr(0, question));
  if (question != std::string_view::npos) query_params_ = parse_query(target.substr(question + 1));
}

std::optional<std::string_view> HttpRequest::query(std::string_view name) const {
  for (const auto& [key, value] : query_params_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  auto it = message_.find(name);
  if (it == message_.end()) return std::nullopt;
  return it->value();
}

}  // namespace ppd::net
