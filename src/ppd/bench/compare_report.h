// The Markdown report of `ppd bench compare`: per rate, one row per policy with turn 2+ TTFT
// and TPOT and their ratios to the baseline policy, turn 1 TTFT, success, SLO attainment, the
// local share and the KV bytes moved; ppd's ratio to every other policy; and, stated plainly,
// every place where another policy beats ppd by more than 5%. Pure.
#pragma once

#include <string>
#include <vector>

#include "ppd/bench/run_report.h"

namespace ppd::bench {

struct CompareContext {
  std::string title;            // first heading
  std::string machine;          // describe_machine()
  std::string cluster;          // e.g. "1 prefill + 1 decode node, small preset, 1 thread each, link 27 MB/s"
  std::string workload;         // describe_workload()
  std::string command;          // the command line that made the report
  std::string baseline = "pd";  // ratios are against this label
  std::string subject = "ppd";  // the policy the "where it loses" section is about
  std::vector<std::string> plots;  // image file names, relative to the report
};

// REQUIRES: entries hold one entry per (label, rate). Rates in ascending order of first sight.
std::string compare_markdown(const std::vector<RunEntry>& entries, const CompareContext& context);

}  // namespace ppd::bench
