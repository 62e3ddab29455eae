#include "ppd/bench/compare_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ppd::bench {
namespace {

std::vector<double> rates_of(const std::vector<RunEntry>& entries) {
  std::vector<double> rates;
  for (const RunEntry& e : entries) {
    if (std::find(rates.begin(), rates.end(), e.rate) == rates.end()) rates.push_back(e.rate);
  }
  std::sort(rates.begin(), rates.end());
  return rates;
}

const RunEntry* find(const std::vector<RunEntry>& entries, const std::string& label, double rate) {
  for (const RunEntry& e : entries) {
    if (e.label == label && e.rate == rate) return &e;
  }
  return nullptr;
}

std::string ratio(double value, double base) {
  return base > 0 && value > 0 ? fmt::format("{:.2f}", value / base) : "-";
}

double local_share(const RunEntry& e) {
  if (!e.router) return 0;
  const double n = e.router->local_decisions + e.router->remote_decisions;
  return n > 0 ? e.router->local_decisions / n : 0;
}

std::string rate_table(const std::vector<RunEntry>& entries, double rate, const std::string& baseline) {
  const RunEntry* base = find(entries, baseline, rate);
  std::string s = fmt::format("### {:g} conversations/s\n\n", rate);
  s += fmt::format("| policy | turn 2+ TTFT mean / p50 / p99 (ms) | TTFT ÷ {} | turn 2+ TPOT mean / p99 (ms) | TPOT ÷ {} "
                   "| turn 1 TTFT mean (ms) | ok | SLO met | local | KV moved (MB) |\n",
                   baseline, baseline);
  s += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const RunEntry& e : entries) {
    if (e.rate != rate) continue;
    const metrics::GroupSummary& t2 = e.summary.turn2plus;
    const double base_ttft = base ? base->summary.turn2plus.ttft_ms.mean : 0;
    const double base_tpot = base ? base->summary.turn2plus.tpot_ms.mean : 0;
    s += fmt::format("| {} | {:.0f} / {:.0f} / {:.0f} | {} | {:.1f} / {:.1f} | {} | {:.0f} | {:.1f}% | {:.1f}% | {:.0f}% | {:.1f} |\n",
                     e.label, t2.ttft_ms.mean, t2.ttft_ms.p50, t2.ttft_ms.p99, ratio(t2.ttft_ms.mean, base_ttft),
                     t2.tpot_ms.mean, t2.tpot_ms.p99, ratio(t2.tpot_ms.mean, base_tpot), e.summary.turn1.ttft_ms.mean,
                     100 * e.summary.all.success_rate, 100 * e.summary.all.slo_attainment, 100 * local_share(e),
                     e.router ? e.router->kv_transfer_bytes / 1e6 : 0.0);
  }
  return s + "\n";
}

// A metric where lower is better, or success where higher is.
struct Criterion {
  std::string_view name;
  double (*value)(const metrics::RunSummary&);
  bool higher_is_better;
};

constexpr Criterion kCriteria[] = {
    {"turn 2+ TTFT mean", [](const metrics::RunSummary& s) { return s.turn2plus.ttft_ms.mean; }, false},
    {"turn 2+ TTFT p99", [](const metrics::RunSummary& s) { return s.turn2plus.ttft_ms.p99; }, false},
    {"turn 2+ TPOT mean", [](const metrics::RunSummary& s) { return s.turn2plus.tpot_ms.mean; }, false},
    {"turn 2+ TPOT p99", [](const metrics::RunSummary& s) { return s.turn2plus.tpot_ms.p99; }, false},
    {"turn 1 TTFT mean", [](const metrics::RunSummary& s) { return s.turn1.ttft_ms.mean; }, false},
    {"success rate", [](const metrics::RunSummary& s) { return s.all.success_rate; }, true},
};

std::string subject_ratios(const std::vector<RunEntry>& entries, const CompareContext& c) {
  std::string s = fmt::format("## {} against each policy (ratio of means; below 1: {} is faster)\n\n", c.subject, c.subject);
  s += "| rate (conv/s) | other policy | turn 2+ TTFT | turn 2+ TPOT | turn 1 TTFT |\n| --- | --- | --- | --- | --- |\n";
  for (const double rate : rates_of(entries)) {
    const RunEntry* me = find(entries, c.subject, rate);
    if (me == nullptr) continue;
    for (const RunEntry& e : entries) {
      if (e.rate != rate || e.label == c.subject) continue;
      s += fmt::format("| {:g} | {} | {} | {} | {} |\n", rate, e.label,
                       ratio(me->summary.turn2plus.ttft_ms.mean, e.summary.turn2plus.ttft_ms.mean),
                       ratio(me->summary.turn2plus.tpot_ms.mean, e.summary.turn2plus.tpot_ms.mean),
                       ratio(me->summary.turn1.ttft_ms.mean, e.summary.turn1.ttft_ms.mean));
    }
  }
  return s + "\n";
}

std::string losses(const std::vector<RunEntry>& entries, const CompareContext& c) {
  std::string s = fmt::format("## Where {} loses (another policy better by more than 5%)\n\n", c.subject);
  int count = 0;
  for (const double rate : rates_of(entries)) {
    const RunEntry* me = find(entries, c.subject, rate);
    if (me == nullptr) continue;
    for (const Criterion& k : kCriteria) {
      const double mine = k.value(me->summary);
      for (const RunEntry& e : entries) {
        if (e.rate != rate || e.label == c.subject) continue;
        const double theirs = k.value(e.summary);
        const bool better = k.higher_is_better ? theirs > mine * 1.05 : theirs > 0 && theirs * 1.05 < mine;
        if (!better) continue;
        s += fmt::format("- at {:g} conv/s, {}: {} has {:.4g} against {}'s {:.4g}\n", rate, k.name, e.label, theirs,
                         c.subject, mine);
        ++count;
      }
    }
  }
  if (count == 0) s += fmt::format("Nowhere in these runs.\n");
  return s + "\n";
}

}  // namespace

std::string compare_markdown(const std::vector<RunEntry>& entries, const CompareContext& c) {
  std::string s = fmt::format("# {}\n\n", c.title);
  s += fmt::format("- Machine: {}\n- Cluster: {}\n- Workload: {}\n- Command: `{}`\n", c.machine, c.cluster, c.workload,
                   c.command);
  s += "- Metrics: vLLM's definitions (TTFT send → first token, TPOT = (E2E − TTFT)/(tokens − 1), means over "
       "successful requests); \"local\" is the share of routing decisions that took the local path.\n\n";
  s += "## Turn 2+ latency per rate\n\n";
  for (const double rate : rates_of(entries)) s += rate_table(entries, rate, c.baseline);
  s += subject_ratios(entries, c);
  s += losses(entries, c);
  if (!c.plots.empty()) {
    s += "## Plots\n\n";
    for (const std::string& p : c.plots) s += fmt::format("![{}]({})\n", p, p);
    s += "\n";
  }
  return s;
}

}  // namespace ppd::bench
