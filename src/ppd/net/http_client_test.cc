#include "ppd/net/http_client.h"

#include <chrono>

#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/net/net_test_util.h"

namespace ppd::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace boost::asio::experimental::awaitable_operators;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> sum(const HttpRequest& r, ResponseWriter& w) {
  json body = json::parse(r.body(), nullptr, false);
  if (body.is_discarded()) {
    Status error = invalid_argument("body: must be JSON");
    co_await w.send_error(error);
    co_return;
  }
  json reply = {{"sum", body["a"].get<int>() + body["b"].get<int>()}, {"id", r.header("x-request-id").value_or("")}};
  co_await w.send_json(http::status::ok, reply);
}

// Streams n lines {"i":0} .. {"i":n-1}, n from the query.
asio::awaitable<void> count(const HttpRequest& r, ResponseWriter& w) {
  int n = std::stoi(std::string(r.query("n").value_or("0")));
  co_await w.begin_stream("application/x-ndjson");
  for (int i = 0; i < n; ++i) {
    std::string line = fmt::format("{{\"i\":{}}}\n", i);
    co_await w.write_chunk(line);
  }
  co_await w.end_stream();
}

// Lines cut across chunks, a CRLF, an empty line and an unterminated tail.
asio::awaitable<void> split_lines(const HttpRequest&, ResponseWriter& w) {
  co_await w.begin_stream("text/event-stream");
  for (std::string_view piece : {"da", "ta: 1\r", "\n\ndata: 2\n", "tail"}) {
    co_await w.write_chunk(piece);
  }
  co_await w.end_stream();
}

// Begins a stream and returns without ending it.
asio::awaitable<void> truncate(const HttpRequest&, ResponseWriter& w) {
  co_await w.begin_stream("application/x-ndjson");
  co_await w.write_chunk("first\n");
}

asio::awaitable<void> hang(const HttpRequest&, ResponseWriter&) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(60));
  co_await timer.async_wait(asio::use_awaitable);
}

class HttpClientTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    HttpServer& s = server();
    s.add_route(http::verb::post, "/v1/sum", sum);
    s.add_route(http::verb::get, "/stream", count);
    s.add_route(http::verb::get, "/split", split_lines);
    s.add_route(http::verb::get, "/truncated", truncate);
    s.add_route(http::verb::get, "/hang", hang);
    s.add_route(http::verb::get, "/endless",
                [this](const HttpRequest&, ResponseWriter& w) { return stream_until_gone(w); });
    port_ = start_server();
  }

  // Writes lines until write_chunk fails (or 10M lines), then reports the failure.
  asio::awaitable<void> stream_until_gone(ResponseWriter& w) {
    co_await w.begin_stream("application/x-ndjson");
    Status status;
    for (int i = 0; i < 10'000'000 && status.ok(); ++i) {
      status = co_await w.write_chunk("{\"token\":1}\n");
    }
    endless_result_.set_value(status);
  }

  HttpRequestSpec spec(std::string target) {
    return {.host = "127.0.0.1", .port = port_, .target = std::move(target), .timeout_ms = 5000};
  }

  Result<HttpResponse> stream(std::string target, std::vector<std::string>& lines) {
    return run(http_stream(spec(std::move(target)), [&lines](std::string_view line) {
      lines.emplace_back(line);
      return Status::Ok();
    }));
  }

  uint16_t port_ = 0;
  std::promise<Status> endless_result_;
};

TEST_F(HttpClientTest, JsonRoundTripWithHeaders) {
  HttpRequestSpec request = spec("/v1/sum");
  request.method = http::verb::post;
  request.content_type = "application/json";
  request.body = R"({"a": 2, "b": 40})";
  request.headers = {{"X-Request-Id", "req-1"}};
  Result<HttpResponse> response = run(http_request(request));
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 200u);
  EXPECT_EQ(json::parse(response->body), (json{{"sum", 42}, {"id", "req-1"}}));
}

TEST_F(HttpClientTest, StreamDeliversLinesInOrder) {
  std::vector<std::string> lines;
  Result<HttpResponse> response = stream("/stream?n=200", lines);
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 200u);
  EXPECT_EQ(response->header("transfer-encoding"), "chunked");
  ASSERT_EQ(lines.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(lines[i], fmt::format("{{\"i\":{}}}", i));
}

