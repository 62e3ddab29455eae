#include "ppd/loadgen/compare_report.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace ppd::loadgen {
namespace {

// A metric of one run.
using Metric = double (*)(const RunEntry&);

double t2_ttft(const RunEntry& e) { return e.summary.turn2plus.ttft_ms.mean; }
double t2_ttft_p99(const RunEntry& e) { return e.summary.turn2plus.ttft_ms.p99; }
double t2_tpot(const RunEntry& e) { return e.summary.turn2plus.tpot_ms.mean; }
double t2_tpot_p99(const RunEntry& e) { return e.summary.turn2plus.tpot_ms.p99; }
double all_tpot(const RunEntry& e) { return e.summary.all.tpot_ms.mean; }
double t1_ttft(const RunEntry& e) { return e.summary.turn1.ttft_ms.mean; }
double attainment(const RunEntry& e) { return e.summary.all.slo_attainment; }
double goodput(const RunEntry& e) { return e.summary.all.goodput_rps; }
double success(const RunEntry& e) { return e.summary.all.success_rate; }
double local_share(const RunEntry& e) {
  if (!e.router) return 0;
  const double n = e.router->local_decisions + e.router->remote_decisions;
  return n > 0 ? e.router->local_decisions / n : 0;
}
double kv_mb(const RunEntry& e) { return e.router ? e.router->kv_transfer_bytes / 1e6 : 0.0; }
double prediction_error(const RunEntry& e) {
  const std::optional<double> m = e.router ? stats::bucketed_median(e.router->t2_ttft_prediction_errors) : std::nullopt;
  return m ? *m : std::nan("");
}

// The repeats of one (label, rate).
struct Group {
  std::string label;
  double rate = 0;
  std::vector<const RunEntry*> runs;
};

std::vector<Group> groups_of(const std::vector<RunEntry>& entries) {
  std::vector<Group> groups;
  for (const RunEntry& e : entries) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.label == e.label && g.rate == e.rate; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{.label = e.label, .rate = e.rate});
    it->runs.push_back(&e);
  }
  return groups;
}

std::vector<double> rates_of(const std::vector<Group>& groups) {
  std::vector<double> rates;
  for (const Group& g : groups) {
    if (std::find(rates.begin(), rates.end(), g.rate) == rates.end()) rates.push_back(g.rate);
  }
  std::sort(rates.begin(), rates.end());
  return rates;
}

const Group* find(const std::vector<Group>& groups, const std::string& label, double rate) {
  for (const Group& g : groups) {
    if (g.label == label && g.rate == rate) return &g;
  }
  return nullptr;
}

// Median (the mean of the middle two for an even count), min and max of a metric over the
// repeats; NaN values (a metric a run does not have) are left out.
struct Spread {
  double median = std::nan(""), min = std::nan(""), max = std::nan("");
  bool ok() const { return !std::isnan(median); }
};
Spread spread(const Group& g, Metric m) {
  std::vector<double> v;
  for (const RunEntry* e : g.runs) {
    if (const double x = m(*e); !std::isnan(x)) v.push_back(x);
  }
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, .min = v.front(), .max = v.back()};
}

// "84 [80-90]", or just "84" for a single run.
std::string cell(const Spread& s, int decimals, double scale = 1) {
  if (!s.ok()) return "-";
  const std::string med = fmt::format("{:.{}f}", s.median * scale, decimals);
  if (s.min == s.max) return med;
  return fmt::format("{} [{:.{}f}-{:.{}f}]", med, s.min * scale, decimals, s.max * scale, decimals);
}

std::string ratio(const Spread& value, const Spread& base) {
  return value.ok() && base.ok() && base.median > 0 && value.median > 0
             ? fmt::format("{:.2f}", value.median / base.median)
             : "-";
}

