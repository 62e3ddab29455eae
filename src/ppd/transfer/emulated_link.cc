#include "ppd/transfer/emulated_link.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/transfer/transfer_util.h"

namespace ppd::transfer {

namespace asio = boost::asio;

namespace {

// How much of a pull's final wait is spun rather than slept (at most this much CPU per pull).
constexpr std::chrono::microseconds kFinalSpin{100};

Status cancelled(const PullRequest& request, int64_t bytes) {
  return {StatusCode::kCancelled,
          fmt::format("kv pull from {} handle {}: cancelled on the emulated link after {} bytes", request.source,
                      request.handle, bytes)};
}

// Block positions where each chunk starts, and the end: {0, e1, ..., dest.size()}.
std::vector<size_t> chunk_bounds(std::span<const std::span<uint8_t>> dest, int64_t chunk_bytes) {
  std::vector<size_t> bounds = {0};
  while (bounds.back() < dest.size()) {
    bounds.push_back(batch_end(dest, bounds.back(), static_cast<size_t>(chunk_bytes)));
  }
  return bounds;
}

}  // namespace

Status validate_emulated_link_options(const EmulatedLinkOptions& options) {
  if (!(options.bandwidth_bytes_per_s > 0) || !std::isfinite(options.bandwidth_bytes_per_s)) {
    return invalid_argument("bandwidth_bytes_per_s: must be > 0 and finite; got {}", options.bandwidth_bytes_per_s);
  }
  if (options.latency_ns < 0) return invalid_argument("latency_ns: must be >= 0; got {}", options.latency_ns);
  if (options.chunk_bytes < 1) return invalid_argument("chunk_bytes: must be >= 1; got {}", options.chunk_bytes);
  return Status::Ok();
}

Result<std::unique_ptr<EmulatedLinkTransport>> EmulatedLinkTransport::create(KvTransport& inner,
                                                                             EmulatedLinkOptions options) {
  PPD_RETURN_IF_ERROR(validate_emulated_link_options(options));
  return std::unique_ptr<EmulatedLinkTransport>(new EmulatedLinkTransport(inner, options));
}

EmulatedLinkTransport::Reservation EmulatedLinkTransport::reserve(const std::string& source, TimePoint ready,
                                                                  int64_t bytes) {
  const auto duration =
      std::chrono::nanoseconds(std::llround(static_cast<double>(bytes) * 1e9 / options_.bandwidth_bytes_per_s));
  std::lock_guard lock(mu_);
  TimePoint& free_at = link_free_at_[source];
  const TimePoint start = std::max(ready, free_at);
  free_at = start + duration;
  return {start, free_at};
}

asio::awaitable<Result<PullResult>> EmulatedLinkTransport::pull(const PullRequest& request,
                                                                std::span<const std::span<uint8_t>> dest) {
  PPD_CO_RETURN_IF_ERROR(check_destinations(request, dest));
  const TimePoint ready = std::chrono::steady_clock::now() + std::chrono::nanoseconds(options_.latency_ns);
  try {
    if (options_.latency_ns > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, ready);
      auto [ec] = co_await timer.async_wait(kTuple);
      if (ec) co_return cancelled(request, 0);
    }
    if (dest.empty()) co_return co_await inner_->pull(request, dest);
    co_return co_await pull_chunks(request, dest, ready);
  } catch (const boost::system::system_error&) {
    // Cancelled between two operations.
  }
  co_return cancelled(request, 0);
}

asio::awaitable<Result<PullResult>> EmulatedLinkTransport::pull_chunks(const PullRequest& request,
                                                                       std::span<const std::span<uint8_t>> dest,
                                                                       TimePoint ready) {
  const std::vector<size_t> bounds = chunk_bounds(dest, options_.chunk_bytes);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  PullResult result;
  for (size_t c = 0; c + 1 < bounds.size(); ++c) {
    const std::span<const std::span<uint8_t>> chunk = dest.subspan(bounds[c], bounds[c + 1] - bounds[c]);
    const Reservation slot = reserve(request.source, ready, total_bytes(chunk));
    timer.expires_at(slot.start);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return cancelled(request, result.bytes);
    Result<PullResult> part = co_await inner_->pull(sub_request(request, bounds[c], bounds[c + 1]), chunk);
    if (!part.ok()) co_return part.status();
    result.checksums.insert(result.checksums.end(), part->checksums.begin(), part->checksums.end());
    result.bytes += part->bytes;
    const bool last = c + 2 == bounds.size();
    // The last wait ends the pull: a timer wakes tens of µs late, which a short pull at a
    // high bandwidth would pay in full, so it sleeps to just before the end and spins the rest.
    timer.expires_at(last ? slot.end - kFinalSpin : slot.end);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return cancelled(request, result.bytes);
    if (last) {
      while (std::chrono::steady_clock::now() < slot.end) std::this_thread::yield();
    }
    ready = slot.end;
  }
  co_return result;
}

asio::awaitable<Status> EmulatedLinkTransport::release(const std::string& source, uint64_t handle) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::nanoseconds(options_.latency_ns));
  auto [ec] = co_await timer.async_wait(kTuple);
  if (ec)
    co_return Status(StatusCode::kCancelled, fmt::format("kv release to {} handle {}: cancelled", source, handle));
  co_return co_await inner_->release(source, handle);
}

}  // namespace ppd::transfer
