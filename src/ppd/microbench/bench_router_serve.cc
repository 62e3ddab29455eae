// Parts 2 and 3 of `ppd bench router` (see bench_router.h): the node and router children, and
// part 2, the latency the router adds to a request (A: /generate on the node, B: /v1/completions
// through the router, alternating A B B A so that drift hits both alike).
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "ppd/launch/child_process.h"
#include "ppd/launch/log_dir.h"
#include "ppd/launch/up_plan.h"
#include "ppd/microbench/bench_router.h"
#include "ppd/microbench/bench_util.h"
#include "ppd/model/model_source.h"
#include "ppd/net/http_client.h"

namespace ppd::microbench {
namespace {

namespace asio = boost::asio;
using http_verb = boost::beast::http::verb;
using SteadyTime = std::chrono::steady_clock;

constexpr int kKvCacheMib = 1024;  // room for part 3's running sequences with any preset
constexpr int kWarmupPairs = 20;
constexpr int64_t kReadyTimeoutMs = 120'000;
constexpr int64_t kHealthTimeoutMs = 30'000;
constexpr int64_t kStopGraceMs = 5000;
constexpr int64_t kRequestTimeoutMs = 30'000;

template <typename T>
asio::awaitable<void> store_result(asio::awaitable<Result<T>> work, std::optional<Result<T>>* out) {
  out->emplace(co_await std::move(work));
}

// Runs `work` to completion on `io`, on this thread.
Result<net::HttpResponse> run_blocking(asio::io_context& io, asio::awaitable<Result<net::HttpResponse>> work) {
  std::optional<Result<net::HttpResponse>> out;
  asio::co_spawn(io, store_result(std::move(work), &out), asio::detached);
  io.restart();
  io.run();
  if (!out) return internal_error("bench router: an HTTP call did not finish");
  return std::move(*out);
}

net::HttpRequestSpec request_spec(const std::string& host, uint16_t port, http_verb method, std::string target,
                                  std::string body) {
  std::string content_type = body.empty() ? "" : "application/json";
  return {.host = host,
          .port = port,
          .method = method,
          .target = std::move(target),
          .body = std::move(body),
          .content_type = std::move(content_type),
          .timeout_ms = kRequestTimeoutMs};
}

// The router's --max-active-requests and --max-waiting-per-node: part 3's streams wait in the
// node's queue past its running limit, and the router must admit them all.
int admission_limit(const RouterBenchOptions& o) { return std::max(4096, o.num_streams + 64); }

// Raises RLIMIT_NOFILE to its hard limit, for this process and the children it starts.
uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlim_t want = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
  if (limit.rlim_cur < want) {
    limit.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// The node and the router children. stop() (also run by the destructor) stops the router,
// then the node, each within kStopGraceMs.
class BenchChildren {
 public:
  explicit BenchChildren(std::string log_dir) : log_dir_(std::move(log_dir)) {}
  BenchChildren(const BenchChildren&) = delete;
  BenchChildren& operator=(const BenchChildren&) = delete;
  ~BenchChildren() { stop(nullptr); }

  Status start(const RouterBenchOptions& o, std::ostream& log);
  const ServingTarget& target() const { return target_; }
  void stop(std::ostream* log);

 private:
  Result<std::string> start_child(const std::string& name, std::vector<std::string> argv, std::string_view ready,
                                  std::unique_ptr<launch::ChildProcess>* child, std::ostream& log);
  Status wait_router_healthy(std::ostream& log);
  Status read_node_vocab();

  std::string log_dir_;
  std::unique_ptr<launch::ChildProcess> node_;
  std::unique_ptr<launch::ChildProcess> router_;
  ServingTarget target_;
  asio::io_context io_;
};

Result<std::string> BenchChildren::start_child(const std::string& name, std::vector<std::string> argv,
                                               std::string_view ready, std::unique_ptr<launch::ChildProcess>* child,
                                               std::ostream& log) {
  const std::string log_path = (std::filesystem::path(log_dir_) / (name + ".log")).string();
  log << fmt::format("starting {} (log {})\n", name, log_path) << std::flush;
  PPD_ASSIGN_OR_RETURN(*child, launch::ChildProcess::spawn({.argv = std::move(argv), .stderr_path = log_path}));
  Result<std::string> line = (*child)->wait_for_line(ready, kReadyTimeoutMs);
  if (!line.ok()) return line.status().with_context(name);
  return line;
}

Status BenchChildren::start(const RouterBenchOptions& o, std::ostream& log) {
  PPD_ASSIGN_OR_RETURN(const std::string binary, launch::self_binary_path());
  PPD_ASSIGN_OR_RETURN(const std::string model_dir, model::resolve_model_arg(o.model));
  PPD_ASSIGN_OR_RETURN(const std::string node_line,
                       start_child("node",
                                   {binary, "node", "--role", "mixed", "--model", model_dir, "--name", "bench-node",
                                    "--host", target_.host, "--port", "0", "--kv-port", "0", "--threads", "1",
                                    "--kv-cache-mib", std::to_string(kKvCacheMib)},
                                   "ppd node ready", &node_, log));
  PPD_ASSIGN_OR_RETURN(const std::string node_http, launch::ready_line_value(node_line, "http"));
  PPD_ASSIGN_OR_RETURN(const net::HostPort node_address, net::parse_host_port(node_http));
  target_.node_port = node_address.port;
  const std::string max_requests = std::to_string(admission_limit(o));
  PPD_ASSIGN_OR_RETURN(
      const std::string router_line,
      start_child("router",
                  {binary, "router", "--model", model_dir, "--decode", node_http, "--host", target_.host, "--port", "0",
                   "--policy", "local", "--max-active-requests", max_requests, "--max-waiting-per-node", max_requests},
                  "ppd router ready", &router_, log));
  PPD_ASSIGN_OR_RETURN(const std::string router_http, launch::ready_line_value(router_line, "http"));
  PPD_ASSIGN_OR_RETURN(const net::HostPort router_address, net::parse_host_port(router_http));
  PPD_ASSIGN_OR_RETURN(target_.served_model, launch::ready_line_value(router_line, "model"));
  target_.router_port = router_address.port;
  target_.router_pid = router_->pid();
  PPD_RETURN_IF_ERROR(wait_router_healthy(log));
  return read_node_vocab();
}

Status BenchChildren::wait_router_healthy(std::ostream& log) {
  const SteadyTime::time_point deadline = SteadyTime::now() + std::chrono::milliseconds(kHealthTimeoutMs);
  std::string last = "no answer";
  while (SteadyTime::now() < deadline) {
    const Result<net::HttpResponse> r = run_blocking(
        io_, net::http_request(request_spec(target_.host, target_.router_port, http_verb::get, "/health", "")));
    if (r.ok() && r->status_code == 200) {
      log << "router healthy\n" << std::flush;
      return Status::Ok();
    }
    last = r.ok() ? fmt::format("HTTP {}", r->status_code) : r.status().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return unavailable("router /health: not 200 within {} ms; last: {}", kHealthTimeoutMs, last);
}

Status BenchChildren::read_node_vocab() {
  PPD_ASSIGN_OR_RETURN(const net::HttpResponse r,
                       run_blocking(io_, net::http_request(request_spec(target_.host, target_.node_port, http_verb::get,
                                                                        "/health", ""))));
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status_code != 200 || !j.is_object() || !j.contains("engine") || !j["engine"].contains("vocab_size")) {
    return unavailable("node /health: no engine.vocab_size; got HTTP {}", r.status_code);
  }
  target_.vocab_size = j["engine"]["vocab_size"].get<int>();
  return Status::Ok();
}

void BenchChildren::stop(std::ostream* log) {
  for (std::unique_ptr<launch::ChildProcess>* child : {&router_, &node_}) {
    if (!*child) continue;
    const bool was_running = !(*child)->poll_exit().has_value();
    const int status = (*child)->terminate(kStopGraceMs);
    if (log != nullptr && was_running && status != 0 && status != 128 + SIGTERM) {
      *log << fmt::format("{} stopped with {}\n", (*child)->command(), (*child)->exit_text());
    }
    child->reset();
  }
}

// One timed call; checks the answer is a complete success.
Result<double> timed_call(asio::io_context& io, const net::HttpRequestSpec& spec, std::string_view must_contain) {
  const SteadyTime::time_point start = SteadyTime::now();
  PPD_ASSIGN_OR_RETURN(const net::HttpResponse r, run_blocking(io, net::http_request(spec)));
  const double us = std::chrono::duration<double, std::micro>(SteadyTime::now() - start).count();
  if (r.status_code != 200 || r.body.find(must_contain) == std::string::npos) {
    return unavailable("{}: HTTP {}: {}", spec.target, r.status_code, r.body.substr(0, 300));
  }
  return us;
}

}  // namespace

Result<LatencyReport> run_latency_bench(const ServingTarget& t, const RouterBenchOptions& o, std::ostream& log) {
  const std::vector<TokenId> prompt = bench_prompt(kRouterBenchPromptTokens, t.vocab_size, o.seed);
  const nlohmann::json direct_body = {{"token_ids", prompt},
                                      {"sampling", {{"max_tokens", 1}, {"temperature", 0}, {"ignore_eos", true}}}};
  const nlohmann::json router_body = {
      {"model", t.served_model}, {"prompt", prompt}, {"max_tokens", 1}, {"temperature", 0}};
  const net::HttpRequestSpec a = request_spec(t.host, t.node_port, http_verb::post, "/generate", direct_body.dump());
  const net::HttpRequestSpec b =
      request_spec(t.host, t.router_port, http_verb::post, "/v1/completions", router_body.dump());
  asio::io_context io;
  std::vector<double> a_us, b_us, diff_us;
  log << fmt::format("added latency: {} warm-up pairs, then {} timed pairs\n", kWarmupPairs, o.num_requests)
      << std::flush;
  for (int i = -kWarmupPairs; i < o.num_requests; ++i) {
    const bool a_first = (i & 1) == 0;  // A B, B A, A B, ...
    double us[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const bool is_a = (k == 0) == a_first;
      Result<double> r = timed_call(io, is_a ? a : b, is_a ? "finish_reason" : "\"choices\"");
      if (!r.ok()) return r.status().with_context(is_a ? "direct" : "via router");
      us[is_a ? 0 : 1] = *r;
    }
    if (i < 0) continue;
    a_us.push_back(us[0]);
    b_us.push_back(us[1]);
    diff_us.push_back(us[1] - us[0]);
  }
  LatencyReport report{.direct = summarize(a_us), .via_router = summarize(b_us), .added = summarize(diff_us)};
  report.p99_difference_us = report.via_router.p99_us - report.direct.p99_us;
  return report;
}

Result<ServingReport> run_serving_bench(const RouterBenchOptions& o, std::ostream& log) {
  ServingReport report{.kv_cache_mib = kKvCacheMib, .router_admission_limit = admission_limit(o)};
  const uint64_t fd_limit = raise_fd_limit();
  PPD_ASSIGN_OR_RETURN(report.log_dir, launch::make_log_dir("", "ppd-bench-router"));
  BenchChildren children(report.log_dir);
  PPD_RETURN_IF_ERROR(children.start(o, log));
  PPD_ASSIGN_OR_RETURN(report.latency, run_latency_bench(children.target(), o, log));
  PPD_ASSIGN_OR_RETURN(report.streams, run_stream_bench(children.target(), o, log));
  report.streams.fd_limit = fd_limit;
  log << "stopping the router and the node\n" << std::flush;
  children.stop(&log);
  return report;
}

}  // namespace ppd::microbench
