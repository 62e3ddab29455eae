// HttpServer: an HTTP/1.1 server on an Asio executor with a fixed route table (path +
// method -> coroutine handler), keep-alive, request size limits and OpenAI-shaped errors.
// Every connection runs as one coroutine on the executor; a handler that throws gets a 500
// and the server keeps serving. Thread-safety: the server, its handlers and its writers run
// on the one executor given (a single-threaded io_context or a strand); add routes before
// start(); stop() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "ppd/common/status.h"
#include "ppd/net/response_writer.h"
#include "ppd/net/server_request.h"

namespace ppd::net {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 0;                       // 0: an ephemeral port, see start()
  uint64_t max_body_bytes = 16 << 20;      // larger request bodies get 413; >= 1
  int64_t idle_timeout_ms = 30'000;        // wait for a request's bytes, and per write; >= 1
};

// A route handler. It must send exactly one response through the writer; returning
// without one sends a 500. It runs on the server's executor and is cancelled (terminal
// cancellation) when the server stops.
using Handler = std::function<boost::asio::awaitable<void>(const HttpRequest& request, ResponseWriter& writer)>;

class HttpServer {
 public:
  // REQUIRES: the executor's execution context outlives the server.
  HttpServer(boost::asio::any_io_executor executor, HttpServerOptions options);
  // Stops the server (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes `method path` (exact path match, no query) to `handler`, replacing an earlier
  // one. REQUIRES: start() not called yet. Mutates.
  void add_route(boost::beast::http::verb method, std::string path, Handler handler);

  // Validates the options, binds, listens and starts accepting on the executor. Returns the
  // bound port (the ephemeral one when options.port is 0), INVALID_ARGUMENT for a bad option,
  // or UNAVAILABLE when the address cannot be bound. REQUIRES: called once, before the
  // executor runs or on its thread.
  Result<uint16_t> start();

  // Closes the listener and every live connection and cancels running handlers. Returns
  // at once; the work finishes on the executor. Idempotent.
  void stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ppd::net
