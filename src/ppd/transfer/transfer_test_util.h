// Test helpers for the transfer library: FakeBlockSource (handles -> random blocks in
// memory, releases recorded; thread-safe) and run_task(), which runs one coroutine to its
// end on an io_context from the calling thread.
#pragma once

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "ppd/common/splitmix.h"
#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

class FakeBlockSource final : public BlockSource {
 public:
  // Adds a handle of `num_blocks` random blocks of `block_bytes`; returns the handle.
  uint64_t add(int num_blocks, size_t block_bytes, uint32_t seed) {
    uint64_t x = seed;
    std::vector<std::vector<uint8_t>> blocks(static_cast<size_t>(num_blocks), std::vector<uint8_t>(block_bytes));
    for (auto& block : blocks) {
      for (size_t i = 0; i < block.size(); i += 8) {
        x += kGoldenGamma;
        const uint64_t z = splitmix64_mix(x);
        std::memcpy(block.data() + i, &z, std::min<size_t>(8, block.size() - i));
      }
    }
    std::lock_guard lock(mu_);
    const uint64_t handle = next_handle_++;
    handles_.emplace(handle, std::move(blocks));
    return handle;
  }

  // REQUIRES: handle and index exist.
  std::span<const uint8_t> block(uint64_t handle, uint32_t index) const {
    std::lock_guard lock(mu_);
    return handles_.at(handle).at(index);
  }

  std::vector<uint64_t> released() const {
    std::lock_guard lock(mu_);
    return released_;
  }

  Result<std::vector<std::span<const uint8_t>>> resolve(uint64_t handle, std::span<const uint32_t> indices) override {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return not_found("handle {}: not pinned", handle);
    std::vector<std::span<const uint8_t>> spans;
    for (uint32_t index : indices) {
      if (index >= it->second.size()) {
        return invalid_argument("index: must be < {} (blocks of handle {}); got {}", it->second.size(), handle, index);
      }
      spans.emplace_back(it->second[index]);
    }
    return spans;
  }

  void release(uint64_t handle) override {
    std::lock_guard lock(mu_);
    handles_.erase(handle);
    released_.push_back(handle);
  }

 private:
  mutable std::mutex mu_;
  uint64_t next_handle_ = 1;
  std::unordered_map<uint64_t, std::vector<std::vector<uint8_t>>> handles_;
  std::vector<uint64_t> released_;
};

// Runs `task` on `ctx` from this thread until it finishes (other work on ctx runs meanwhile
// and is left pending afterwards); rethrows its exception.
template <typename T>
T run_task(boost::asio::io_context& ctx, boost::asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(
      ctx, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await std::move(task)); },
      [&](std::exception_ptr e) {
        error = e;
        done = true;
        ctx.stop();
      });
  ctx.restart();
  ctx.run();
  if (!done) throw std::runtime_error("run_task: io_context stopped before the task finished");
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

// Destination spans over `buffers`.
inline std::vector<std::span<uint8_t>> spans_of(std::vector<std::vector<uint8_t>>& buffers) {
  return {buffers.begin(), buffers.end()};
}

}  // namespace ppd::transfer
