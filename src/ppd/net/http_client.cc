#include "ppd/net/http_client.h"

#include <charconv>
#include <chrono>
#include <exception>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "ppd/net/asio_util.h"

namespace ppd::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr size_t kReadChunkBytes = 16 << 10;

// Receives the body bytes of a response as they arrive (never empty), then one empty
// view at the end of the body.
using BodySink = std::function<Status(std::string_view bytes)>;
// Chooses the sink once the status line and headers are known.
using SinkFactory = std::function<BodySink(HttpResponse& response)>;

// One exchange: the spec, its deadline and the prefix of every error message.
struct Call {
  const HttpRequestSpec& spec;
  std::string where;
  asio::steady_timer::time_point deadline;
};

Status io_error(const Call& call, std::string_view phase, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) {
    return {StatusCode::kDeadlineExceeded,
            fmt::format("{}: {}: timed out after {} ms", call.where, phase, call.spec.timeout_ms)};
  }
  if (ec == asio::error::operation_aborted) {
    return {StatusCode::kCancelled, fmt::format("{}: {}: cancelled", call.where, phase)};
  }
  if (ec == http::error::partial_message || ec == asio::error::eof || ec == http::error::end_of_stream) {
    return unavailable("{}: {}: connection closed before the end of the response", call.where, phase);
  }
  return unavailable("{}: {}: {}", call.where, phase, ec.message());
}

Status validate_spec(const HttpRequestSpec& spec) {
  if (spec.host.empty()) return invalid_argument("host: must not be empty");
  if (spec.port == 0) return invalid_argument("port: must be in [1, 65535]; got 0");
  if (spec.target.empty() || spec.target[0] != '/') {
    return invalid_argument("target: must start with '/'; got \"{}\"", spec.target);
  }
  if (spec.timeout_ms < 1) return invalid_argument("timeout_ms: must be >= 1; got {}", spec.timeout_ms);
  return Status::Ok();
}

asio::awaitable<Status> connect(const Call& call, beast::tcp_stream& stream) {
  const HttpRequestSpec& spec = call.spec;
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(spec.host, ec);
  std::vector<tcp::endpoint> endpoints;
  if (!ec) {
    endpoints.emplace_back(address, spec.port);
  } else {
    // Name resolution is bounded by the system resolver's own timeouts, not by ours.
    tcp::resolver resolver(co_await asio::this_coro::executor);
    std::string service = std::to_string(spec.port);
    auto [resolve_ec, results] = co_await resolver.async_resolve(spec.host, service, kUseTuple);
    if (resolve_ec) co_return io_error(call, "resolve", resolve_ec);
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  stream.expires_at(call.deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kUseTuple);
  if (connect_ec) co_return io_error(call, "connect", connect_ec);
  co_return Status::Ok();
}

asio::awaitable<Status> send_request(const Call& call, beast::tcp_stream& stream) {
  const HttpRequestSpec& spec = call.spec;
  http::request<http::string_body> request{spec.method, spec.target, 11};
  request.set(http::field::host, format_host_port(spec.host, spec.port));
  if (!spec.content_type.empty()) request.set(http::field::content_type, spec.content_type);
  for (const auto& [name, value] : spec.headers) request.set(name, value);
  request.keep_alive(false);
  request.body() = spec.body;
  request.prepare_payload();
  stream.expires_at(call.deadline);
  auto [ec, n] = co_await http::async_write(stream, request, kUseTuple);
  if (ec) co_return io_error(call, "send request", ec);
  co_return Status::Ok();
}

void copy_head(const http::response_parser<http::buffer_body>& parser, HttpResponse& response) {
  const auto& message = parser.get();
  response.status_code = message.result_int();
  for (const auto& field : message) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
}

asio::awaitable<Status> read_response(const Call& call, beast::tcp_stream& stream, const SinkFactory& make_sink,
                                      HttpResponse& response) {
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // the sink enforces max_body_bytes
  stream.expires_at(call.deadline);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  if (ec) co_return io_error(call, "read response head", ec);
  copy_head(parser, response);
  BodySink sink = make_sink(response);
  std::vector<char> chunk(kReadChunkBytes);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    // read_some: hand each arriving piece to the sink now, not once the chunk buffer fills.
    auto [body_ec, body_n] = co_await http::async_read_some(stream, buffer, parser, kUseTuple);
    // Bytes that arrived before an error still count: a stream's lines up to the break.
    size_t num_bytes = chunk.size() - parser.get().body().size;
    if (num_bytes > 0) {
      if (Status s = sink(std::string_view(chunk.data(), num_bytes)); !s.ok()) co_return s;
    }
    if (body_ec && body_ec != http::error::need_buffer) co_return io_error(call, "read body", body_ec);
  }
  co_return sink(std::string_view());  // end of body: flushes a last unterminated line
}

