// EmulatedLinkTransport: a decorator that makes any KvTransport behave like a link of a given
// bandwidth and latency, so a single machine can show how transfer time shapes TTFT. All
// transfers out of one source share its bandwidth: chunk by chunk, a transfer reserves link
// time (start = max(chunk ready, link free at), end = start + bytes / bandwidth), moves the
// chunk through the inner transport once the start has passed, and goes on once the end has.
// Reservations never overlap, so n transfers of b bytes from one source take at least
// n * b / bandwidth. A pull's final wait spins its last 100 µs, since timers wake late.
// Thread-safe (per-source link state under a mutex).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

struct EmulatedLinkOptions {
  double bandwidth_bytes_per_s = 1e9;        // per source, shared by its transfers; > 0 and finite
  int64_t latency_ns = 0;                    // added once per pull and per release; >= 0
  int64_t chunk_bytes = int64_t{256} << 10;  // link time is reserved per run of whole blocks of
                                             // about this size (at least one block); >= 1
};

// Checks every field; the error names the field, the rule and the value.
Status validate_emulated_link_options(const EmulatedLinkOptions& options);

class EmulatedLinkTransport final : public KvTransport {
 public:
  // INVALID_ARGUMENT for bad options. REQUIRES: inner outlives the decorator.
  static Result<std::unique_ptr<EmulatedLinkTransport>> create(KvTransport& inner, EmulatedLinkOptions options);

  // Waits latency_ns, then moves the blocks chunk by chunk at the source's bandwidth. A chunk
  // is ready when the one before it ends on the link (the first one latency_ns after the
  // call), in link time rather than when this coroutine wakes, so late timers do not slow
  // the link down. Cancellable; returns CANCELLED or the inner transport's error.
  boost::asio::awaitable<Result<PullResult>> pull(const PullRequest& request,
                                                  std::span<const std::span<uint8_t>> dest) override;
  // Waits latency_ns, then forwards.
  boost::asio::awaitable<Status> release(const std::string& source, uint64_t handle) override;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Reservation {
    TimePoint start;
    TimePoint end;
  };

  EmulatedLinkTransport(KvTransport& inner, EmulatedLinkOptions options) : inner_(&inner), options_(options) {}

  // Reserves the link of `source` for `bytes`, from `ready` or when the link is next free.
  Reservation reserve(const std::string& source, TimePoint ready, int64_t bytes);
  boost::asio::awaitable<Result<PullResult>> pull_chunks(const PullRequest& request,
                                                         std::span<const std::span<uint8_t>> dest, TimePoint ready);

  KvTransport* inner_;
  EmulatedLinkOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, TimePoint> link_free_at_;  // guarded by mu_
};

}  // namespace ppd::transfer
