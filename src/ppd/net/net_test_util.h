// Test helpers for ppd_net: a server with test routes on an io_context run by one
// background thread, a way to run client coroutines on it from the test thread, and a raw
// POSIX socket exchange for bytes no well-behaved client would send. Test-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "ppd/net/http_server.h"

namespace ppd::net::testing {

// Owns an io_context, a server on it (routes added by the test before start_server()) and
// the thread that runs them.
class ServerFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  HttpServer& server(HttpServerOptions options = {}) {
    if (!server_) server_.emplace(io_.get_executor(), std::move(options));
    return *server_;
  }

  // Starts the server (created with default options unless server() was called) and the
  // io thread; returns the bound port.
  uint16_t start_server() {
    Result<uint16_t> port = server().start();
    EXPECT_TRUE(port.ok()) << port.status().to_string();
    thread_ = std::thread([this] { io_.run(); });
    return port.ok() ? *port : 0;
  }

  // Starts `coroutine` on the io thread; the future holds its result. (co_spawn with
  // use_future would need a default-constructible T, which Result<T> is not.)
  template <typename T>
  std::future<T> spawn(boost::asio::awaitable<T> coroutine) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    auto body = [promise, c = std::move(coroutine)]() mutable -> boost::asio::awaitable<void> {
      try {
        promise->set_value(co_await std::move(c));
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    };
    boost::asio::co_spawn(io_, std::move(body), boost::asio::detached);
    return future;
  }

  // Runs `coroutine` on the io thread and blocks until it finishes.
  template <typename T>
  T run(boost::asio::awaitable<T> coroutine) {
    return spawn(std::move(coroutine)).get();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  std::optional<HttpServer> server_;
  std::thread thread_;
};

// Sends `bytes` to 127.0.0.1:port over a fresh connection and returns everything received
// until the server closes it (or 5 s pass, so that a broken server fails the test instead of
// hanging it).
inline std::string raw_exchange(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) received.append(buffer, n);
  }
  ::close(fd);
  return received;
}

}  // namespace ppd::net::testing
