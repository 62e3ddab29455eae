// The scorecard's analysis (ppd against the best fixed policy, cell by cell and per grid) and
// its report. Pure functions of the cells.
#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/experiment/sim_scorecard.h"

namespace ppd::experiment {
namespace {

constexpr double kTtftMargin = 0.10;  // ppd within 10% of the best fixed TTFT
constexpr double kTpotMargin = 0.05;  // and 5% of the best fixed TPOT
constexpr double kDominance = 0.05;   // a fixed policy better by 5% on both dominates
constexpr double kBehindPoints = 0.01;
constexpr double kAheadPoints = 0.05;
constexpr double kEps = 1e-9;

const PolicyRun* find_run(const ScoreCell& cell, std::string_view label) {
  for (const PolicyRun& r : cell.runs) {
    if (r.policy == label && r.error.empty() && r.num_requests > 0) return &r;
  }
  return nullptr;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

using GridKey = std::tuple<std::string, double, std::string>;  // profile, link, workload
GridKey grid_of(const ScoreCell& c) { return {c.profile, c.link_bytes_per_s, c.workload}; }

std::string pct(int n, int of) { return of > 0 ? fmt::format("{:.1f}%", 100.0 * n / of) : "n/a"; }

std::string cell_row(const ScoreCell& c, const CellVerdict& v) {
  const PolicyRun* ppd = find_run(c, "ppd");
  if (!v.complete || ppd == nullptr) return fmt::format("| {} | {} | {:g} | incomplete |\n", c.label, c.split, c.rate);
  std::string verdict = v.within ? "within" : "outside";
  if (!v.dominated_by.empty()) verdict += ", dominated by " + v.dominated_by;
  return fmt::format(
      "| {} | {} | {:g} | {:.1f} | {:.1f} {} | {:+.1f}% | {:.2f} | {:.2f} {} | {:+.1f}% | {:.0f}/{:.0f} | "
      "{:.0f}/{:.0f} | {:.0f}% | {:.1f}% | {} |\n",
      c.label, c.split, c.rate, ppd->t2_ttft_mean_ms, v.best_ttft_ms, v.best_ttft_policy, 100 * v.ttft_regret,
      ppd->tpot_mean_ms, v.best_tpot_ms, v.best_tpot_policy, 100 * v.tpot_regret, 100 * v.ppd_slo_attainment[0],
      100 * v.best_fixed_attainment[0], 100 * v.ppd_slo_attainment[1], 100 * v.best_fixed_attainment[1],
      100 * ppd->t2_local_share, 100 * quantile(ppd->t2_ttft_ape, 0.5), verdict);
}

// Four significant digits: the file holds tens of thousands of runs.
double r4(double x) { return std::stod(fmt::format("{:.4g}", x)); }

// One run as a row of kRunColumns; an error row is [policy, "error: ..."].
const std::vector<std::string> kRunColumns = {"policy",
                                              "requests",
                                              "failed",
                                              "t2_ttft_mean_ms",
                                              "t2_ttft_p90_ms",
                                              "tpot_mean_ms",
                                              "tpot_p90_ms",
                                              "attainment_tight",
                                              "attainment_loose",
                                              "goodput_tight_rps",
                                              "goodput_loose_rps",
                                              "t2_local_share",
                                              "t2_ttft_ape_count",
                                              "t2_ttft_ape_median",
                                              "t2_ttft_ape_p90"};

nlohmann::json run_row(const PolicyRun& r) {
  if (!r.error.empty()) return {r.policy, "error: " + r.error};
  const bool predicted = !r.t2_ttft_ape.empty();
  return {r.policy,
          r.num_requests,
          r.num_failed,
          r4(r.t2_ttft_mean_ms),
          r4(r.t2_ttft_p90_ms),
          r4(r.tpot_mean_ms),
          r4(r.tpot_p90_ms),
          r4(r.attainment[0]),
          r4(r.attainment[1]),
          r4(r.goodput_rps[0]),
          r4(r.goodput_rps[1]),
          r4(r.t2_local_share),
          r.t2_ttft_ape.size(),
          predicted ? nlohmann::json(r4(quantile(r.t2_ttft_ape, 0.5))) : nlohmann::json(),
          predicted ? nlohmann::json(r4(quantile(r.t2_ttft_ape, 0.9))) : nlohmann::json()};
}

}  // namespace

CellVerdict judge_cell(const ScoreCell& cell) {
  CellVerdict v;
  const PolicyRun* ppd = find_run(cell, "ppd");
  std::vector<const PolicyRun*> fixed;
  for (const PolicyRun& r : cell.runs) {
    if (is_fixed_policy(r.policy) && find_run(cell, r.policy) == &r) fixed.push_back(&r);
  }
  if (ppd == nullptr || fixed.empty()) return v;
  v.complete = true;
  v.best_ttft_ms = v.best_tpot_ms = 1e300;
  for (const PolicyRun* f : fixed) {
    if (f->t2_ttft_mean_ms < v.best_ttft_ms) v.best_ttft_ms = f->t2_ttft_mean_ms, v.best_ttft_policy = f->policy;
    if (f->tpot_mean_ms < v.best_tpot_ms) v.best_tpot_ms = f->tpot_mean_ms, v.best_tpot_policy = f->policy;
    for (int k = 0; k < 2; ++k) v.best_fixed_attainment[k] = std::max(v.best_fixed_attainment[k], f->attainment[k]);
    if (v.dominated_by.empty() && f->t2_ttft_mean_ms < (1 - kDominance) * ppd->t2_ttft_mean_ms &&
        f->tpot_mean_ms < (1 - kDominance) * ppd->tpot_mean_ms) {
      v.dominated_by = f->policy;
    }
  }
  v.ttft_regret = v.best_ttft_ms > 0 ? ppd->t2_ttft_mean_ms / v.best_ttft_ms - 1 : 0;
  v.tpot_regret = v.best_tpot_ms > 0 ? ppd->tpot_mean_ms / v.best_tpot_ms - 1 : 0;
  v.within = v.ttft_regret <= kTtftMargin + kEps && v.tpot_regret <= kTpotMargin + kEps;
  const std::array<const char*, 2> slo_modes = {"ppd-slo-tight", "ppd-slo-loose"};
  for (int k = 0; k < 2; ++k) {
    const PolicyRun* slo = find_run(cell, slo_modes[k]);
    v.ppd_slo_attainment[k] = (slo != nullptr ? slo : ppd)->attainment[k];
  }
  return v;
}

std::vector<GridSummary> summarize_grids(const std::vector<ScoreCell>& cells) {
  std::map<GridKey, GridSummary> grids;
  std::map<GridKey, std::vector<double>> apes;
  std::vector<GridKey> order;
  for (const ScoreCell& c : cells) {
    const GridKey key = grid_of(c);
    if (!grids.contains(key)) order.push_back(key);
    GridSummary& g = grids[key];
    g.profile = c.profile, g.link_bytes_per_s = c.link_bytes_per_s, g.workload = c.workload;
    const CellVerdict v = judge_cell(c);
    if (!v.complete) continue;
    ++g.num_cells;
    g.num_within += v.within;
    g.num_dominated += !v.dominated_by.empty();
    g.num_tight_behind += v.ppd_slo_attainment[0] < v.best_fixed_attainment[0] - kBehindPoints - kEps;
    if (v.best_fixed_attainment[0] < 1 - kEps) {
      ++g.num_tight_open;
      g.num_tight_ahead += v.ppd_slo_attainment[0] >= v.best_fixed_attainment[0] + kAheadPoints - kEps;
    }
    const std::vector<double>& a = find_run(c, "ppd")->t2_ttft_ape;
    apes[key].insert(apes[key].end(), a.begin(), a.end());
  }
  std::vector<GridSummary> out;
  for (const GridKey& key : order) {
    GridSummary g = grids[key];
    g.num_predictions = static_cast<int64_t>(apes[key].size());
    g.median_ttft_ape = quantile(apes[key], 0.5);
    g.p90_ttft_ape = quantile(apes[key], 0.9);
    out.push_back(g);
  }
  return out;
}

std::string format_grid_line(const GridSummary& g) {
  return fmt::format(
      "{} {:g} GB/s {}: ppd within 10% TTFT and 5% TPOT of the best fixed policy in {}/{} cells ({}); "
      "dominated (a fixed policy 5% better on both) in {}; tight SLO: more than 1 point behind in {}, "
      "5+ points ahead in {}/{} open cells ({}); turn-2+ TTFT prediction error median {:.1f}%, p90 "
      "{:.1f}% over {} decisions",
      g.profile, g.link_bytes_per_s / 1e9, g.workload, g.num_within, g.num_cells, pct(g.num_within, g.num_cells),
      g.num_dominated, g.num_tight_behind, g.num_tight_ahead, g.num_tight_open,
      pct(g.num_tight_ahead, g.num_tight_open), 100 * g.median_ttft_ape, 100 * g.p90_ttft_ape, g.num_predictions);
}

std::string format_scorecard_report(const std::vector<ScoreCell>& cells, const std::string& header) {
  std::string out = header + "\n## Summary\n\n";
  for (const GridSummary& g : summarize_grids(cells)) out += "- " + format_grid_line(g) + "\n";
  out +=
      "\n## How to read it\n\n"
      "- Fixed policies: every policy but ppd's modes (pd-full, pd, local, threshold, table, split-x). The best "
      "fixed TTFT and the best fixed TPOT are each the lowest any of them reached in the cell, so they may be "
      "two different policies.\n"
      "- TTFT is the turn-2+ mean; TPOT is the mean over every request. Regret: ppd / best - 1.\n"
      "- SLO pairs, per workload cell and profile, decided before any run: ttft0 is the time an idle node takes "
      "to prefill the cell's mean turn-2+ prompt (in 2,048-token chunks), tpot0 one decode step at that context. "
      "Tight: TTFT <= 2 ttft0 and TPOT <= 1.25 tpot0; loose: 5 ttft0 and 2 tpot0. Attainment: the share of all "
      "requests (both turns) meeting both. ppd's attainment is that of ppd in SLO mode given the pair "
      "(ppd-slo-tight, ppd-slo-loose); the others do not see the SLOs.\n"
      "- Open cells: no fixed policy meets the tight pair for every request.\n"
      "- Prediction error: |predicted - taken| / taken of the turn-2+ TTFT of the path ppd chose, over its "
      "decisions.\n";
  std::map<GridKey, std::vector<const ScoreCell*>> by_grid;
  std::vector<GridKey> order;
  for (const ScoreCell& c : cells) {
    if (!by_grid.contains(grid_of(c))) order.push_back(grid_of(c));
    by_grid[grid_of(c)].push_back(&c);
  }
  for (const GridKey& key : order) {
    const ScoreCell& first = *by_grid[key].front();
    out += fmt::format("\n## {} at {:g} GB/s, {}\n\n", first.profile, first.link_bytes_per_s / 1e9, first.workload);
    out +=
        "| cell | split | conv/s | ppd t2 TTFT ms | best fixed | regret | ppd TPOT ms | best fixed | regret | "
        "tight SLO % ppd/best | loose SLO % ppd/best | ppd t2 local | TTFT pred. err. | verdict |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const ScoreCell* c : by_grid[key]) out += cell_row(*c, judge_cell(*c));
  }
  return out;
}

nlohmann::json scorecard_json(const std::vector<ScoreCell>& cells) {
  nlohmann::json out = {
      {"summary", nlohmann::json::array()}, {"run_columns", kRunColumns}, {"cells", nlohmann::json::array()}};
  for (const GridSummary& g : summarize_grids(cells)) out["summary"].push_back(format_grid_line(g));
  for (const ScoreCell& c : cells) {
    nlohmann::json runs = nlohmann::json::array();
    for (const PolicyRun& r : c.runs) runs.push_back(run_row(r));
    out["cells"].push_back({{"profile", c.profile},
                            {"link_bytes_per_s", c.link_bytes_per_s},
                            {"workload", c.workload},
                            {"cell", c.label},
                            {"split", c.split},
                            {"rate", c.rate},
                            {"mean_t2_prompt_tokens", r4(c.mean_t2_prompt_tokens)},
                            {"slo_tight", {{"ttft_ms", r4(c.slo[0].ttft_ms)}, {"tpot_ms", r4(c.slo[0].tpot_ms)}}},
                            {"slo_loose", {{"ttft_ms", r4(c.slo[1].ttft_ms)}, {"tpot_ms", r4(c.slo[1].tpot_ms)}}},
                            {"runs", std::move(runs)}});
  }
  return out;
}

}  // namespace ppd::experiment
