// A workload as `ppd bench serve`, `ppd bench compare` and the simulator's runs describe it:
// which conversations, their shape and arrivals, and the SLOs; build_workload turns it into the
// conversations of one rate. The flags that fill it are in cli/bench_workload_flags.h. Pure apart
// from reading trace files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ppd/loadgen/prompt_text.h"
#include "ppd/stats/summary.h"
#include "ppd/workload/workload.h"

namespace ppd::experiment {

struct WorkloadFlags {
  std::string kind = "paper";      // paper, distribution, mooncake, azure, sharegpt
  std::string trace;               // file of mooncake/azure/sharegpt; "": the shared copy ($PPD_SHARED_DIR/traces)
  int num_conversations = 0;       // 0: the kind's default (paper 90, distribution 100, traces: all)
  double scale = 1.0;              // lengths multiplied
  double time_scale = 1.0;         // trace timestamps multiplied
  int64_t max_context_tokens = 0;  // > 0: turns past it are dropped (fit to the model)
  std::vector<std::string> paper_contexts;
  std::vector<std::string> paper_types;
  int min_turns = 2, max_turns = 6;
  std::string system_tokens = "0";
  std::string first_user_tokens = "64:512";
  std::string user_tokens = "16:128";
  std::string output_tokens = "32:256";
  double think_time_s = 0;
  uint64_t seed = 0;
};

struct SloFlags {
  double ttft_ms = 0, tpot_ms = 0, e2e_ms = 0;
};

stats::Slo to_slo(const SloFlags& f);

// The workload with arrivals: Poisson at `rate` (> 0) from the seed, or the trace's timestamps
// when rate is 0 and the kind is a trace. `count` counts tokens of ShareGPT texts. Errors name
// the flag: a bad range ("--user-tokens: must be MIN:MAX with 1 <= MIN <= MAX; got \"9:3\""), a
// rate <= 0 where one is needed, a missing or malformed trace.
Result<workload::Workload> build_workload(const WorkloadFlags& f, double rate, const loadgen::PromptText& count);

// A one-line description for reports, e.g. "paper set, scale 0.25, 90 conversations, 180 turns".
std::string describe_workload(const WorkloadFlags& f, const workload::Workload& w);

}  // namespace ppd::experiment
