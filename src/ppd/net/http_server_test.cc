#include "ppd/net/http_server.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/net/http_client.h"
#include "ppd/net/net_test_util.h"

namespace ppd::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

asio::awaitable<void> send_hello(const HttpRequest&, ResponseWriter& w) {
  json body = {{"hello", "world"}};  // coroutine rule 1 (docs/decisions/0005)
  co_await w.send_json(http::status::ok, body);
}

asio::awaitable<void> echo(const HttpRequest& r, ResponseWriter& w) {
  co_await w.send_text(http::status::ok, "text/plain", r.body());
}

asio::awaitable<void> refuse_busy(const HttpRequest&, ResponseWriter& w) {
  Status error = resource_exhausted("waiting queue: full at 8 requests");
  co_await w.send_error(error);
}

asio::awaitable<void> throw_boom(const HttpRequest&, ResponseWriter&) {
  throw std::runtime_error("boom");
  co_return;
}

asio::awaitable<void> two_lines(const HttpRequest&, ResponseWriter& w) {
  co_await w.begin_stream("application/x-ndjson");
  co_await w.write_chunk("a\n");
  co_await w.write_chunk("");  // nothing: an empty chunk would end the stream
  co_await w.write_chunk("b\n");
  co_await w.end_stream();
}

asio::awaitable<void> say_nothing(const HttpRequest&, ResponseWriter&) { co_return; }

class HttpServerTest : public testing::ServerFixture {
 protected:
  uint16_t start(HttpServerOptions options = {}) {
    HttpServer& s = server(std::move(options));
    s.add_route(http::verb::get, "/json", send_hello);
    s.add_route(http::verb::post, "/echo", echo);
    s.add_route(http::verb::get, "/busy", refuse_busy);
    s.add_route(http::verb::get, "/throw", throw_boom);
    s.add_route(http::verb::get, "/silent", say_nothing);
    s.add_route(http::verb::get, "/lines", two_lines);
    s.add_route(http::verb::get, "/hang", [this](const HttpRequest&, ResponseWriter&) { return hang(); });
    port_ = start_server();
    return port_;
  }

  // Waits 60 s unless cancelled; reports when it starts and how its wait ended.
  asio::awaitable<void> hang() {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(60));
    hang_started_.set_value();
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    hang_ended_.set_value(ec);
  }

  Result<HttpResponse> get(std::string target, http::verb method = http::verb::get, std::string body = "") {
    return run(http_request({.host = "127.0.0.1",
                             .port = port_,
                             .method = method,
                             .target = std::move(target),
                             .body = std::move(body),
                             .timeout_ms = 5000}));
  }

  uint16_t port_ = 0;
  std::promise<void> hang_started_;
  std::promise<boost::system::error_code> hang_ended_;
};

TEST_F(HttpServerTest, JsonRoundTrip) {
  start();
  Result<HttpResponse> response = get("/json");
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 200u);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(json::parse(response->body), (json{{"hello", "world"}}));
}

TEST_F(HttpServerTest, UnknownPathIs404NamingThePath) {
  start();
  Result<HttpResponse> response = get("/nope?x=1");
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 404u);
  EXPECT_EQ(response->body, R"({"error":{"code":404,"message":"path \"/nope\": no such route; routes: /busy, )"
                            R"(/echo, /hang, /json, /lines, /silent, /throw","param":null,)"
                            R"("type":"not_found_error"}})");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  start();
  Result<HttpResponse> response = get("/json", http::verb::delete_);
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 405u);
  EXPECT_EQ(response->header("allow"), "GET");
  EXPECT_EQ(json::parse(response->body)["error"]["message"],
            "method DELETE not allowed for path \"/json\"; allowed: GET");
}