std::string rate_table(const std::vector<Group>& groups, double rate, const std::string& baseline) {
  const Group* base = find(groups, baseline, rate);
  std::string s = fmt::format("### {:g} conversations/s\n\n", rate);
  s += fmt::format(
      "| policy | runs | turn 2+ TTFT mean (ms) | ÷ {} | turn 2+ TPOT mean (ms) | ÷ {} | TPOT mean, all (ms) "
      "| turn 1 TTFT mean (ms) | SLO met % | goodput (req/s) | ok % | local % | KV moved (MB) | "
      "TTFT pred. error % |\n",
      baseline, baseline);
  s += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const Group& g : groups) {
    if (g.rate != rate) continue;
    s +=
        fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", g.label, g.runs.size(),
                    cell(spread(g, t2_ttft), 0), base ? ratio(spread(g, t2_ttft), spread(*base, t2_ttft)) : "-",
                    cell(spread(g, t2_tpot), 2), base ? ratio(spread(g, t2_tpot), spread(*base, t2_tpot)) : "-",
                    cell(spread(g, all_tpot), 2), cell(spread(g, t1_ttft), 0), cell(spread(g, attainment), 1, 100),
                    cell(spread(g, goodput), 2), cell(spread(g, success), 1, 100), cell(spread(g, local_share), 0, 100),
                    cell(spread(g, kv_mb), 1), cell(spread(g, prediction_error), 1, 100));
  }
  return s + "\n";
}

std::string subject_ratios(const std::vector<Group>& groups, const CompareContext& c) {
  std::string s =
      fmt::format("## {} against each policy (ratio of medians; below 1: {} is faster)\n\n", c.subject, c.subject);
  s += "| rate (conv/s) | other policy | turn 2+ TTFT | turn 2+ TPOT | TPOT, all | turn 1 TTFT |\n"
       "| --- | --- | --- | --- | --- | --- |\n";
  for (const double rate : rates_of(groups)) {
    const Group* me = find(groups, c.subject, rate);
    if (me == nullptr) continue;
    for (const Group& g : groups) {
      if (g.rate != rate || g.label == c.subject) continue;
      s += fmt::format("| {:g} | {} | {} | {} | {} | {} |\n", rate, g.label,
                       ratio(spread(*me, t2_ttft), spread(g, t2_ttft)), ratio(spread(*me, t2_tpot), spread(g, t2_tpot)),
                       ratio(spread(*me, all_tpot), spread(g, all_tpot)),
                       ratio(spread(*me, t1_ttft), spread(g, t1_ttft)));
    }
  }
  return s + "\n";
}

// Whether the SLO subject's attainment is the best median, or its range reaches the best's.
std::string attainment_verdicts(const std::vector<Group>& groups, const CompareContext& c) {
  const bool slo_ran =
      std::any_of(groups.begin(), groups.end(), [&](const Group& g) { return g.label == c.slo_subject; });
  const std::string who = slo_ran ? c.slo_subject : c.subject;
  std::string s = fmt::format("## SLO attainment: {} against the best other policy\n\n", who);
  s += "| rate (conv/s) | best other policy | its SLO met % | " + who +
       " SLO met % | verdict |\n"
       "| --- | --- | --- | --- | --- |\n";
  for (const double rate : rates_of(groups)) {
    const Group* me = find(groups, who, rate);
    if (me == nullptr) continue;
    const Group* best = nullptr;
    for (const Group& g : groups) {
      if (g.rate != rate || g.label == who || g.label.starts_with(c.subject)) continue;
      if (best == nullptr || spread(g, attainment).median > spread(*best, attainment).median) best = &g;
    }
    if (best == nullptr) continue;
    const Spread mine = spread(*me, attainment), theirs = spread(*best, attainment);
    const std::string verdict = mine.median >= theirs.median ? "best"
                                : mine.max >= theirs.min     ? "within the spread of the best"
                                                             : "behind";
    s += fmt::format("| {:g} | {} | {} | {} | {} |\n", rate, best->label, cell(theirs, 1, 100), cell(mine, 1, 100),
                     verdict);
  }
  return s + "\n";
}

// A metric where lower is better, or one where higher is.
struct Criterion {
  std::string_view name;
  Metric value;
  bool higher_is_better;
};

