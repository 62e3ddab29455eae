// Internal helpers shared by the transports (not part of the public API): progress
// accounting and the request/destination check every pull starts with. Stateless;
// thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "ppd/common/status.h"
#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

// Completion token of awaited operations that return their error code instead of throwing.
inline constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
// Block data per gather write (server) or scatter read (client).
inline constexpr size_t kBatchBytes = size_t{1} << 20;

// Completion condition for asio::async_read / async_write of whole buffers that lets one
// system call move up to 16 MiB: asio's default (transfer_all) stops each call at 64 KiB,
// which costs bulk transfers a system call and a reactor pass per 64 KiB.
struct TransferAllLarge {
  using result_type = size_t;
  size_t operator()(const boost::system::error_code& ec, size_t) const { return ec ? 0 : size_t{16} << 20; }
};

// Adds `bytes` to the request's progress counter, if it has one.
inline void add_progress(const PullRequest& request, int64_t bytes) {
  if (request.bytes_received != nullptr) request.bytes_received->fetch_add(bytes, std::memory_order_relaxed);
}

// INVALID_ARGUMENT unless there is exactly one destination span per requested block.
Status check_destinations(const PullRequest& request, std::span<const std::span<uint8_t>> dest);

// Total bytes of the destination spans.
int64_t total_bytes(std::span<const std::span<uint8_t>> dest);

// The end of the batch of blocks that starts at `begin`: as many blocks as fit in
// max_bytes, and at least one.
template <typename Block>
size_t batch_end(std::span<const Block> blocks, size_t begin, size_t max_bytes) {
  size_t end = begin;
  for (size_t bytes = 0; end < blocks.size() && (end == begin || bytes + blocks[end].size() <= max_bytes); ++end) {
    bytes += blocks[end].size();
  }
  return end;
}

// The request for blocks [begin, end) of `request` (same source, handle and progress counter).
PullRequest sub_request(const PullRequest& request, size_t begin, size_t end);

}  // namespace ppd::transfer
