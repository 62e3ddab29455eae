// SharedLink: one KV link of fixed bandwidth and latency; the transfers on it at the same time
// share the bandwidth equally (processor sharing), and each is delivered its latency after
// its last byte left. Event-driven: the owner starts transfers, asks when the next one is
// delivered, and advances the link to that time. Times are integer nanoseconds; bytes in
// flight are tracked as doubles so that shares never lose bytes. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::sim {

struct LinkOptions {
  double bytes_per_s = 25e9;  // bandwidth, > 0
  int64_t latency_ns = 0;     // added to every transfer, >= 0
};

Status validate_link_options(const LinkOptions& o);

class SharedLink {
 public:
  // REQUIRES: validate_link_options(options).ok().
  explicit SharedLink(LinkOptions options);

  // Starts a transfer of `bytes` (>= 0) at now_ns (>= the last time given). Returns its id
  // (0, 1, 2, ... in start order). Mutates.
  uint64_t start(int64_t now_ns, int64_t bytes);
  // Moves the link to now_ns and returns the ids delivered at or before it, in delivery order
  // (ties by id). Mutates.
  std::vector<uint64_t> advance(int64_t now_ns);
  // When the next transfer will be delivered if none starts meanwhile; nullopt when idle.
  std::optional<int64_t> next_delivery_ns() const;
  int num_in_flight() const { return static_cast<int>(flows_.size() + delivering_.size()); }

 private:
  struct Flow {
    uint64_t id = 0;
    double remaining_bytes = 0;
  };
  struct Delivery {
    uint64_t id = 0;
    int64_t time_ns = 0;
  };
  // Drains the flows up to now_ns at the current share, finishing flows in order.
  void drain_until(int64_t now_ns);
  int64_t flow_end_ns(double remaining_bytes) const;

  LinkOptions options_;
  int64_t now_ns_ = 0;
  uint64_t next_id_ = 0;
  std::vector<Flow> flows_;
  std::vector<Delivery> delivering_;
};

}  // namespace ppd::sim
