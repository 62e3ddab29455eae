// How a client replays a workload, shared by the load generator (loadgen::run_load) and the
// simulator's client (sim::SimClient) so that both send every turn at the same time: when a
// turn is due, when the run's duration cuts it off, and the options both take, checked alike.
// Times are from the run's start. Pure functions; no clocks.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

// Seconds as integer nanoseconds, rounded to nearest.
inline int64_t seconds_to_ns(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1e9)); }

// INVALID_ARGUMENT naming the field, the rule and the value unless num_warmup_conversations >= 0
// ("warmup") and duration_s >= 0 ("duration_s"; NaN is refused).
Status check_replay_options(int num_warmup_conversations, double duration_s);

// When turn `turn_index` of `c` is due: at the conversation's arrival; for a later turn, not
// before the previous turn's end plus this turn's think time; in trace replay (offset_s >= 0),
// not before arrival + offset_s. REQUIRES: `c` passes validate_workload; turn_index <
// c.turns.size(). Pure.
int64_t turn_due_ns(const Conversation& c, size_t turn_index, int64_t previous_end_ns);

// A turn sent at `send_s` falls after the run: duration_s > 0 and send_s is past it. Pure.
inline bool past_duration(double duration_s, double send_s) { return duration_s > 0 && send_s > duration_s; }

}  // namespace ppd::workload
