// The policy scorecard (`ppd sim scorecard`): every routing policy, the PPD paper's static
// splits among them, on a grid of measured GPU profiles, KV links, workload cells, P:D splits
// and rates, each point a full simulated run; per cell, `ppd` against the best fixed policy
// (TTFT, TPOT, SLO attainment under a tight and a loose SLO pair) and the error of its
// predictions. Running is here; the analysis and the report are in sim_scorecard_report.cc.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ppd/experiment/sim_setup.h"
#include "ppd/experiment/workload_spec.h"

namespace ppd::experiment {

// The policies a scorecard runs, by label: every fixed policy first, then ppd in its default
// (weighted) mode and in SLO mode with each cell's tight and loose SLO pair.
inline const std::vector<std::string>& scorecard_policies() {
  static const std::vector<std::string> kPolicies = {
      "pd-full",   "pd",         "local", "threshold",     "table",        "split-0.25",
      "split-0.5", "split-0.75", "ppd",   "ppd-slo-tight", "ppd-slo-loose"};
  return kPolicies;
}
// Whether a label names a fixed policy (not one of ppd's modes).
bool is_fixed_policy(const std::string& label);

struct ScorecardOptions {
  SimClusterFlags base;  // model, node limits, report period; split, link, profile and policy are the grid's
  std::vector<std::string> profiles;
  std::vector<double> links;
  std::vector<std::string> splits = {"1P3D", "2P2D", "3P1D"};
  std::vector<double> rates = {1, 2, 4, 8, 12, 16, 20};
  std::vector<std::string> workloads = {"paper", "distribution", "mooncake"};
  WorkloadFlags workload;                // seed, paper contexts and types, distribution shape, trace; no think time
  double distribution_think_time_s = 5;  // the distribution workload's mean think time
  std::vector<std::string> policies = scorecard_policies();
  std::vector<double> table_rates;  // request-rate points of the table policy's table; empty: the paper's
  std::string table_dir;            // where the built tables are written
  int jobs = 1;
};

// A latency SLO pair in milliseconds; a request meets it when both hold.
struct SloPair {
  double ttft_ms = 0;
  double tpot_ms = 0;
};

// What one policy did in one cell.
struct PolicyRun {
  std::string policy;
  std::string error;  // empty: the run completed
  int64_t num_requests = 0, num_failed = 0;
  double t2_ttft_mean_ms = 0, t2_ttft_p90_ms = 0;  // turn 2+
  double tpot_mean_ms = 0, tpot_p90_ms = 0;        // every request
  std::array<double, 2> attainment{};              // tight, loose: share of all requests meeting the pair
  std::array<double, 2> goodput_rps{};             // requests/s meeting the pair
  double t2_local_share = 0;                       // turn 2+ requests served on the local path
  std::vector<double> t2_ttft_ape;                 // |predicted - taken| / taken of turn 2+ TTFT (ppd modes)
};

// One (profile, link, workload cell, split, rate) point and every policy's run on it.
struct ScoreCell {
  std::string profile;  // the profile's short name, e.g. "h100"
  double link_bytes_per_s = 0;
  std::string workload;  // paper, distribution, mooncake
  std::string label;     // "large/huge_paste" for a paper cell; else the workload
  std::string split;     // "1P3D"
  double rate = 0;
  double mean_t2_prompt_tokens = 0;
  std::array<SloPair, 2> slo{};  // tight, loose
  std::vector<PolicyRun> runs;   // in the options' policy order
};

// A profile's short name: "profile-h100.json" -> "h100".
std::string profile_short_name(const std::string& path);

// Runs the grid (the table policy's tables first, one per profile, link and split, written to
// table_dir). `progress(phase, done, total)` reports from the calling thread.
Result<std::vector<ScoreCell>> run_scorecard(const ScorecardOptions& options,
                                             const std::function<void(std::string_view, size_t, size_t)>& progress);

// The SLO pairs of a workload cell on a profile: with ttft0 the time an idle node takes to
// prefill the cell's mean turn-2+ prompt and tpot0 one decode step at that context, tight is
// (2·ttft0, 1.25·tpot0) and loose (5·ttft0, 2·tpot0). Policy-neutral: no run decides them.
std::array<SloPair, 2> slo_pairs(const sim::StepCostModel& cost, double mean_t2_prompt_tokens,
                                 double mean_t2_output_tokens, int chunk_tokens);

// ---- analysis and report (sim_scorecard_report.cc) ------------------------------------------

// `ppd` against the fixed policies in one cell.
struct CellVerdict {
  bool complete = false;    // ppd and at least one fixed policy ran
  double best_ttft_ms = 0;  // lowest turn 2+ TTFT mean of a fixed policy
  std::string best_ttft_policy;
  double best_tpot_ms = 0;  // lowest TPOT mean of a fixed policy
  std::string best_tpot_policy;
  double ttft_regret = 0;  // ppd / best - 1
  double tpot_regret = 0;
  bool within = false;       // ttft_regret <= 10% and tpot_regret <= 5%
  std::string dominated_by;  // a fixed policy better by 5% on both; empty: none
  std::array<double, 2> best_fixed_attainment{};
  std::array<double, 2> ppd_slo_attainment{};  // ppd in SLO mode with that pair
};
CellVerdict judge_cell(const ScoreCell& cell);

// One grid: a profile, a link and a workload kind.
struct GridSummary {
  std::string profile, workload;
  double link_bytes_per_s = 0;
  int num_cells = 0;  // complete ones
  int num_within = 0;
  int num_dominated = 0;
  int num_tight_behind = 0;  // ppd's tight attainment more than 1 point below the best fixed
  int num_tight_open = 0;    // cells where no fixed policy reaches 100% under the tight pair
  int num_tight_ahead = 0;   // of those, ppd at least 5 points above every fixed policy
  int64_t num_predictions = 0;
  double median_ttft_ape = 0;  // over every turn 2+ decision of ppd (default mode) in the grid
  double p90_ttft_ape = 0;
};
std::vector<GridSummary> summarize_grids(const std::vector<ScoreCell>& cells);
std::string format_grid_line(const GridSummary& g);

// The report: the summary lines, how the SLOs are chosen, then per grid one row per cell.
std::string format_scorecard_report(const std::vector<ScoreCell>& cells, const std::string& header);
// Every cell with every run's metrics as a row of the top-level "run_columns" (the APE lists
// as count, median and p90), numbers to four significant digits.
nlohmann::json scorecard_json(const std::vector<ScoreCell>& cells);

}  // namespace ppd::experiment
