#include "ppd/workload/replay.h"

#include <algorithm>

namespace ppd::workload {

Status check_replay_options(int num_warmup_conversations, double duration_s) {
  if (num_warmup_conversations < 0) return invalid_argument("warmup: must be >= 0; got {}", num_warmup_conversations);
  if (!(duration_s >= 0)) return invalid_argument("duration_s: must be >= 0; got {}", duration_s);
  return Status::Ok();
}

int64_t turn_due_ns(const Conversation& c, size_t turn_index, int64_t previous_end_ns) {
  const Turn& t = c.turns[turn_index];
  int64_t due = seconds_to_ns(c.arrival_s);
  if (turn_index > 0) due = std::max(due, previous_end_ns + seconds_to_ns(t.think_time_s));
  if (t.offset_s >= 0) due = std::max(due, seconds_to_ns(c.arrival_s + t.offset_s));
  return due;
}

}  // namespace ppd::workload