constexpr Criterion kCriteria[] = {
    {"turn 2+ TTFT mean", t2_ttft, false}, {"turn 2+ TTFT p99", t2_ttft_p99, false},
    {"turn 2+ TPOT mean", t2_tpot, false}, {"turn 2+ TPOT p99", t2_tpot_p99, false},
    {"TPOT mean, all", all_tpot, false},   {"turn 1 TTFT mean", t1_ttft, false},
    {"SLO attainment", attainment, true},  {"success rate", success, true},
};

std::string losses(const std::vector<Group>& groups, const CompareContext& c) {
  std::string s = fmt::format("## Where {} loses (another policy's median better by more than 5%)\n\n", c.subject);
  int count = 0;
  for (const double rate : rates_of(groups)) {
    const Group* me = find(groups, c.subject, rate);
    if (me == nullptr) continue;
    for (const Criterion& k : kCriteria) {
      const Spread mine = spread(*me, k.value);
      for (const Group& g : groups) {
        if (g.rate != rate || g.label == c.subject) continue;
        const Spread theirs = spread(g, k.value);
        if (!mine.ok() || !theirs.ok()) continue;
        const bool better = k.higher_is_better ? theirs.median > mine.median * 1.05
                                               : theirs.median > 0 && theirs.median * 1.05 < mine.median;
        if (!better) continue;
        const bool overlap = k.higher_is_better ? mine.max >= theirs.min : mine.min <= theirs.max;
        s += fmt::format("- at {:g} conv/s, {}: {} has {:.4g} against {}'s {:.4g}{}\n", rate, k.name, g.label,
                         theirs.median, c.subject, mine.median, overlap ? " (the ranges overlap)" : "");
        ++count;
      }
    }
  }
  if (count == 0) s += "Nowhere in these runs.\n";
  return s + "\n";
}

}  // namespace

std::vector<RunEntry> median_entries(const std::vector<RunEntry>& entries) {
  std::vector<RunEntry> out;
  for (const Group& g : groups_of(entries)) {
    RunEntry e{.label = g.label, .rate = g.rate};
    e.summary.turn2plus.ttft_ms.mean = spread(g, t2_ttft).median;
    e.summary.turn2plus.ttft_ms.p99 = spread(g, t2_ttft_p99).median;
    e.summary.turn2plus.tpot_ms.mean = spread(g, t2_tpot).median;
    e.summary.turn2plus.tpot_ms.p99 = spread(g, t2_tpot_p99).median;
    e.summary.turn1.ttft_ms.mean = spread(g, t1_ttft).median;
    out.push_back(std::move(e));
  }
  return out;
}

std::string compare_markdown(const std::vector<RunEntry>& entries, const CompareContext& c) {
  const std::vector<Group> groups = groups_of(entries);
  size_t repeats = 0;
  for (const Group& g : groups) repeats = std::max(repeats, g.runs.size());
  std::string s = fmt::format("# {}\n\n", c.title);
  s += fmt::format("- Machine: {}\n- Cluster: {}\n- Workload: {}\n- Command: `{}`\n", c.machine, c.cluster, c.workload,
                   c.command);
  if (!c.slo.empty()) s += fmt::format("- SLOs (attainment and goodput): {}\n", c.slo);
  s += fmt::format(
      "- Metrics: vLLM's definitions (TTFT send → first token, TPOT = (E2E − TTFT)/(tokens − 1), means over "
      "successful requests); \"local\" is the share of routing decisions that took the local path; the "
      "prediction error is the median |predicted − taken| / taken of the router's turn-2+ TTFT "
      "predictions (ppd only). Each figure is the median over {} repeat(s) of the point, with the "
      "range [min-max] beside it.\n\n",
      repeats);
  if (groups.empty()) return s;
  s += "## Latency and SLOs per rate\n\n";
  for (const double rate : rates_of(groups)) s += rate_table(groups, rate, c.baseline);
  s += subject_ratios(groups, c);
  s += attainment_verdicts(groups, c);
  s += losses(groups, c);
  if (!c.plots.empty()) {
    s += "## Plots (medians)\n\n";
    for (const std::string& p : c.plots) s += fmt::format("![{}]({})\n", p, p);
    s += "\n";
  }
  return s;
}

}  // namespace ppd::loadgen
