// NodeStream's watch: a node that answers and then falls silent, on a loopback socket. The
// stream is given up past the gap between outputs, or at once when the node is found dead,
// and the outputs before that are all delivered.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "ppd/router/node_client.h"

namespace ppd::router {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Accepts one connection, answers with a streamed 200 holding `num_lines` token lines, then
// holds the connection open without a byte more until the test ends.
asio::awaitable<void> silent_node(tcp::acceptor& acceptor, int num_lines) {
  tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
  std::string request;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n", asio::use_awaitable);
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < num_lines; ++i) {
    const std::string line = "{\"token\": " + std::to_string(10 + i) + ", \"index\": " + std::to_string(i) + "}\n";
    answer += fmt::format("{:x}\r\n{}\r\n", line.size(), line);
  }
  co_await asio::async_write(socket, asio::buffer(answer), asio::use_awaitable);
  asio::steady_timer hold(socket.get_executor(), std::chrono::seconds(30));
  co_await hold.async_wait(asio::as_tuple(asio::use_awaitable));
}

struct Outcome {
  std::vector<TokenId> tokens;
  Status end = Status::Ok();
};

Outcome run_stream(int num_lines, StreamWatch watch) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::co_spawn(io, silent_node(acceptor, num_lines), asio::detached);
  Outcome outcome;
  auto client = [&]() -> asio::awaitable<void> {
    auto stream = NodeStream::start(io.get_executor(), {"127.0.0.1", acceptor.local_endpoint().port()}, "/generate",
                                    "{}", 60'000, std::move(watch));
    for (;;) {
      Result<std::optional<NodeOutput>> out = co_await stream->next();
      if (!out.ok() || !out->has_value()) {
        outcome.end = out.ok() ? Status::Ok() : out.status();
        break;
      }
      outcome.tokens.push_back((*out)->token);
    }
    stream->cancel();
    io.stop();
  };
  asio::co_spawn(io, client(), asio::detached);
  io.run_for(std::chrono::seconds(20));
  return outcome;
}

TEST(NodeStreamWatchTest, ASilenceLongerThanTheTokenTimeoutEndsTheStream) {
  const Outcome o = run_stream(3, {.first_line_ms = 60'000, .line_gap_ms = 150, .check_ms = 20});
  EXPECT_EQ(o.tokens, (std::vector<TokenId>{10, 11, 12}));
  EXPECT_EQ(o.end.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(o.end.message().ends_with("no output for 150 ms (--token-timeout-ms)")) << o.end.to_string();
}

TEST(NodeStreamWatchTest, NoFirstOutputWithinTheFirstTokenTimeoutEndsTheStream) {
  const Outcome o = run_stream(0, {.first_line_ms = 150, .line_gap_ms = 60'000, .check_ms = 20});
  EXPECT_TRUE(o.tokens.empty());
  EXPECT_TRUE(o.end.message().ends_with("no output for 150 ms (--first-token-timeout-ms)")) << o.end.to_string();
}

TEST(NodeStreamWatchTest, ANodeFoundDeadEndsTheStreamAtOnce) {
  int checks = 0;
  const Outcome o =
      run_stream(2, {.first_line_ms = 60'000, .line_gap_ms = 60'000, .check_ms = 20, .node_alive = [&checks] {
                       return ++checks < 5;
                     }});
  EXPECT_EQ(o.tokens, (std::vector<TokenId>{10, 11}));
  EXPECT_EQ(o.end.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(o.end.message().ends_with("its load reports stopped; the request is given up")) << o.end.to_string();
}

}  // namespace
}  // namespace ppd::router
