#include "ppd/loadgen/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

namespace ppd::loadgen {

std::string format_progress(const ProgressCounts& c, double elapsed_s) {
  constexpr int kWidth = 24;
  const int64_t done = c.num_finished + c.num_skipped;
  const double share = c.num_turns > 0 ? std::clamp(static_cast<double>(done) / c.num_turns, 0.0, 1.0) : 1.0;
  const int filled = static_cast<int>(share * kWidth);
  return fmt::format("[{}{}] {:3.0f}%  {}/{} turns  {} in flight  {} failed  {} skipped  {:.1f} s",
                     std::string(filled, '#'), std::string(kWidth - filled, '.'), share * 100, c.num_finished,
                     c.num_turns, c.num_in_flight, c.num_failed, c.num_skipped, elapsed_s);
}

bool stream_is_terminal(const std::ostream& out) {
  if (&out == &std::cerr) return isatty(STDERR_FILENO) == 1;
  if (&out == &std::cout) return isatty(STDOUT_FILENO) == 1;
  return false;
}

void write_progress(std::ostream& out, const ProgressCounts& c, double elapsed_s, bool terminal) {
  const std::string line = format_progress(c, elapsed_s);
  if (terminal) {
    out << "\r" << fmt::format("{:<100}", line) << std::flush;
  } else {
    out << line << "\n" << std::flush;
  }
}

}  // namespace ppd::loadgen
