#include "ppd/router/node_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/common/json_limits.h"
#include "ppd/router/cluster_monitor.h"

namespace ppd::router {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

StatusCode code_for_http(unsigned status) {
  switch (status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 404:
      return StatusCode::kNotFound;
    case 413:
      return StatusCode::kInvalidArgument;
    case 429:
      return StatusCode::kResourceExhausted;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInternal;
  }
}

StatusCode code_for_name(std::string_view name) {
  for (StatusCode c : {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kResourceExhausted,
                       StatusCode::kUnavailable, StatusCode::kDeadlineExceeded, StatusCode::kDataLoss,
                       StatusCode::kInternal, StatusCode::kFailedPrecondition, StatusCode::kCancelled}) {
    if (status_code_name(c) == name) return c;
  }
  return StatusCode::kUnavailable;
}

template <typename T>
bool read_int(const nlohmann::json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_integer()) return false;
  *out = it->get<T>();
  return true;
}

}  // namespace

Result<NodeOutput> parse_node_output(std::string_view line, std::string_view node) {
  const nlohmann::json j = parse_peer_json(line);
  if (!j.is_object()) return internal_error("node {}: malformed output line: {:.80}", node, line);
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    const auto message = e->find("message");
    const auto code = e->find("code");
    return Status(code_for_name(code != e->end() && code->is_string() ? code->get<std::string>() : std::string()),
                  fmt::format("node {}: {}", node,
                              message != e->end() && message->is_string() ? message->get<std::string>()
                                                                          : std::string("unknown error")));
  }
  NodeOutput out;
  bool ok = j.contains("token") && read_int(j, "token", &out.token) && read_int(j, "index", &out.index) &&
            read_int(j, "num_prompt_tokens", &out.num_prompt_tokens) &&
            read_int(j, "num_cached_tokens", &out.num_cached_tokens) &&
            read_int(j, "num_output_tokens", &out.num_output_tokens);
  if (auto f = j.find("finish_reason"); ok && f != j.end()) {
    ok = f->is_string();
    if (ok) out.finish_reason = f->get<std::string>();
  }
  if (auto t = j.find("kv_transfer"); ok && t != j.end())
    ok = t->is_object() && read_int(*t, "bytes", &out.transfer_bytes);
  if (!ok) return internal_error("node {}: malformed output line: {:.80}", node, line);
  return out;
}

Status status_from_node_error(unsigned http_status, std::string_view body, std::string_view node) {
  const nlohmann::json j = parse_peer_json(body);
  std::string message = fmt::format("HTTP {}", http_status);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string()) {
    message = j["error"]["message"].get<std::string>();
  }
  return Status(code_for_http(http_status), fmt::format("node {}: {}", node, message));
}

NodeStream::NodeStream(asio::any_io_executor executor, std::string node_name, StreamWatch watch)
    : lines_(executor, kMaxBufferedLines),
      node_name_(std::move(node_name)),
      watch_(std::move(watch)),
      last_line_(std::chrono::steady_clock::now()) {}

std::shared_ptr<NodeStream> NodeStream::start(asio::any_io_executor executor, const net::HostPort& node,
                                              std::string target, std::string body, int64_t timeout_ms,
                                              StreamWatch watch, const std::string& cluster_secret) {
  auto self = std::make_shared<NodeStream>(executor, net::format_host_port(node.host, node.port), std::move(watch));
  net::HttpRequestSpec spec{.host = node.host,
                            .port = node.port,
                            .method = http::verb::post,
                            .target = std::move(target),
                            .body = std::move(body),
                            .content_type = "application/json",
                            .headers = secret_headers(cluster_secret),
                            .timeout_ms = timeout_ms};
  auto run = [self, spec = std::move(spec)]() -> asio::awaitable<void> {
    net::LineHandler on_line = [self](std::string_view line) -> Status {
      self->node_answered_ = true;
      self->got_line_ = true;
      self->last_line_ = std::chrono::steady_clock::now();
      if (line.empty()) return Status::Ok();
      if (!self->lines_.try_send(boost::system::error_code{}, std::string(line))) {
        return resource_exhausted("node {}: more than {} lines buffered", self->node_name_, kMaxBufferedLines);
      }
      return Status::Ok();
    };
    Result<net::HttpResponse> r = co_await net::http_stream(spec, std::move(on_line));
    if (r.ok()) self->node_answered_ = true;
    if (r.ok() && r->status_code / 100 != 2) self->node_refused_ = true;
    self->end_ = !r.ok()                     ? r.status()
                 : r->status_code / 100 != 2 ? status_from_node_error(r->status_code, r->body, self->node_name_)
                                             : Status::Ok();
    self->reader_done_ = true;
    auto [ec] = co_await self->lines_.async_send(asio::error::eof, std::string(), asio::as_tuple(asio::use_awaitable));
    (void)ec;
  };
  asio::co_spawn(executor, std::move(run), asio::bind_cancellation_slot(self->cancel_.slot(), asio::detached));
  asio::co_spawn(executor, watchdog(self), asio::detached);
  return self;
}

