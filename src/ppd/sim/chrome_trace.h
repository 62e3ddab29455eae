// ChromeTrace: a SimObserver that writes the run in the Chrome trace event format (JSON,
// opened by chrome://tracing or Perfetto): one track per node with a slice per engine step
// (its decode and prefill counts in the args) and, on each decode node, a track of its KV
// pulls. Events stream to the output as they end; finish() closes the JSON array. Times are
// simulated microseconds. Not thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "ppd/sim/cluster.h"

namespace ppd::sim {

class ChromeTrace final : public SimObserver {
 public:
  // `node_names[i]` names node i's track; `out` must outlive this.
  ChromeTrace(std::ostream* out, std::vector<std::string> node_names);
  void on_step(int node, int64_t start_ns, int64_t end_ns, const StepShape& shape) override;
  void on_transfer(int node, RequestId id, int64_t start_ns, int64_t end_ns, int64_t bytes) override;
  // Writes the closing bracket. Call once, after the run.
  void finish();

 private:
  void write(const std::string& event);

  std::ostream* out_;
  bool first_ = true;
};

}  // namespace ppd::sim
