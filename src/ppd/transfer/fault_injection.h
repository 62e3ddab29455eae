// FaultInjectingTransport: a decorator for tests that makes chosen pulls fail the ways a
// network and a dying peer do (dropped connection, delay, corrupted bytes, a connection lost
// part way), so the callers' error handling and checksum verification can be exercised.
// Faults are planned per pull number or for every pull. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

struct FaultPlan {
  static constexpr int64_t kEveryPull = -1;
  // Which pull the faults hit: its 0-based number among this decorator's pulls, or kEveryPull.
  int64_t on_pull = kEveryPull;
  // Fail at once with UNAVAILABLE "...: injected: connection dropped"; nothing is pulled.
  bool drop = false;
  // Wait this long (cancellable) before pulling; >= 0.
  int64_t delay_ns = 0;
  // >= 0: after a successful inner pull, flip one byte of the block at this request position
  // (positions past the request are ignored), so verify_checksums reports DATA_LOSS.
  int64_t corrupt_block = -1;
  // >= 0: pull block by block and fail with UNAVAILABLE "...: injected: connection lost after
  // B of T bytes" once this many block bytes have moved.
  int64_t fail_after_bytes = -1;
};

class FaultInjectingTransport final : public KvTransport {
 public:
  // REQUIRES: inner outlives the decorator.
  explicit FaultInjectingTransport(KvTransport& inner) : inner_(&inner) {}

  // Adds a plan; the first plan (in order added) that matches a pull applies to it.
  // INVALID_ARGUMENT naming the field for a bad plan.
  Status add_fault(const FaultPlan& plan);
  void clear_faults();
  // Pulls started so far (the next pull's number).
  int64_t num_pulls() const { return num_pulls_.load(); }

  boost::asio::awaitable<Result<PullResult>> pull(const PullRequest& request,
                                                  std::span<const std::span<uint8_t>> dest) override;
  // Forwarded unchanged.
  boost::asio::awaitable<Status> release(const std::string& source, uint64_t handle) override;

 private:
  std::optional<FaultPlan> plan_for(int64_t pull_number) const;

  KvTransport* inner_;
  std::atomic<int64_t> num_pulls_{0};
  mutable std::mutex mu_;
  std::vector<FaultPlan> plans_;  // guarded by mu_
};

}  // namespace ppd::transfer
