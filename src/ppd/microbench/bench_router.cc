// `ppd bench router`: flags, the pure helpers, the report and its JSON (the measurements are in
// bench_router_decide.cc, bench_router_serve.cc and bench_router_streams.cc).
#include "ppd/microbench/bench_router.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"

namespace ppd::microbench {
namespace {

std::string verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

const DecisionRow* find_row(const DecisionReport& d, std::string_view policy) {
  for (const DecisionRow& r : d.rows) {
    if (r.policy == policy) return &r;
  }
  return nullptr;
}

bool decision_pass(const DecisionReport& d) {
  const DecisionRow* ppd = find_row(d, "ppd");
  return ppd != nullptr && ppd->route.p99_us < kDecisionTargetP99Us;
}

std::string latency_line(std::string_view name, const LatencySummary& s) {
  return fmt::format("{:<36} {:>9.1f} {:>9.1f} {:>9.1f}\n", name, s.p50_us, s.p99_us, s.max_us);
}

std::string format_decision(const DecisionReport& d, const RouterBenchOptions& o) {
  std::string out = "\n== 1. decision time (in process) ==\n";
  out += fmt::format(
      "cluster: {} prefill + {} decode nodes, {} cached conversations of 500-4000 tokens, {} block "
      "hashes in the prefix index\n",
      d.num_prefill, d.num_decode, d.num_conversations, d.num_cached_hashes);
  out += fmt::format(
      "{} turn-2 requests per policy (conversation + 64 new tokens, {:.1f} full blocks on average); "
      "each route() timed alone with steady_clock\n",
      o.num_decisions, d.mean_prompt_blocks);
  out += fmt::format("{:<28} {:>8} {:>8} {:>8} {:>10} {:>10} {:>7}\n", "test", "p50 µs", "p99 µs", "max µs",
                     "p50 ratio", "p99 ratio", "local");
  out += fmt::format("{:<28} {:>8.2f} {:>8.2f} {:>8.1f} {:>10} {:>10} {:>7}\n", "prefix lookup (baseline)",
                     d.lookup.p50_us, d.lookup.p99_us, d.lookup.max_us, "1.00", "1.00", "-");
  for (const DecisionRow& r : d.rows) {
    out +=
        fmt::format("{:<28} {:>8.2f} {:>8.2f} {:>8.1f} {:>10.2f} {:>10.2f} {:>6.1f}%\n", "route " + r.policy,
                    r.route.p50_us, r.route.p99_us, r.route.max_us, r.ratio_p50, r.ratio_p99, 100 * r.local_fraction);
  }
  const DecisionRow* ppd = find_row(d, "ppd");
  out += fmt::format("ratio: route / prefix lookup of the same requests, same run\n");
  out += fmt::format("target: ppd p99 < {:.0f} µs with {} nodes and {} conversations: {:.2f} µs {}\n",
                     kDecisionTargetP99Us, d.num_prefill + d.num_decode, d.num_conversations,
                     ppd != nullptr ? ppd->route.p99_us : NAN, verdict(decision_pass(d)));
  return out;
}

std::string format_latency(const ServingReport& s, const RouterBenchOptions& o) {
  const LatencyReport& l = s.latency;
  std::string out = "\n== 2. added latency (child processes, loopback) ==\n";
  out += fmt::format(
      "one mixed node (--threads 1, --kv-cache-mib {}) and a router (--policy local, no prefill "
      "node); {} pairs in A B / B A order, 16-token prompt, max_tokens 1, one connection per call\n",
      s.kv_cache_mib, o.num_requests);
  out += fmt::format("{:<36} {:>9} {:>9} {:>9}\n", "test", "p50 µs", "p99 µs", "max µs");
  out += latency_line("A direct: node POST /generate", l.direct);
  out += latency_line("B via router: POST /v1/completions", l.via_router);
  out += latency_line("B - A, per pair", l.added);
  out += fmt::format("ratio B / A: p50 {:.2f}, p99 {:.2f}; p99(B) - p99(A) = {:.1f} µs\n",
                     l.via_router.p50_us / std::max(l.direct.p50_us, 1e-9),
                     l.via_router.p99_us / std::max(l.direct.p99_us, 1e-9), l.p99_difference_us);
  out += fmt::format(
      "target: added latency < {:.0f} ms: median per-pair B - A {:.1f} µs {}; p99(B) - p99(A) "
      "{:.1f} µs {}\n",
      kAddedLatencyTargetUs / 1000, l.added.p50_us, verdict(l.added.p50_us < kAddedLatencyTargetUs),
      l.p99_difference_us, verdict(l.p99_difference_us < kAddedLatencyTargetUs));
  return out;
}

double ratio(int64_t during, int64_t before) { return static_cast<double>(during) / std::max<int64_t>(before, 1); }

std::string format_streams(const ServingReport& s, const RouterBenchOptions& o) {
  const StreamReport& r = s.streams;
  std::string out = "\n== 3. concurrent streams through the router ==\n";
  out += fmt::format(
      "{} SSE streams (POST /v1/completions, stream, max_tokens {}, ignore_eos) from one io_context; "
      "fd limit {}; router --max-active-requests and --max-waiting-per-node {}\n",
      r.num_streams, o.stream_max_tokens, r.fd_limit, s.router_admission_limit);
  out += fmt::format("streams ok: {} / {} in {:.1f} s; at most {} open at once, {} of them streaming data\n", r.num_ok,
                     r.num_streams, r.duration_s, r.max_in_flight, r.max_with_first_data);
  if (r.num_failed > 0) out += fmt::format("failed: {}; first error: {}\n", r.num_failed, r.first_error);
  out += fmt::format("node: runs at most {} sequences (scheduler max_num_running); seen running {}, waiting {}\n",
                     r.node_max_num_running, r.node_max_running, r.node_max_waiting);
  if (r.num_streams > r.node_max_num_running) {
    out += "  streams past that limit waited in the node's queue; the router held all their client connections\n";
  }
  out += fmt::format("{:<16} {:>12} {:>14} {:>8}\n", "router", "before", "during (max)", "ratio");
  out += fmt::format("{:<16} {:>12} {:>14} {:>8.2f}\n", "VmRSS KiB", r.before.vm_rss_kib, r.peak.vm_rss_kib,
                     ratio(r.peak.vm_rss_kib, r.before.vm_rss_kib));
  const int64_t hwm_kib = std::max(r.hwm_after_kib, r.peak.vm_hwm_kib);
  out += fmt::format("{:<16} {:>12} {:>14} {:>8.2f}\n", "VmHWM KiB", r.before.vm_hwm_kib, hwm_kib,
                     ratio(hwm_kib, r.before.vm_hwm_kib));
  out += fmt::format("{:<16} {:>12} {:>14} {:>8.2f}\n", "Threads", r.before.num_threads, r.peak.num_threads,
                     ratio(r.peak.num_threads, r.before.num_threads));
  out += fmt::format("RSS per stream: (max during - before) / {} = {:.1f} KiB\n", r.num_streams,
                     static_cast<double>(r.peak.vm_rss_kib - r.before.vm_rss_kib) / std::max(r.num_streams, 1));
  if (r.peak.num_threads > r.before.num_threads) {
    out += fmt::format("note: the router's threads grew from {} to {} under the streams\n", r.before.num_threads,
                       r.peak.num_threads);
  }
  return out;
}

// The number after `name` on the line that starts with it, or nullopt.
std::optional<int64_t> proc_field(std::string_view text, std::string_view name) {
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name)) continue;
    line.remove_prefix(name.size());
    const size_t begin = std::min(line.find_first_not_of(" \t"), line.size());
    int64_t value = 0;
    if (std::from_chars(line.data() + begin, line.data() + line.size(), value).ec != std::errc()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

nlohmann::json summary_json(const LatencySummary& s) {
  return {{"count", s.count}, {"p50_us", s.p50_us}, {"p99_us", s.p99_us}, {"max_us", s.max_us}};
}

nlohmann::json proc_json(const ProcStatus& p) {
  return {{"vm_rss_kib", p.vm_rss_kib}, {"vm_hwm_kib", p.vm_hwm_kib}, {"threads", p.num_threads}};
}

nlohmann::json decision_json(const DecisionReport& d, const RouterBenchOptions& o) {
  nlohmann::json j = {{"num_prefill", d.num_prefill},
                      {"num_decode", d.num_decode},
                      {"num_conversations", d.num_conversations},
                      {"num_decisions", o.num_decisions},
                      {"num_cached_hashes", d.num_cached_hashes},
                      {"mean_prompt_blocks", d.mean_prompt_blocks},
                      {"lookup", summary_json(d.lookup)},
                      {"target_p99_us", kDecisionTargetP99Us},
                      {"pass", decision_pass(d)},
                      {"policies", nlohmann::json::array()}};
  for (const DecisionRow& r : d.rows) {
    j["policies"].push_back({{"policy", r.policy},
                             {"route", summary_json(r.route)},
                             {"ratio_p50", r.ratio_p50},
                             {"ratio_p99", r.ratio_p99},
                             {"local_fraction", r.local_fraction}});
  }
  return j;
}

nlohmann::json serving_json(const ServingReport& s, const RouterBenchOptions& o) {
  const LatencyReport& l = s.latency;
  const StreamReport& r = s.streams;
  return {{"log_dir", s.log_dir},
          {"kv_cache_mib", s.kv_cache_mib},
          {"router_admission_limit", s.router_admission_limit},
          {"added_latency",
           {{"num_requests", o.num_requests},
            {"direct", summary_json(l.direct)},
            {"via_router", summary_json(l.via_router)},
            {"added", summary_json(l.added)},
            {"p99_difference_us", l.p99_difference_us},
            {"target_us", kAddedLatencyTargetUs},
            {"pass_p50", l.added.p50_us < kAddedLatencyTargetUs},
            {"pass_p99_difference", l.p99_difference_us < kAddedLatencyTargetUs}}},
          {"streams",
           {{"num_streams", r.num_streams},
            {"num_ok", r.num_ok},
            {"num_failed", r.num_failed},
            {"first_error", r.first_error},
            {"max_tokens", o.stream_max_tokens},
            {"duration_s", r.duration_s},
            {"max_in_flight", r.max_in_flight},
            {"max_with_first_data", r.max_with_first_data},
            {"node_max_running", r.node_max_running},
            {"node_max_waiting", r.node_max_waiting},
            {"node_max_num_running", r.node_max_num_running},
            {"router_before", proc_json(r.before)},
            {"router_during_max", proc_json(r.peak)},
            {"router_hwm_after_kib", r.hwm_after_kib},
            {"fd_limit", r.fd_limit}}}};
}

// The machine, and how busy it was at the start: other work on it widens the tails.
}  // namespace

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

LatencySummary summarize(std::vector<double> samples_us) {
  if (samples_us.empty()) return {};
  std::sort(samples_us.begin(), samples_us.end());
  return {.count = static_cast<int64_t>(samples_us.size()),
          .p50_us = percentile(samples_us, 0.50),
          .p99_us = percentile(samples_us, 0.99),
          .max_us = samples_us.back()};
}

Result<ProcStatus> parse_proc_status(std::string_view text) {
  ProcStatus p;
  int64_t threads = 0;
  for (auto [name, out] :
       {std::pair{"VmRSS:", &p.vm_rss_kib}, std::pair{"VmHWM:", &p.vm_hwm_kib}, std::pair{"Threads:", &threads}}) {
    const std::optional<int64_t> value = proc_field(text, name);
    if (!value) return invalid_argument("proc status: {} must start a line and be followed by a number", name);
    *out = *value;
  }
  p.num_threads = static_cast<int>(threads);
  return p;
}

Result<ProcStatus> read_proc_status(pid_t pid) {
  const std::string path = fmt::format("/proc/{}/status", pid);
  Result<std::string> text = read_file(path);
  if (!text.ok()) return unavailable("{}", text.status().message());
  return parse_proc_status(*text);
}

std::string format_router_bench(const DecisionReport& decision, const ServingReport& serving,
                                const RouterBenchOptions& options, const std::string& machine) {
  std::string out = fmt::format("machine: {}\n", machine);
  out += fmt::format("ppd bench router: model {}, seed {}; children's logs in {}\n", options.model, options.seed,
                     serving.log_dir);
  out += format_decision(decision, options);
  out += format_latency(serving, options);
  out += format_streams(serving, options);
  return out;
}

std::string router_bench_json(const DecisionReport& decision, const ServingReport& serving,
                              const RouterBenchOptions& options, const std::string& machine) {
  nlohmann::json j = {{"machine", machine}, {"model", options.model}, {"seed", options.seed}};
  j["decision"] = decision_json(decision, options);
  j.update(serving_json(serving, options));
  return j.dump(2) + "\n";
}

}  // namespace ppd::microbench
