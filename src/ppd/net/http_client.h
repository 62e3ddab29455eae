// A coroutine HTTP/1.1 client: http_request() for whole responses, http_stream() for
// line-by-line (NDJSON, SSE) response bodies. One connection per call, no pooling. Every
// call finishes: it has a deadline (timeout_ms, for the whole exchange) and honours terminal
// cancellation of the awaiting coroutine, e.g. `co_await (http_request(spec) || timer...)`.
// Free functions; each call owns its socket, so calls may run concurrently on any executor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "ppd/common/status.h"

namespace ppd::net {

struct HostPort {
  std::string host;  // a name or an IP literal, without brackets
  uint16_t port = 0;
};

// Parses "host:port", "1.2.3.4:80" or "[::1]:80". Returns INVALID_ARGUMENT naming the text
// and the rule broken: an empty host, a missing or non-numeric port, a port outside
// [1, 65535], an IPv6 host without brackets. Pure.
Result<HostPort> parse_host_port(std::string_view text);

// "host:port", with brackets around an IPv6 host. Pure.
std::string format_host_port(std::string_view host, uint16_t port);

struct HttpRequestSpec {
  std::string host;   // a name or an IP literal; names go through the system resolver
  uint16_t port = 0;  // [1, 65535]
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target = "/";  // path and query; must start with '/'
  std::string body;
  std::string content_type;                                  // sent as Content-Type when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  int64_t timeout_ms = 30'000;                               // deadline for the whole exchange, body included; >= 1
  uint64_t max_body_bytes = 64 << 20;                        // cap on a buffered body and on one streamed line
};

struct HttpResponse {
  unsigned status_code = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order received
  std::string body;                                          // empty for a 2xx answer to http_stream()

  // Returns the first value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// Sends the request and reads the whole response. Any HTTP status is a success here;
// errors are transport errors, each message starting with "<METHOD> http://host:port<target>":
// INVALID_ARGUMENT for a bad spec, UNAVAILABLE for a failed connect or a connection that
// breaks, DEADLINE_EXCEEDED after timeout_ms, CANCELLED when the caller cancels,
// RESOURCE_EXHAUSTED for a body over max_body_bytes.
boost::asio::awaitable<Result<HttpResponse>> http_request(HttpRequestSpec spec);

// Called once per body line, without its "\n" (and without a "\r" before it). A non-OK
// return aborts the exchange, and http_stream returns that Status.
using LineHandler = std::function<Status(std::string_view line)>;

// Like http_request(), but a 2xx body (chunked or not) goes to `on_line` as it arrives, one
// call per '\n'-terminated line in order, then one for a last unterminated line if any; the
// returned body is then empty. A non-2xx body is buffered into the result instead, so that
// the caller can read the error object. A stream that ends early (no last chunk, or fewer
// bytes than Content-Length) is UNAVAILABLE.
boost::asio::awaitable<Result<HttpResponse>> http_stream(HttpRequestSpec spec, LineHandler on_line);

// http_request() on an io_context of its own, blocking the calling thread until it returns.
// For command-line tools and tests; never call it from a coroutine.
Result<HttpResponse> http_request_blocking(HttpRequestSpec spec);

}  // namespace ppd::net
