// Fuzz target: an HTTP request as the router's server reads it (Beast's parser with the same
// header and body limits), then its body through the OpenAI request validation of both APIs.
#include <cstdint>
#include <string_view>

#include <boost/beast/http.hpp>

#include "ppd/router/openai_api.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 << 10);
  parser.body_limit(4 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (!ec && parser.is_done()) {
    const std::string& body = parser.get().body();
    (void)ppd::router::parse_api_request(body, ppd::router::ApiKind::kChat);
    (void)ppd::router::parse_api_request(body, ppd::router::ApiKind::kCompletion);
  }
  // The raw bytes as a body too, so the validation is reached without the HTTP framing.
  (void)ppd::router::parse_api_request(input, ppd::router::ApiKind::kChat);
  (void)ppd::router::parse_api_request(input, ppd::router::ApiKind::kCompletion);
  return 0;
}
