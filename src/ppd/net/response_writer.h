// ResponseWriter: sends the one response to one HTTP request, either whole (send_json,
// send_text, send_error) or streamed with chunked transfer encoding (begin_stream,
// write_chunk, end_stream). Invariant: at most one response per request; after a failed
// write the connection is broken and every later write fails at once, so a streaming
// handler learns that its client left and can abort its work. Not thread-safe: use it only
// from the handler's coroutine, on the server's executor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

#include "ppd/common/status.h"

namespace ppd::net {

// INVALID_ARGUMENT and FAILED_PRECONDITION 400, NOT_FOUND 404, RESOURCE_EXHAUSTED 429,
// UNAVAILABLE 503, DEADLINE_EXCEEDED 504, anything else (OK included) 500. Pure.
boost::beast::http::status http_status_for(StatusCode code);

// The OpenAI error object for an HTTP error status:
// {"error":{"message":<message>,"type":<type>,"param":null,"code":<status as a number>}}
// with type "invalid_request_error" (4xx but 404 and 429), "not_found_error" (404),
// "rate_limit_error" (429), "service_unavailable_error" (503), "timeout_error" (504),
// "server_error" (other 5xx). Pure.
nlohmann::json error_body(boost::beast::http::status status, std::string_view message);

class ResponseWriter {
 public:
  // `stream` must outlive the writer. Writes use HTTP version `version`, keep the
  // connection open when `keep_alive`, and give each write `write_timeout_ms`.
  struct Options {
    unsigned version = 11;
    bool keep_alive = true;
    int64_t write_timeout_ms = 30'000;
  };
  ResponseWriter(boost::beast::tcp_stream& stream, Options options);

  // Adds a header to the response not yet sent (whole or the stream's head). Mutates.
  void set_header(std::string name, std::string value);

  // Each send_* returns OK, FAILED_PRECONDITION when a response was already begun, or
  // UNAVAILABLE naming the write error when the client is gone. (Pass named arguments:
  // coroutine rule 1, docs/decisions/0005.)
  boost::asio::awaitable<Status> send_json(boost::beast::http::status status, const nlohmann::json& body);
  boost::asio::awaitable<Status> send_text(boost::beast::http::status status, std::string_view content_type,
                                           std::string body);
  // Sends http_status_for(error.code()) with error_body(); adds "Retry-After: 1" on 429.
  boost::asio::awaitable<Status> send_error(const Status& error);
  // Sends `status` with error_body(status, message).
  boost::asio::awaitable<Status> send_http_error(boost::beast::http::status status, std::string_view message);

  // Sends "200 OK" headers with Transfer-Encoding: chunked (for an HTTP/1.0 request: no
  // encoding, and the connection closes after the body). REQUIRES: nothing sent yet.
  boost::asio::awaitable<Status> begin_stream(std::string_view content_type);
  // Sends `data` as one chunk (nothing for empty data). Returns UNAVAILABLE ("client
  // disconnected: ...") once the client is gone. REQUIRES: begin_stream() succeeded.
  boost::asio::awaitable<Status> write_chunk(std::string_view data);
  // Sends the last chunk; the response is then complete.
  boost::asio::awaitable<Status> end_stream();

  // True once a whole response was sent or a stream begun.
  bool responded() const { return state_ != State::kIdle; }
  // True while a begun stream has not been ended.
  bool streaming() const { return state_ == State::kStreaming; }
  // True when the connection may carry another request: a complete response, keep-alive
  // requested, and no write failed.
  bool reusable() const { return state_ == State::kDone && options_.keep_alive && !broken_; }

 private:
  enum class State { kIdle, kStreaming, kDone };

  Status check_state(State expected, std::string_view operation) const;
  template <typename Message>
  boost::asio::awaitable<Status> write_message(Message& message);
  template <typename Buffers>
  boost::asio::awaitable<Status> write_buffers(std::string_view operation, const Buffers& buffers);
  Status on_write_error(std::string_view operation, const boost::system::error_code& ec);

  boost::beast::tcp_stream& stream_;
  Options options_;
  State state_ = State::kIdle;
  bool broken_ = false;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace ppd::net
