#include "ppd/net/http_server.h"

#include <chrono>
#include <exception>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "ppd/net/asio_util.h"

namespace ppd::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr uint32_t kMaxHeaderBytes = 64 << 10;
// After rejecting a request the server reads (and drops) what the client still sends
// for at most this long, so that the client sees the error instead of a reset.
constexpr auto kLingerTimeout = std::chrono::seconds(1);

bool is_quiet_close(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::connection_reset || ec == http::error::partial_message;
}

std::string join_keys(const auto& map) {
  std::string out;
  for (const auto& [key, value] : map) {
    if (!out.empty()) out += ", ";
    if constexpr (std::is_same_v<std::decay_t<decltype(key)>, http::verb>) {
      out += http::to_string(key);
    } else {
      out += key;
    }
  }
  return out;
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor executor, HttpServerOptions options)
      : executor_(executor), options_(std::move(options)), acceptor_(executor) {}

  void add_route(http::verb method, std::string path, Handler handler) {
    routes_[std::move(path)][method] = std::move(handler);
  }
  Result<uint16_t> start();
  void stop();
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    asio::cancellation_signal cancel;
  };
  enum class ReadKind { kRequest, kClosed, kRejected };
  struct ReadOutcome {
    ReadKind kind = ReadKind::kClosed;
    http::request<http::string_body> request;
    http::status status = http::status::bad_request;
    std::string message;
  };

  Status validate_options() const;
  Status open_acceptor(const asio::ip::address& address);
  asio::awaitable<void> accept_loop();
  void spawn_session(tcp::socket socket);
  asio::awaitable<void> run_session(std::shared_ptr<Connection> connection);
  asio::awaitable<ReadOutcome> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer);
  ReadOutcome classify_read_error(const boost::system::error_code& ec) const;
  asio::awaitable<bool> serve(http::request<http::string_body> message, beast::tcp_stream& stream);
  asio::awaitable<void> route(const HttpRequest& request, ResponseWriter& writer);
  asio::awaitable<void> invoke(const Handler& handler, const HttpRequest& request, ResponseWriter& writer);
  asio::awaitable<void> reject(beast::tcp_stream& stream, const ReadOutcome& outcome);

  asio::any_io_executor executor_;
  HttpServerOptions options_;
  tcp::acceptor acceptor_;
  std::map<std::string, std::map<http::verb, Handler>> routes_;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 0;
  bool stopped_ = false;
};

Status HttpServer::Impl::validate_options() const {
  if (options_.max_body_bytes < 1) {
    return invalid_argument("max_body_bytes: must be >= 1; got {}", options_.max_body_bytes);
  }
  if (options_.idle_timeout_ms < 1) {
    return invalid_argument("idle_timeout_ms: must be >= 1; got {}", options_.idle_timeout_ms);
  }
  return Status::Ok();
}

Status HttpServer::Impl::open_acceptor(const asio::ip::address& address) {
  tcp::endpoint endpoint(address, options_.port);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return unavailable("http server: cannot listen on {}:{}: {}", options_.bind_address, options_.port, ec.message());
  }
  return Status::Ok();
}

Result<uint16_t> HttpServer::Impl::start() {
  PPD_RETURN_IF_ERROR(validate_options());
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) {
    return invalid_argument("bind_address: must be an IPv4 or IPv6 address; got \"{}\"", options_.bind_address);
  }
  PPD_RETURN_IF_ERROR(open_acceptor(address));
  uint16_t port = acceptor_.local_endpoint().port();
  asio::co_spawn(executor_, accept_loop(), asio::detached);
  return port;
}

void HttpServer::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  std::vector<std::shared_ptr<Connection>> live;
  for (auto& [id, connection] : connections_) live.push_back(connection);
  for (auto& connection : live) {
    connection->cancel.emit(asio::cancellation_type::terminal);
    connection->stream.socket().close(ec);
  }
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  auto self = shared_from_this();
  asio::steady_timer backoff(executor_);
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
    if (stopped_ || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors and the like: wait instead of spinning.
      spdlog::warn("http server: accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    spawn_session(std::move(socket));
  }
}

void HttpServer::Impl::spawn_session(tcp::socket socket) {
  uint64_t id = next_connection_id_++;
  auto connection = std::make_shared<Connection>(std::move(socket));
  connections_.emplace(id, connection);
  auto on_done = [self = shared_from_this(), id](std::exception_ptr) { self->connections_.erase(id); };
  asio::co_spawn(executor_, run_session(connection),
                 asio::bind_cancellation_slot(connection->cancel.slot(), std::move(on_done)));
}