TEST_F(HttpServerTest, OversizedBodyIs413NamingTheLimit) {
  start({.max_body_bytes = 1024});
  Result<HttpResponse> response = get("/echo", http::verb::post, std::string(2000, 'x'));
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 413u);
  EXPECT_EQ(response->body, R"({"error":{"code":413,"message":"request body: 2000 bytes exceeds max_body_bytes )"
                            R"(1024","param":null,"type":"invalid_request_error"}})");
  Result<HttpResponse> small = get("/echo", http::verb::post, std::string(1024, 'y'));
  ASSERT_TRUE(small.ok()) << small.status().to_string();
  EXPECT_EQ(small->body, std::string(1024, 'y'));
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  uint16_t port = start({.max_body_bytes = 16});
  std::string reply = testing::raw_exchange(port,
                                            "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                            "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 413 Payload Too Large\r\n")) << reply;
  EXPECT_NE(reply.find("request body: exceeds max_body_bytes 16"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, MalformedRequestIs400AndServerKeepsServing) {
  uint16_t port = start();
  std::string reply = testing::raw_exchange(port, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 Bad Request\r\n")) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_NE(reply.find("malformed HTTP request: "), std::string::npos) << reply;
  Result<HttpResponse> response = get("/json");
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 200u);
}

TEST_F(HttpServerTest, KeepAliveServesPipelinedRequestsOnOneConnection) {
  uint16_t port = start();
  std::string reply =
      testing::raw_exchange(port,
                            "GET /json HTTP/1.1\r\nHost: a\r\n\r\n"
                            "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  size_t first = reply.find("HTTP/1.1 200 OK\r\n");
  ASSERT_EQ(first, 0u) << reply;
  size_t second = reply.find("HTTP/1.1 200 OK\r\n", first + 1);
  ASSERT_NE(second, std::string::npos) << reply;
  EXPECT_NE(reply.find("{\"hello\":\"world\"}"), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\nabc")) << reply;
}

TEST_F(HttpServerTest, StreamsChunkedForHttp11AndUntilCloseForHttp10) {
  uint16_t port = start();
  std::string chunked = testing::raw_exchange(port, "GET /lines HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(chunked.starts_with("HTTP/1.1 200 OK\r\n")) << chunked;
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << chunked;
  EXPECT_TRUE(chunked.ends_with("\r\n\r\n2\r\na\n\r\n2\r\nb\n\r\n0\r\n\r\n")) << chunked;
  std::string plain = testing::raw_exchange(port, "GET /lines HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(plain.starts_with("HTTP/1.0 200 OK\r\n")) << plain;
  EXPECT_EQ(plain.find("Transfer-Encoding"), std::string::npos) << plain;
  EXPECT_TRUE(plain.ends_with("\r\n\r\na\nb\n")) << plain;
}

TEST_F(HttpServerTest, StatusMapsToHttpWithRetryAfter) {
  start();
  Result<HttpResponse> response = get("/busy");
  ASSERT_TRUE(response.ok()) << response.status().to_string();
  EXPECT_EQ(response->status_code, 429u);
  EXPECT_EQ(response->header("retry-after"), "1");
  EXPECT_EQ(response->body, R"({"error":{"code":429,"message":"waiting queue: full at 8 requests","param":null,)"
                            R"("type":"rate_limit_error"}})");
}

TEST_F(HttpServerTest, ThrowingOrSilentHandlerGives500AndServerKeepsServing) {
  start();
  Result<HttpResponse> thrown = get("/throw");
  ASSERT_TRUE(thrown.ok()) << thrown.status().to_string();
  EXPECT_EQ(thrown->status_code, 500u);
  EXPECT_EQ(json::parse(thrown->body)["error"]["message"], "GET /throw: handler threw: boom");
  Result<HttpResponse> silent = get("/silent");
  ASSERT_TRUE(silent.ok()) << silent.status().to_string();
  EXPECT_EQ(json::parse(silent->body)["error"]["message"], "GET /silent: handler returned without a response");
  EXPECT_EQ(get("/json")->status_code, 200u);
}

TEST_F(HttpServerTest, StopClosesConnectionsAndCancelsHandlers) {
  start();
  std::future<Result<HttpResponse>> pending =
      spawn(http_request({.host = "127.0.0.1", .port = port_, .target = "/hang", .timeout_ms = 10'000}));
  hang_started_.get_future().wait();
  server_->stop();
  std::future<boost::system::error_code> ended = hang_ended_.get_future();
  ASSERT_EQ(ended.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(ended.get(), asio::error::operation_aborted);
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Result<HttpResponse> response = pending.get();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().to_string();
}

TEST_F(HttpServerTest, StartRejectsBadOptions) {
  Result<uint16_t> bad_address = server({.bind_address = "localhost:1"}).start();
  ASSERT_FALSE(bad_address.ok());
  EXPECT_EQ(bad_address.status().message(), "bind_address: must be an IPv4 or IPv6 address; got \"localhost:1\"");
}

TEST(HttpStatusTest, MapsStatusCodes) {
  EXPECT_EQ(http_status_for(StatusCode::kInvalidArgument), http::status::bad_request);
  EXPECT_EQ(http_status_for(StatusCode::kFailedPrecondition), http::status::bad_request);
  EXPECT_EQ(http_status_for(StatusCode::kNotFound), http::status::not_found);
  EXPECT_EQ(http_status_for(StatusCode::kResourceExhausted), http::status::too_many_requests);
  EXPECT_EQ(http_status_for(StatusCode::kUnavailable), http::status::service_unavailable);
  EXPECT_EQ(http_status_for(StatusCode::kDeadlineExceeded), http::status::gateway_timeout);
  EXPECT_EQ(http_status_for(StatusCode::kInternal), http::status::internal_server_error);
  EXPECT_EQ(http_status_for(StatusCode::kDataLoss), http::status::internal_server_error);
}

}  // namespace
}  // namespace ppd::net
