// The simulator's sweep: a grid of points (P:D split, rate, link bandwidth, policy,
// workload), each a full simulated run, spread over worker threads; and the PPD paper's
// lookup table built from such runs (per cell, always-remote x=0 against always-local x=1).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ppd/experiment/sim_setup.h"
#include "ppd/experiment/workload_spec.h"
#include "ppd/stats/router_counters.h"
#include "ppd/stats/summary.h"

namespace ppd::experiment {

struct SweepPoint {
  int num_prefill = 1;
  int num_decode = 1;
  double rate = 0;  // conversations per second
  double link_bytes_per_s = 0;
  std::string policy;                       // as --policy, or a label when policy_flags is set
  std::optional<PolicyFlags> policy_flags;  // set: the point's whole policy (the base's is ignored)
  WorkloadFlags workload;                   // kind and shape of this point's conversations
  std::string cell;                         // table mode: "context/io" of the paper cell; else empty
  std::string profile;                      // set: the point's --profile (the base's is ignored)
};

struct SweepResult {
  SweepPoint point;
  Status status = Status::Ok();  // a point that could not run says why here
  stats::RunSummary summary;
  stats::RouterCounters router;
  double simulated_s = 0;
};

// A progress line on stderr: "<what>: 12/40 points, 3.1 s, about 7 s left", rewritten in place
// on a terminal, else printed every 10 s and at the end.
void print_sweep_progress(std::string_view what, size_t done, size_t total, std::chrono::steady_clock::time_point start,
                          bool tty);

// "1P3D" -> (1, 3); INVALID_ARGUMENT "--splits: expected NpMd such as 1P3D; got \"x\"".
Result<std::pair<int, int>> parse_split(const std::string& text);

// Sees point `index`'s whole simulation (records, predictions) on the worker thread that ran
// it, before it is summarized and dropped. Called once per point that ran, from any thread.
using SweepInspector = std::function<void(size_t index, const sim::SimResult&)>;

// Runs every point on `jobs` threads; results in the points' order whatever the threads do.
// `progress(done, total)` is called from the calling thread as points finish. Every point's
// cluster starts from `base` with the point's split, link, policy and profile; its client adds
// `template_tokens` to every user message. `inspect`, when set, sees every simulation.
std::vector<SweepResult> run_sweep(const SimClusterFlags& base, const std::vector<SweepPoint>& points,
                                   const stats::Slo& slo, int template_tokens, int jobs,
                                   const std::function<void(size_t, size_t)>& progress,
                                   const SweepInspector& inspect = {});

// The table mode's points: for each paper context (small, large), turn-2 type and request-rate
// point r, the paper workload of that cell alone at r/2 conversations/s (two turns each), under
// pd (x=0) and under local (x=1).
std::vector<SweepPoint> table_points(const WorkloadFlags& base, int num_prefill, int num_decode,
                                     double link_bytes_per_s, const std::vector<double>& rate_points);

// The `table` policy's JSON from table-mode results: one cell per (context, io, rate) with the
// turn-2 means of x=0 and x=1, or "remote_failed" when x=0 served nothing; `weights` as given.
nlohmann::json build_lookup_table(const std::vector<SweepResult>& results, const std::vector<double>& rate_points,
                                  double w_ttft, double w_tpot);

}  // namespace ppd::experiment
