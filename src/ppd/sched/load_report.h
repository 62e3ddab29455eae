// What a node's load reports carry beyond its scheduler's counters, kept alike by the real node
// (node::Telemetry) and the simulated one (sim/cluster.cc): the window of recent steps each
// report carries and the average bandwidth of the node's KV pulls. Invariant: a window never
// holds more than kMaxReportSteps steps, the latest. Plain values; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ppd::sched {

// Steps one load report carries at most: the latest ones since the previous report.
inline constexpr size_t kMaxReportSteps = 256;

// Appends `step` to `window` (a vector or deque), dropping the oldest past kMaxReportSteps. Mutates.
template <typename Window, typename Step>
void push_report_step(Window* window, Step&& step) {
  window->push_back(static_cast<Step&&>(step));
  if (window->size() > kMaxReportSteps) window->erase(window->begin());
}

// The bandwidth of a node's KV pulls, exponentially weighted: the first pull's rate, then
// 0.8 × the average + 0.2 × each new pull's rate.
class TransferRateAverage {
 public:
  // A pull of `bytes` took `duration_ns`; ignored unless both are > 0. Mutates.
  void record(int64_t bytes, int64_t duration_ns) {
    if (bytes <= 0 || duration_ns <= 0) return;
    const double rate = static_cast<double>(bytes) * 1e9 / static_cast<double>(duration_ns);
    bytes_per_s_ = bytes_per_s_ == 0 ? rate : 0.8 * bytes_per_s_ + 0.2 * rate;
  }
  // 0 before the first pull.
  double bytes_per_s() const { return bytes_per_s_; }

 private:
  double bytes_per_s_ = 0;
};

}  // namespace ppd::sched