// Coroutine rule 2 (docs/decisions/0005): GCC 12's false "maybe uninitialized" on a returned
// optional, off for this coroutine only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
asio::awaitable<Result<std::optional<NodeOutput>>> NodeStream::next() {
  if (finished_ || ended_) co_return std::optional<NodeOutput>();
  auto [ec, line] = co_await lines_.async_receive(asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::timed_out && !watch_error_.ok()) {
    ended_ = true;
    co_return watch_error_;
  }
  co_return take(ec, line);
}

// Wakes every check_ms while the stream runs; when the watch gives the stream up, the reader's
// exchange is cancelled and next() gets the reason through the channel (so no line is lost to
// a race between a timer and a receive).
asio::awaitable<void> NodeStream::watchdog(std::weak_ptr<NodeStream> weak) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    std::shared_ptr<NodeStream> self = weak.lock();
    if (!self || self->reader_done_ || self->ended_) co_return;
    const int64_t check_ms = std::max<int64_t>(self->watch_.check_ms, 1);
    self.reset();
    timer.expires_after(std::chrono::milliseconds(check_ms));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    self = weak.lock();
    if (!self || self->reader_done_ || self->ended_) co_return;
    if (Status s = self->check_watch(); !s.ok()) {
      self->watch_error_ = s;
      self->cancel_.emit(asio::cancellation_type::terminal);
      self->lines_.try_send(asio::error::timed_out, std::string());
      co_return;
    }
  }
}

Status NodeStream::check_watch() const {
  if (watch_.node_alive && !watch_.node_alive()) {
    return unavailable("node {}: its load reports stopped; the request is given up", node_name_);
  }
  const int64_t limit_ms = got_line_ ? watch_.line_gap_ms : watch_.first_line_ms;
  const auto waited = std::chrono::steady_clock::now() - last_line_;
  if (waited < std::chrono::milliseconds(limit_ms)) return Status::Ok();
  return Status(StatusCode::kDeadlineExceeded,
                fmt::format("node {}: no output for {} ms ({})", node_name_, limit_ms,
                            got_line_ ? "--token-timeout-ms" : "--first-token-timeout-ms"));
}

Result<std::optional<NodeOutput>> NodeStream::take(boost::system::error_code ec, const std::string& line) {
  if (ec) {
    ended_ = true;
    if (!end_.ok()) return end_;
    return unavailable("node {}: the stream ended before the request finished", node_name_);
  }
  Result<NodeOutput> out = parse_node_output(line, node_name_);
  if (!out.ok()) return out.status();
  if (!out->finish_reason.empty()) finished_ = true;
  return std::optional<NodeOutput>(std::move(*out));
}
#pragma GCC diagnostic pop

void NodeStream::cancel() {
  if (!ended_) cancel_.emit(asio::cancellation_type::terminal);
  ended_ = true;
}

asio::awaitable<Result<nlohmann::json>> call_prefill(net::HostPort node, std::string body, int64_t timeout_ms,
                                                     std::string cluster_secret) {
  const std::string name = net::format_host_port(node.host, node.port);
  net::HttpRequestSpec spec{.host = node.host,
                            .port = node.port,
                            .method = http::verb::post,
                            .target = "/prefill",
                            .body = std::move(body),
                            .content_type = "application/json",
                            .headers = secret_headers(cluster_secret),
                            .timeout_ms = timeout_ms};
  Result<net::HttpResponse> r = co_await net::http_request(std::move(spec));
  if (!r.ok()) co_return r.status();
  if (r->status_code != 200) co_return status_from_node_error(r->status_code, r->body, name);
  nlohmann::json j = parse_peer_json(r->body);
  if (!j.is_object() || !j.contains("handle") || !j["handle"].is_object()) {
    co_return internal_error("node {}: /prefill answered without a handle", name);
  }
  co_return std::move(j["handle"]);
}

asio::awaitable<void> release_handle(net::HostPort node, uint64_t handle, std::string cluster_secret) {
  const std::string name = net::format_host_port(node.host, node.port);
  net::HttpRequestSpec spec{.host = node.host,
                            .port = node.port,
                            .method = http::verb::post,
                            .target = "/release",
                            .body = nlohmann::json{{"handle", handle}}.dump(),
                            .content_type = "application/json",
                            .headers = secret_headers(cluster_secret),
                            .timeout_ms = 5000};
  Result<net::HttpResponse> r = co_await net::http_request(std::move(spec));
  spdlog::debug("router release node={} handle={} outcome={}", name, handle,
                !r.ok() ? r.status().to_string() : std::to_string(r->status_code));
}

}  // namespace ppd::router
