// The Markdown report of `ppd bench compare`. Runs are repeated (RunEntry::repeat); every
// figure is the median over a (policy, rate)'s repeats, with the range [min-max] beside it.
// Per rate, one row per policy: turn 2+ TTFT and TPOT and their ratios to the baseline policy,
// TPOT over every request, turn 1 TTFT, SLO attainment and goodput, success, the local share,
// the KV bytes moved and the turn-2+ TTFT prediction error. Then ppd's ratio to every other
// policy; whether ppd's SLO attainment is the best or within the spread of the best at each
// rate; and, stated plainly, every place where another policy beats ppd by more than 5%. Pure.
#pragma once

#include <string>
#include <vector>

#include "ppd/loadgen/run_report.h"

namespace ppd::loadgen {

struct CompareContext {
  std::string title;            // first heading
  std::string machine;          // describe_machine()
  std::string cluster;          // e.g. "1 prefill + 1 decode node, small preset, 1 thread each, link 27 MB/s"
  std::string workload;         // describe_workload()
  std::string command;          // the command line that made the report
  std::string slo;              // e.g. "TTFT <= 200 ms and TPOT <= 6 ms"
  std::string baseline = "pd";  // ratios are against this label
  std::string subject = "ppd";  // the policy the "where it loses" section is about
  // The policy whose SLO attainment is judged: "ppd-slo" (ppd given the SLOs) when it ran,
  // else the subject.
  std::string slo_subject = "ppd-slo";
  std::vector<std::string> plots;  // image file names, relative to the report
};

// One entry per (label, rate) whose plotted metrics (turn 2+ TTFT mean and p99, turn 2+ TPOT
// mean and p99, turn 1 TTFT mean) are the medians over the repeats, in first-seen order.
std::vector<RunEntry> median_entries(const std::vector<RunEntry>& entries);

// REQUIRES: entries hold one entry per (label, rate, repeat).
std::string compare_markdown(const std::vector<RunEntry>& entries, const CompareContext& context);

}  // namespace ppd::loadgen