asio::awaitable<void> HttpServer::Impl::run_session(std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  try {
    for (;;) {
      ReadOutcome outcome = co_await read_request(stream, buffer);
      if (outcome.kind == ReadKind::kClosed) break;
      if (outcome.kind == ReadKind::kRejected) {
        co_await reject(stream, outcome);
        break;
      }
      if (!co_await serve(std::move(outcome.request), stream)) break;
    }
  } catch (const std::exception& e) {
    // Cancellation by stop() lands here; so would a bug in a write path.
    spdlog::debug("http server: connection ended: {}", e.what());
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

HttpServer::Impl::ReadOutcome HttpServer::Impl::classify_read_error(const boost::system::error_code& ec) const {
  ReadOutcome outcome;
  if (is_quiet_close(ec)) return outcome;
  outcome.kind = ReadKind::kRejected;
  if (ec == http::error::body_limit) {
    outcome.status = http::status::payload_too_large;
    outcome.message = fmt::format("request body: exceeds max_body_bytes {}", options_.max_body_bytes);
  } else {
    outcome.message = fmt::format("malformed HTTP request: {}", ec.message());
  }
  return outcome;
}

asio::awaitable<HttpServer::Impl::ReadOutcome> HttpServer::Impl::read_request(beast::tcp_stream& stream,
                                                                              beast::flat_buffer& buffer) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(boost::none);  // checked below, so that the 413 can name the length
  stream.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  if (ec) co_return classify_read_error(ec);
  uint64_t length = parser.content_length().value_or(0);
  if (length > options_.max_body_bytes) {
    co_return ReadOutcome{
        ReadKind::kRejected,
        {},
        http::status::payload_too_large,
        fmt::format("request body: {} bytes exceeds max_body_bytes {}", length, options_.max_body_bytes)};
  }
  parser.body_limit(options_.max_body_bytes);
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
    co_await http::async_write(stream, go_on, kUseTuple);
  }
  auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  stream.expires_never();
  if (body_ec) co_return classify_read_error(body_ec);
  co_return ReadOutcome{ReadKind::kRequest, parser.release(), http::status::ok, {}};
}

asio::awaitable<void> HttpServer::Impl::reject(beast::tcp_stream& stream, const ReadOutcome& outcome) {
  ResponseWriter writer(stream, {.version = 11, .keep_alive = false, .write_timeout_ms = options_.idle_timeout_ms});
  Status sent = co_await writer.send_http_error(outcome.status, outcome.message);
  if (!sent.ok()) co_return;
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(kLingerTimeout);
  char sink[4096];
  for (;;) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
    if (read_ec) break;
  }
}

asio::awaitable<bool> HttpServer::Impl::serve(http::request<http::string_body> message, beast::tcp_stream& stream) {
  HttpRequest request(std::move(message));
  ResponseWriter writer(
      stream,
      {.version = request.version(), .keep_alive = request.keep_alive(), .write_timeout_ms = options_.idle_timeout_ms});
  co_await route(request, writer);
  co_return writer.reusable() && !stopped_;
}

asio::awaitable<void> HttpServer::Impl::route(const HttpRequest& request, ResponseWriter& writer) {
  auto by_path = routes_.find(request.path());
  if (by_path == routes_.end()) {
    std::string message = fmt::format("path \"{}\": no such route; routes: {}", request.path(), join_keys(routes_));
    co_await writer.send_http_error(http::status::not_found, message);
    co_return;
  }
  auto by_method = by_path->second.find(request.method());
  if (by_method == by_path->second.end()) {
    std::string allowed = join_keys(by_path->second);
    writer.set_header("Allow", allowed);
    std::string message = fmt::format("method {} not allowed for path \"{}\"; allowed: {}", request.method_name(),
                                      request.path(), allowed);
    co_await writer.send_http_error(http::status::method_not_allowed, message);
    co_return;
  }
  co_await invoke(by_method->second, request, writer);
}

asio::awaitable<void> HttpServer::Impl::invoke(const Handler& handler, const HttpRequest& request,
                                               ResponseWriter& writer) {
  std::string failure;
  try {
    co_await handler(request, writer);
  } catch (const std::exception& e) {
    failure = fmt::format("handler threw: {}", e.what());
  } catch (...) {
    failure = "handler threw a non-standard exception";
  }
  if (failure.empty() && !writer.responded()) failure = "handler returned without a response";
  if (failure.empty() || stopped_) co_return;
  std::string message = fmt::format("{} {}: {}", request.method_name(), request.path(), failure);
  spdlog::warn("http server: {}", message);
  // A begun stream cannot turn into a 500; the connection is closed without the last chunk.
  if (!writer.responded()) {
    Status error = internal_error("{}", message);
    co_await writer.send_error(error);
  }
}

HttpServer::HttpServer(asio::any_io_executor executor, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::add_route(http::verb method, std::string path, Handler handler) {
  impl_->add_route(method, std::move(path), std::move(handler));
}

Result<uint16_t> HttpServer::start() { return impl_->start(); }

void HttpServer::stop() {
  asio::dispatch(impl_->executor(), [impl = impl_] { impl->stop(); });
}

}  // namespace ppd::net