TEST_F(HttpClientTest, StreamJoinsLinesAcrossChunksAndKeepsTheTail) {
  std::vector<std::string> lines;
  Result<HttpResponse> response = stream("/split", lines);
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(lines, (std::vector<std::string>{"data: 1", "", "data: 2", "tail"}));
}

TEST_F(HttpClientTest, StreamOfNonChunkedBodyAndBufferedErrors) {
  std::vector<std::string> lines;
  Result<HttpResponse> plain = stream("/v1/sum", lines);  // GET on a POST route: 405
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->status_code, 405u);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(json::parse(plain->body)["error"]["type"], "invalid_request_error");
}

TEST_F(HttpClientTest, TruncatedStreamIsUnavailable) {
  std::vector<std::string> lines;
  Result<HttpResponse> response = stream("/truncated", lines);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(),
            fmt::format("GET http://127.0.0.1:{}/truncated: read body: connection closed before "
                        "the end of the response",
                        port_));
  EXPECT_EQ(lines, std::vector<std::string>{"first"});
}

TEST_F(HttpClientTest, ClientDisconnectMakesWriteChunkFail) {
  int num_lines = 0;
  Result<HttpResponse> response = run(http_stream(spec("/endless"), [&](std::string_view) {
    return ++num_lines < 3 ? Status::Ok() : Status(StatusCode::kCancelled, "enough");
  }));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "enough");
  std::future<Status> handler_saw = endless_result_.get_future();
  ASSERT_EQ(handler_saw.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Status status = handler_saw.get();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.to_string();
  EXPECT_TRUE(status.message().starts_with("write chunk: client disconnected")) << status.to_string();
}

TEST_F(HttpClientTest, TimeoutAgainstAHandlerThatNeverAnswers) {
  HttpRequestSpec request = spec("/hang");
  request.timeout_ms = 150;
  Clock::time_point begin = Clock::now();
  Result<HttpResponse> response = run(http_request(request));
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(2));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(response.status().message(),
            fmt::format("GET http://127.0.0.1:{}/hang: read response head: timed out after 150 ms", port_));
}

TEST_F(HttpClientTest, CancelledByTheCaller) {
  auto race = [this]() -> asio::awaitable<size_t> {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    HttpRequestSpec request = spec("/hang");
    auto winner = co_await (http_request(request) || timer.async_wait(asio::use_awaitable));
    co_return winner.index();
  };
  Clock::time_point begin = Clock::now();
  EXPECT_EQ(run(race()), 1u);
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(2));
}

TEST_F(HttpClientTest, ConnectRefusedIsUnavailableNamingTheAddress) {
  uint16_t closed_port = 0;
  {
    asio::io_context scratch;
    asio::ip::tcp::acceptor acceptor(scratch, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = acceptor.local_endpoint().port();
  }
  HttpRequestSpec request = spec("/x");
  request.port = closed_port;
  Result<HttpResponse> response = run(http_request(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(),
            fmt::format("GET http://127.0.0.1:{}/x: connect: Connection refused", closed_port));
}

TEST_F(HttpClientTest, RejectsBadSpec) {
  HttpRequestSpec request = spec("v1");
  Result<HttpResponse> response = run(http_request(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().to_string(), "INVALID_ARGUMENT: target: must start with '/'; got \"v1\"");
}

TEST(ParseHostPortTest, AcceptsNamesAndLiterals) {
  Result<HostPort> name = parse_host_port("node-1:8001");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "node-1");
  EXPECT_EQ(name->port, 8001);
  Result<HostPort> v6 = parse_host_port("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(format_host_port(v6->host, v6->port), "[::1]:80");
}

TEST(ParseHostPortTest, NamesTheRuleBroken) {
  auto message = [](std::string_view text) { return parse_host_port(text).status().message(); };
  EXPECT_EQ(message("localhost"), "address \"localhost\": must be host:port");
  EXPECT_EQ(message(":80"), "address \":80\": host must not be empty");
  EXPECT_EQ(message("h:0"), "address \"h:0\": port must be a number in [1, 65535]; got \"0\"");
  EXPECT_EQ(message("h:65536"), "address \"h:65536\": port must be a number in [1, 65535]; got \"65536\"");
  EXPECT_EQ(message("h:8x"), "address \"h:8x\": port must be a number in [1, 65535]; got \"8x\"");
  EXPECT_EQ(message("::1:80"), "address \"::1:80\": an IPv6 host must be in brackets, as [::1]:8000");
}

}  // namespace
}  // namespace ppd::net
