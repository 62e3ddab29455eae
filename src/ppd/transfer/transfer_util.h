// Internal helpers shared by the transports (not part of the public API): coroutine
// versions of the Status macros, progress accounting and the request/destination check
// every pull starts with. Stateless; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include <boost/system/error_code.hpp>

#include "ppd/common/status.h"
#include "ppd/transfer/kv_transport.h"

// Like PPD_RETURN_IF_ERROR, for coroutines (co_return).
#define PPD_CO_RETURN_IF_ERROR(expr)                     \
  do {                                                   \
    ::ppd::Status ppd_co_status_tmp_ = (expr);           \
    if (!ppd_co_status_tmp_.ok()) co_return ppd_co_status_tmp_; \
  } while (0)

// Like PPD_ASSIGN_OR_RETURN, for coroutines (co_return).
#define PPD_CO_ASSIGN_OR_RETURN(lhs, expr) \
  PPD_CO_ASSIGN_OR_RETURN_IMPL(PPD_STATUS_CONCAT(ppd_co_result_, __LINE__), lhs, expr)
#define PPD_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) co_return tmp.status();             \
  lhs = std::move(tmp).value()

namespace ppd::transfer {

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
