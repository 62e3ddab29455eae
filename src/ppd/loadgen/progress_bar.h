// The load generator's progress display: a bar redrawn in place on a terminal, a plain line
// otherwise. Pure formatting plus one write; call from the thread that owns the stream.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace ppd::loadgen {

struct ProgressCounts {
  int64_t num_turns = 0;  // turns in the workload
  int64_t num_in_flight = 0;
  int64_t num_finished = 0;  // answered or failed
  int64_t num_failed = 0;
  int64_t num_skipped = 0;  // never to be sent
};

// "[#########...........]  45%  120/266 turns  3 in flight  2 failed  0 skipped  12.3 s";
// the share counts finished and skipped turns.
std::string format_progress(const ProgressCounts& c, double elapsed_s);

// Whether `out` is std::cerr or std::cout attached to a terminal.
bool stream_is_terminal(const std::ostream& out);

// Writes the line: after "\r" and padded on a terminal, else ending with "\n". Flushes.
void write_progress(std::ostream& out, const ProgressCounts& c, double elapsed_s, bool terminal);

}  // namespace ppd::loadgen
