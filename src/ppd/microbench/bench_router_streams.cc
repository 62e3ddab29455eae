// Part 3 of `ppd bench router` (see bench_router.h): C concurrent SSE streams through the router,
// all coroutines on one io_context of this thread, while a sampler reads the router's
// /proc/<pid>/status every 100 ms and the node's /health every second.
#include <algorithm>
#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "ppd/microbench/bench_router.h"
#include "ppd/microbench/bench_util.h"
#include "ppd/net/http_client.h"
#include "ppd/sched/scheduler.h"

namespace ppd::microbench {
namespace {

namespace asio = boost::asio;
using http_verb = boost::beast::http::verb;
using SteadyTime = std::chrono::steady_clock;

constexpr int64_t kStreamTimeoutMs = 600'000;
constexpr auto kSamplePeriod = std::chrono::milliseconds(100);
constexpr int kSamplesPerNodePoll = 10;

// Shared by the streams and the sampler; all on one thread.
struct StreamCounters {
  int num_in_flight = 0;
  int num_with_data = 0;  // in flight and had a data line
  int num_finished = 0;
  int num_ok = 0;
  int num_failed = 0;
  std::string first_error;
};

// What one stream saw, for its verdict.
struct StreamSeen {
  bool got_data = false;
  bool done = false;
  std::string error;  // an error event's JSON
};

Status on_stream_line(std::string_view line, StreamSeen* seen, StreamCounters* c) {
  if (!line.starts_with("data: ")) return Status::Ok();
  if (!seen->got_data) {
    seen->got_data = true;
    ++c->num_with_data;
  }
  if (line == "data: [DONE]") {
    seen->done = true;
  } else if (line.starts_with("data: {\"error\"") && seen->error.empty()) {
    seen->error = std::string(line.substr(6, 300));
  }
  return Status::Ok();
}

asio::awaitable<void> one_stream(net::HttpRequestSpec spec, StreamCounters* c) {
  ++c->num_in_flight;
  StreamSeen seen;
  const Result<net::HttpResponse> r =
      co_await net::http_stream(std::move(spec), [&](std::string_view line) { return on_stream_line(line, &seen, c); });
  --c->num_in_flight;
  if (seen.got_data) --c->num_with_data;
  ++c->num_finished;
  std::string error = seen.error;
  if (!r.ok()) {
    error = r.status().message();
  } else if (r->status_code != 200) {
    error = fmt::format("HTTP {}: {}", r->status_code, r->body.substr(0, 300));
  } else if (error.empty() && !seen.done) {
    error = "the stream ended without data: [DONE]";
  }
  if (error.empty()) {
    ++c->num_ok;
    co_return;
  }
  ++c->num_failed;
  if (c->first_error.empty()) c->first_error = std::move(error);
}

// The node's running and waiting counts, into the report's maxima; errors are skipped.
asio::awaitable<void> poll_node(const ServingTarget& t, StreamReport* report) {
  // A named spec: coroutine rule 1 (docs/decisions/0005).
  net::HttpRequestSpec spec{.host = t.host, .port = t.node_port, .target = "/health", .timeout_ms = 5000};
  const Result<net::HttpResponse> r = co_await net::http_request(std::move(spec));
  if (!r.ok() || r->status_code != 200) co_return;
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object()) co_return;
  report->node_max_running = std::max(report->node_max_running, j.value("num_running", 0));
  report->node_max_waiting = std::max(report->node_max_waiting, j.value("num_waiting", 0));
}

void take_sample(const ServingTarget& t, const StreamCounters& c, StreamReport* report) {
  const Result<ProcStatus> p = read_proc_status(t.router_pid);
  if (p.ok()) {
    report->peak.vm_rss_kib = std::max(report->peak.vm_rss_kib, p->vm_rss_kib);
    report->peak.vm_hwm_kib = std::max(report->peak.vm_hwm_kib, p->vm_hwm_kib);
    report->peak.num_threads = std::max(report->peak.num_threads, p->num_threads);
  }
  report->max_in_flight = std::max(report->max_in_flight, c.num_in_flight);
  report->max_with_first_data = std::max(report->max_with_first_data, c.num_with_data);
}

asio::awaitable<void> sample_until_done(const ServingTarget& t, const StreamCounters* c, StreamReport* report,
                                        std::ostream* log) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int tick = 1; c->num_finished < report->num_streams; ++tick) {
    timer.expires_after(kSamplePeriod);
    co_await timer.async_wait(asio::use_awaitable);
    take_sample(t, *c, report);
    if (tick % kSamplesPerNodePoll != 0) continue;
    co_await poll_node(t, report);
    *log << fmt::format("  streams: {} open ({} with data), {} done ({} ok); router RSS peak {} KiB, {} threads\n",
                        c->num_in_flight, c->num_with_data, c->num_finished, c->num_ok, report->peak.vm_rss_kib,
                        report->peak.num_threads)
         << std::flush;
  }
}

std::string stream_body(const ServingTarget& t, const RouterBenchOptions& o, int index) {
  std::vector<TokenId> prompt = bench_prompt(kRouterBenchPromptTokens, t.vocab_size, o.seed + 1);
  prompt[0] = static_cast<TokenId>(3 + index % std::max(t.vocab_size - 3, 1));  // a distinct prompt per stream
  const nlohmann::json body = {{"model", t.served_model}, {"prompt", prompt},   {"max_tokens", o.stream_max_tokens},
                               {"temperature", 0},        {"ignore_eos", true}, {"stream", true}};
  return body.dump();
}

}  // namespace

Result<StreamReport> run_stream_bench(const ServingTarget& t, const RouterBenchOptions& o, std::ostream& log) {
  StreamReport report{.num_streams = o.num_streams, .node_max_num_running = sched::SchedulerOptions{}.max_num_running};
  PPD_ASSIGN_OR_RETURN(report.before, read_proc_status(t.router_pid));
  report.peak = report.before;
  log << fmt::format("concurrent streams: opening {} SSE streams of {} tokens through the router\n", o.num_streams,
                     o.stream_max_tokens)
      << std::flush;
  asio::io_context io;
  StreamCounters counters;
  for (int i = 0; i < o.num_streams; ++i) {
    net::HttpRequestSpec spec{.host = t.host,
                              .port = t.router_port,
                              .method = http_verb::post,
                              .target = "/v1/completions",
                              .body = stream_body(t, o, i),
                              .content_type = "application/json",
                              .timeout_ms = kStreamTimeoutMs};
    asio::co_spawn(io, one_stream(std::move(spec), &counters), asio::detached);
  }
  asio::co_spawn(io, sample_until_done(t, &counters, &report, &log), asio::detached);
  const SteadyTime::time_point start = SteadyTime::now();
  io.run();
  report.duration_s = std::chrono::duration<double>(SteadyTime::now() - start).count();
  report.num_ok = counters.num_ok;
  report.num_failed = counters.num_failed;
  report.first_error = counters.first_error;
  PPD_ASSIGN_OR_RETURN(const ProcStatus after, read_proc_status(t.router_pid));
  report.hwm_after_kib = after.vm_hwm_kib;
  return report;
}

}  // namespace ppd::microbench
