#include "ppd/experiment/sim_sweep.h"

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/loadgen/prompt_text.h"
#include "ppd/workload/synthetic.h"

namespace ppd::experiment {
namespace {

SweepResult run_point(const SimClusterFlags& base, const SweepPoint& p, const stats::Slo& slo, int template_tokens,
                      const std::function<void(const sim::SimResult&)>& inspect) {
  SweepResult r{.point = p};
  SimClusterFlags flags = base;
  flags.num_prefill = p.num_prefill;
  flags.num_decode = p.num_decode;
  flags.link_bytes_per_s = p.link_bytes_per_s;
  if (p.policy_flags) {
    flags.policy = *p.policy_flags;
  } else {
    flags.policy.policy.name = p.policy;
  }
  if (!p.profile.empty()) flags.profile = p.profile;
  Result<SimSetup> setup = make_sim_setup(flags);
  const loadgen::PromptText count(nullptr, p.workload.seed);
  Result<workload::Workload> w = setup.ok() ? build_workload(p.workload, p.rate, count) : setup.status();
  if (!w.ok()) {
    r.status = w.status();
    return r;
  }
  const sim::ClientOptions client{.record_token_times = false, .template_tokens = template_tokens};
  Result<sim::SimResult> s = sim::simulate_cluster(setup->cluster, *setup->cost, *w, client);
  if (!s.ok()) {
    r.status = s.status();
    return r;
  }
  if (inspect) inspect(*s);
  r.summary = stats::summarize(s->records, s->duration_s, slo);
  r.router = s->router;
  r.simulated_s = s->simulated_s;
  return r;
}

}  // namespace

void print_sweep_progress(std::string_view what, size_t done, size_t total, std::chrono::steady_clock::time_point start,
                          bool tty) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double left = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0;
  const std::string line =
      fmt::format("{}: {}/{} points, {:.1f} s, about {:.0f} s left", what, done, total, elapsed, left);
  static double last_line_s = -1e9;
  if (tty) {
    std::cerr << "\r" << line << std::string(8, ' ') << (done == total ? "\n" : "") << std::flush;
  } else if (done == total || elapsed - last_line_s >= 10) {
    std::cerr << line << "\n" << std::flush;
    last_line_s = elapsed;
  }
}

Result<std::pair<int, int>> parse_split(const std::string& text) {
  // NPMD: one or two digits, 'P', one or two digits, 'D'.
  auto count = [&](size_t* at, char letter) -> std::optional<int> {
    const size_t begin = *at;
    while (*at < text.size() && std::isdigit(static_cast<unsigned char>(text[*at])) && *at - begin < 2) ++*at;
    if (*at == begin || *at >= text.size() || text[*at] != letter) return std::nullopt;
    return std::stoi(text.substr(begin, (*at)++ - begin));
  };
  size_t at = 0;
  const std::optional<int> p = count(&at, 'P');
  const std::optional<int> d = p ? count(&at, 'D') : std::nullopt;
  if (!d || at != text.size() || *d < 1) {
    return invalid_argument("--splits: expected NPMD with M >= 1, such as 1P3D; got \"{}\"", text);
  }
  return std::pair<int, int>(*p, *d);
}

std::vector<SweepResult> run_sweep(const SimClusterFlags& base, const std::vector<SweepPoint>& points,
                                   const stats::Slo& slo, int template_tokens, int jobs,
                                   const std::function<void(size_t, size_t)>& progress, const SweepInspector& inspect) {
  std::vector<SweepResult> results(points.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  auto worker = [&] {
    for (size_t i = next++; i < points.size(); i = next++) {
      std::function<void(const sim::SimResult&)> seen;
      if (inspect) seen = [&inspect, i](const sim::SimResult& s) { inspect(i, s); };
      results[i] = run_point(base, points[i], slo, template_tokens, seen);
      const std::lock_guard<std::mutex> lock(mu);
      ++done;
      cv.notify_one();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, jobs); ++t) threads.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lock(mu);
    size_t reported = 0;
    while (reported < points.size()) {
      cv.wait(lock, [&] { return done > reported; });
      reported = done;
      lock.unlock();
      progress(reported, points.size());
      lock.lock();
    }
  }
  for (std::thread& t : threads) t.join();
  return results;
}

std::vector<SweepPoint> table_points(const WorkloadFlags& base, int num_prefill, int num_decode,
                                     double link_bytes_per_s, const std::vector<double>& rate_points) {
  std::vector<SweepPoint> points;
  for (const workload::ContextType& context : workload::paper_contexts()) {
    for (const workload::Turn2Type& io : workload::paper_turn2_types()) {
      for (const double rate : rate_points) {
        for (const char* policy : {"pd", "local"}) {
          SweepPoint p{.num_prefill = num_prefill,
                       .num_decode = num_decode,
                       .rate = rate / 2,
                       .link_bytes_per_s = link_bytes_per_s,
                       .policy = policy,
                       .workload = base,
                       .cell = fmt::format("{}/{}", context.name, io.name)};
          p.workload.kind = "paper";
          p.workload.paper_contexts = {std::string(context.name)};
          p.workload.paper_types = {std::string(io.name)};
          points.push_back(std::move(p));
        }
      }
    }
  }
  return points;
}

nlohmann::json build_lookup_table(const std::vector<SweepResult>& results, const std::vector<double>& rate_points,
                                  double w_ttft, double w_tpot) {
  nlohmann::json cells = nlohmann::json::array();
  for (size_t i = 0; i + 1 < results.size(); i += 2) {
    const SweepResult& remote = results[i];
    const SweepResult& local = results[i + 1];
    const size_t slash = remote.point.cell.find('/');
    nlohmann::json cell = {{"context", remote.point.cell.substr(0, slash)},
                           {"io", remote.point.cell.substr(slash + 1)},
                           {"rate", remote.point.rate * 2}};
    const stats::GroupSummary& x0 = remote.summary.turn2plus;
    const stats::GroupSummary& x1 = local.summary.turn2plus;
    if (!remote.status.ok() || x0.num_ok == 0) {
      cell["remote_failed"] = true;
    } else if (!local.status.ok() || x1.num_ok == 0) {
      cell["local"] = false;
    } else if (!(x0.tpot_ms.mean > 0) || !(x0.ttft_ms.mean > 0)) {  // one-token answers: no TPOT to weigh
      cell["local"] = x1.ttft_ms.mean < x0.ttft_ms.mean;
    } else {
      cell["ttft_remote_s"] = x0.ttft_ms.mean / 1e3;
      cell["ttft_local_s"] = x1.ttft_ms.mean / 1e3;
      cell["tpot_remote_s"] = x0.tpot_ms.mean / 1e3;
      cell["tpot_local_s"] = x1.tpot_ms.mean / 1e3;
    }
    cells.push_back(std::move(cell));
  }
  return {{"rate_points", rate_points}, {"weights", {{"ttft", w_ttft}, {"tpot", w_tpot}}}, {"cells", cells}};
}

}  // namespace ppd::experiment
