#include "ppd/net/response_writer.h"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "ppd/net/asio_util.h"

namespace ppd::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

std::string_view error_type_for(http::status status) {
  unsigned code = static_cast<unsigned>(status);
  if (code == 404) return "not_found_error";
  if (code == 429) return "rate_limit_error";
  if (code == 503) return "service_unavailable_error";
  if (code == 504) return "timeout_error";
  if (code >= 400 && code < 500) return "invalid_request_error";
  return "server_error";
}

}  // namespace

http::status http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return http::status::bad_request;
    case StatusCode::kNotFound:
      return http::status::not_found;
    case StatusCode::kResourceExhausted:
      return http::status::too_many_requests;
    case StatusCode::kUnavailable:
      return http::status::service_unavailable;
    case StatusCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    case StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    default:
      return http::status::internal_server_error;
  }
}

nlohmann::json error_body(http::status status, std::string_view message) {
  return {{"error",
           {{"message", message},
            {"type", error_type_for(status)},
            {"param", nullptr},
            {"code", static_cast<unsigned>(status)}}}};
}

ResponseWriter::ResponseWriter(boost::beast::tcp_stream& stream, Options options)
    : stream_(stream), options_(options) {}

void ResponseWriter::set_header(std::string name, std::string value) {
  extra_headers_.emplace_back(std::move(name), std::move(value));
}

Status ResponseWriter::check_state(State expected, std::string_view operation) const {
  if (broken_) return unavailable("{}: client disconnected", operation);
  if (state_ == expected) return Status::Ok();
  static constexpr std::string_view kNames[] = {"nothing sent", "a stream in progress", "a complete response"};
  return failed_precondition("{}: not allowed after {}", operation, kNames[static_cast<int>(state_)]);
}

Status ResponseWriter::on_write_error(std::string_view operation, const boost::system::error_code& ec) {
  broken_ = true;
  return unavailable("{}: client disconnected: {}", operation, ec.message());
}

template <typename Message>
asio::awaitable<Status> ResponseWriter::write_message(Message& message) {
  for (auto& [name, value] : extra_headers_) message.set(name, value);
  message.keep_alive(options_.keep_alive);
  stream_.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
  auto [ec, n] = co_await http::async_write(stream_, message, kUseTuple);
  stream_.expires_never();
  state_ = State::kDone;
  if (ec) co_return on_write_error("send response", ec);
  co_return Status::Ok();
}

asio::awaitable<Status> ResponseWriter::send_json(http::status status, const nlohmann::json& body) {
  std::string text = body.dump();
  co_return co_await send_text(status, "application/json", std::move(text));
}

asio::awaitable<Status> ResponseWriter::send_text(http::status status, std::string_view content_type,
                                                  std::string body) {
  if (Status s = check_state(State::kIdle, "send response"); !s.ok()) co_return s;
  http::response<http::string_body> message{status, options_.version};
  message.set(http::field::content_type, content_type);
  message.body() = std::move(body);
  message.prepare_payload();
  co_return co_await write_message(message);
}

asio::awaitable<Status> ResponseWriter::send_error(const Status& error) {
  http::status status = http_status_for(error.code());
  if (status == http::status::too_many_requests) set_header("Retry-After", "1");
  // Named: coroutine rule 1 (docs/decisions/0005).
  std::string message = error.ok() ? "internal error: OK sent as an error" : error.message();
  co_return co_await send_http_error(status, message);
}

asio::awaitable<Status> ResponseWriter::send_http_error(http::status status, std::string_view message) {
  nlohmann::json body = error_body(status, message);
  co_return co_await send_json(status, body);
}

asio::awaitable<Status> ResponseWriter::begin_stream(std::string_view content_type) {
  if (Status s = check_state(State::kIdle, "begin stream"); !s.ok()) co_return s;
  http::response<http::empty_body> message{http::status::ok, options_.version};
  message.set(http::field::content_type, content_type);
  // HTTP/1.0 has no chunked encoding: the body runs to the connection's close.
  if (options_.version < 11) options_.keep_alive = false;
  message.chunked(options_.version >= 11);
  for (auto& [name, value] : extra_headers_) message.set(name, value);
  message.keep_alive(options_.keep_alive);
  http::response_serializer<http::empty_body> serializer{message};
  state_ = State::kStreaming;
  stream_.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kUseTuple);
  stream_.expires_never();
  if (ec) co_return on_write_error("begin stream", ec);
  co_return Status::Ok();
}

template <typename Buffers>
asio::awaitable<Status> ResponseWriter::write_buffers(std::string_view operation, const Buffers& buffers) {
  stream_.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
  auto [ec, n] = co_await asio::async_write(stream_, buffers, kUseTuple);
  stream_.expires_never();
  if (ec) co_return on_write_error(operation, ec);
  co_return Status::Ok();
}

asio::awaitable<Status> ResponseWriter::write_chunk(std::string_view data) {
  if (Status s = check_state(State::kStreaming, "write chunk"); !s.ok()) co_return s;
  // An empty chunk would read as the last chunk.
  if (data.empty()) co_return Status::Ok();
  asio::const_buffer bytes(data.data(), data.size());
  if (options_.version < 11) co_return co_await write_buffers("write chunk", bytes);
  auto chunk = http::make_chunk(bytes);
  co_return co_await write_buffers("write chunk", chunk);
}

asio::awaitable<Status> ResponseWriter::end_stream() {
  if (Status s = check_state(State::kStreaming, "end stream"); !s.ok()) co_return s;
  state_ = State::kDone;
  if (options_.version < 11) co_return Status::Ok();  // closing the connection ends it
  auto last_chunk = http::make_chunk_last();
  co_return co_await write_buffers("end stream", last_chunk);
}

}  // namespace ppd::net
