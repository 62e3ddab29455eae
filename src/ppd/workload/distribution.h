// A synthetic multi-turn workload drawn from uniform length distributions: turns per
// conversation, system prompt, first and later user messages, outputs and think times.
// Conversation i depends only on the options and i (seeded per-conversation streams), so the
// same options give the same workload. Arrivals are all 0; assign_poisson_arrivals() sets them.
// Pure functions.
#pragma once

#include <cstdint>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

struct LengthRange {  // uniform integers in [min, max]
  int64_t min = 1;
  int64_t max = 1;
};

struct DistributionOptions {
  int num_conversations = 100;             // >= 1
  int min_turns = 2, max_turns = 6;        // turns per conversation, uniform; 1 <= min <= max
  LengthRange system_tokens{0, 0};         // 0: no system prompt; min >= 0
  LengthRange first_user_tokens{64, 512};  // turn 1's message; min >= 1
  LengthRange user_tokens{16, 128};        // later turns' messages; min >= 1
  LengthRange output_tokens{32, 256};      // min >= 1
  double mean_think_time_s = 0;            // exponential, before every turn after the first; 0: none
  double scale = 1.0;                      // multiplies every length (rounded, >= 1; system 0 stays 0); (0, 16]
  uint64_t seed = 0;
};

// Returns num_conversations conversations named "distribution". Every field is checked first:
// a bad one -> INVALID_ARGUMENT, e.g. "user_tokens.max: must be >= user_tokens.min (16); got 8".
Result<Workload> make_distribution_workload(const DistributionOptions& o);

}  // namespace ppd::workload