asio::awaitable<Result<HttpResponse>> run_exchange(const HttpRequestSpec& spec, SinkFactory make_sink) {
  if (Status s = validate_spec(spec); !s.ok()) co_return s;
  Call call{
      spec,
      fmt::format("{} http://{}{}", http::to_string(spec.method), format_host_port(spec.host, spec.port), spec.target),
      asio::steady_timer::clock_type::now() + std::chrono::milliseconds(spec.timeout_ms)};
  try {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (Status s = co_await connect(call, stream); !s.ok()) co_return s;
    if (Status s = co_await send_request(call, stream); !s.ok()) co_return s;
    HttpResponse response;
    if (Status s = co_await read_response(call, stream, make_sink, response); !s.ok()) co_return s;
    co_return response;
  } catch (const boost::system::system_error& e) {
    // Asio throws here when the caller cancelled us between two operations.
    co_return io_error(call, "exchange", e.code());
  }
}

// Appends bytes to `body`; RESOURCE_EXHAUSTED past `max_bytes`.
BodySink buffer_into(std::string& body, uint64_t max_bytes) {
  return [&body, max_bytes](std::string_view bytes) {
    if (body.size() + bytes.size() > max_bytes) {
      return resource_exhausted("response body: exceeds max_body_bytes {}", max_bytes);
    }
    body.append(bytes);
    return Status::Ok();
  };
}

// Cuts bytes into lines for `on_line`; an empty input marks the end of the body.
class LineSplitter {
 public:
  LineSplitter(LineHandler on_line, uint64_t max_line_bytes)
      : on_line_(std::move(on_line)), max_line_bytes_(max_line_bytes) {}

  Status operator()(std::string_view bytes) {
    if (bytes.empty()) return partial_.empty() ? Status::Ok() : emit_partial();
    for (size_t newline = bytes.find('\n'); newline != std::string_view::npos; newline = bytes.find('\n')) {
      partial_.append(bytes.substr(0, newline));
      bytes.remove_prefix(newline + 1);
      if (Status s = emit_partial(); !s.ok()) return s;
    }
    if (partial_.size() + bytes.size() > max_line_bytes_) {
      return resource_exhausted("response line: exceeds max_body_bytes {}", max_line_bytes_);
    }
    partial_.append(bytes);
    return Status::Ok();
  }

 private:
  Status emit_partial() {
    std::string_view line = partial_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Status status = on_line_(line);
    partial_.clear();
    return status;
  }

  LineHandler on_line_;
  uint64_t max_line_bytes_;
  std::string partial_;
};

}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid_argument("address \"{}\": must be host:port", text);
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid_argument("address \"{}\": an IPv6 host must be in brackets, as [::1]:8000", text);
  }
  if (host.empty()) return invalid_argument("address \"{}\": host must not be empty", text);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return invalid_argument("address \"{}\": port must be a number in [1, 65535]; got \"{}\"", text, port_text);
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

std::string format_host_port(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) return value;
  }
  return std::nullopt;
}

asio::awaitable<Result<HttpResponse>> http_request(HttpRequestSpec spec) {
  uint64_t max_bytes = spec.max_body_bytes;
  SinkFactory make_sink = [max_bytes](HttpResponse& response) { return buffer_into(response.body, max_bytes); };
  co_return co_await run_exchange(spec, std::move(make_sink));
}

asio::awaitable<Result<HttpResponse>> http_stream(HttpRequestSpec spec, LineHandler on_line) {
  uint64_t max_bytes = spec.max_body_bytes;
  SinkFactory make_sink = [max_bytes, &on_line](HttpResponse& response) -> BodySink {
    if (response.status_code / 100 != 2) return buffer_into(response.body, max_bytes);
    return LineSplitter(on_line, max_bytes);
  };
  co_return co_await run_exchange(spec, std::move(make_sink));
}

Result<HttpResponse> http_request_blocking(HttpRequestSpec spec) {
  boost::asio::io_context io;
  std::optional<Result<HttpResponse>> answer;
  // co_spawn's completion needs a default-constructible result, which Result is not.
  auto call = [&answer](HttpRequestSpec s) -> boost::asio::awaitable<void> {
    answer = co_await http_request(std::move(s));
  };
  boost::asio::co_spawn(io, call(std::move(spec)), boost::asio::detached);
  io.run();
  return std::move(*answer);
}

}  // namespace ppd::net
