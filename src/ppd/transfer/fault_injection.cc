#include "ppd/transfer/fault_injection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/transfer/transfer_util.h"

namespace ppd::transfer {

namespace asio = boost::asio;

namespace {

std::string context_of(const PullRequest& request) {
  return fmt::format("kv pull from {} handle {}", request.source, request.handle);
}

// Pulls one block at a time and fails once `limit` block bytes have moved.
asio::awaitable<Result<PullResult>> pull_until_lost(KvTransport& inner, const PullRequest& request,
                                                    std::span<const std::span<uint8_t>> dest, int64_t limit) {
  PullResult result;
  const int64_t total = total_bytes(dest);
  for (size_t i = 0; i <= dest.size(); ++i) {
    if (result.bytes >= limit) {
      co_return unavailable("{}: injected: connection lost after {} of {} bytes", context_of(request), result.bytes,
                            total);
    }
    if (i == dest.size()) break;
    Result<PullResult> part = co_await inner.pull(sub_request(request, i, i + 1), dest.subspan(i, 1));
    if (!part.ok()) co_return part.status();
    result.checksums.push_back(part->checksums.at(0));
    result.bytes += part->bytes;
  }
  co_return result;
}

void corrupt(std::span<const std::span<uint8_t>> dest, int64_t position) {
  if (position < 0 || position >= static_cast<int64_t>(dest.size())) return;
  const std::span<uint8_t> block = dest[static_cast<size_t>(position)];
  if (!block.empty()) block[block.size() / 2] ^= 0xff;
}

}  // namespace

Status FaultInjectingTransport::add_fault(const FaultPlan& plan) {
  if (plan.on_pull < FaultPlan::kEveryPull) {
    return invalid_argument("on_pull: must be >= 0 or kEveryPull (-1); got {}", plan.on_pull);
  }
  if (plan.delay_ns < 0) return invalid_argument("delay_ns: must be >= 0; got {}", plan.delay_ns);
  if (plan.corrupt_block < -1) return invalid_argument("corrupt_block: must be >= -1; got {}", plan.corrupt_block);
  if (plan.fail_after_bytes < -1) {
    return invalid_argument("fail_after_bytes: must be >= -1; got {}", plan.fail_after_bytes);
  }
  std::lock_guard lock(mu_);
  plans_.push_back(plan);
  return Status::Ok();
}

void FaultInjectingTransport::clear_faults() {
  std::lock_guard lock(mu_);
  plans_.clear();
}

std::optional<FaultPlan> FaultInjectingTransport::plan_for(int64_t pull_number) const {
  std::lock_guard lock(mu_);
  for (const FaultPlan& plan : plans_) {
    if (plan.on_pull == FaultPlan::kEveryPull || plan.on_pull == pull_number) return plan;
  }
  return std::nullopt;
}

asio::awaitable<Result<PullResult>> FaultInjectingTransport::pull(const PullRequest& request,
                                                                  std::span<const std::span<uint8_t>> dest) {
  const std::optional<FaultPlan> plan = plan_for(num_pulls_.fetch_add(1));
  if (!plan) co_return co_await inner_->pull(request, dest);
  if (plan->drop) co_return unavailable("{}: injected: connection dropped", context_of(request));
  if (plan->delay_ns > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::nanoseconds(plan->delay_ns));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return Status(StatusCode::kCancelled, context_of(request) + ": cancelled during the injected delay");
  }
  std::optional<Result<PullResult>> result;
  if (plan->fail_after_bytes >= 0) {
    result.emplace(co_await pull_until_lost(*inner_, request, dest, plan->fail_after_bytes));
  } else {
    result.emplace(co_await inner_->pull(request, dest));
  }
  if (result->ok()) corrupt(dest, plan->corrupt_block);
  co_return std::move(*result);
}

asio::awaitable<Status> FaultInjectingTransport::release(const std::string& source, uint64_t handle) {
  co_return co_await inner_->release(source, handle);
}

}  // namespace ppd::transfer
