// The results of benchmark runs as people and tools read them: one RunEntry per (label, rate),
// its text summary, its JSON, and gnuplot scripts of latency against rate with one line per
// label (policy). Pure: returns text; the caller writes files and runs gnuplot.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/loadgen/load_generator.h"
#include "ppd/loadgen/router_stats.h"
#include "ppd/stats/summary.h"

namespace ppd::loadgen {

struct RunEntry {
  std::string label;  // the policy under `ppd bench compare`, --label under `ppd bench serve`
  double rate = 0;    // conversations per second; 0: the trace's own timestamps
  int repeat = 0;     // which repeat of this (label, rate), from 0
  LoadResult load;
  stats::RunSummary summary;
  std::optional<stats::RouterCounters> router;  // the run's share of a ppd router's counters
};

// What names a run and judges it.
struct RunLabel {
  std::string label;  // RunEntry::label
  double rate = 0;    // RunEntry::rate
  stats::Slo slo;
};

// Summarizes `load` (see stats::summarize) into an entry.
RunEntry make_entry(std::string label, double rate, LoadResult load, const stats::Slo& slo);

// Runs `w` against `endpoint` (run_load) and summarizes it, with the run's share of a ppd
// router's counters when the endpoint has them (read before and after).
Result<RunEntry> run_and_measure(const Endpoint& endpoint, const workload::Workload& w, const PromptText& text,
                                 const LoadOptions& options, const RunLabel& label);

// A heading line, the metrics table, then skipped/warm-up counts and the router's counters.
std::string format_entry(const RunEntry& e);

// {label, rate, repeat, model, interrupted, num_skipped_turns, num_warmup_requests, summary, router,
// records (with_records only)}.
nlohmann::json to_json(const RunEntry& e, bool with_records);

struct PlotScript {
  std::string png_name;  // file name of the image the script draws, e.g. "turn2_ttft_mean.png"
  std::string script;    // gnuplot input with the data inline; draws output_dir/png_name
};

// One script per panel: turn 2+ TTFT mean and p99, turn 2+ TPOT mean and p99, turn 1 TTFT mean,
// against rate, one line per label in first-seen order. Entries with rate 0 are left out.
std::vector<PlotScript> latency_plots(const std::vector<RunEntry>& entries, const std::string& title,
                                      const std::string& output_dir);

}  // namespace ppd::loadgen
