// KvTransport: moves KV block bytes from the node that pinned them (the source, usually a
// prefill node) into memory the caller owns (the destination, usually a decode node's
// reserved blocks). A source exposes pinned handles through a BlockSource; a transport pulls
// a list of block indices of one handle. Every block travels with the checksum the source
// computed over its bytes (XXH3-64); the caller verifies them (verify_checksums), so any
// corruption between the source's memory and the caller's (wire, decorators) is caught.
// Implementations: TCP (tcp_transport.h), in-process (in_process_transport.h), and the
// decorators for an emulated link (emulated_link.h) and fault injection (fault_injection.h).
// Coroutines run on the caller's executor; a transport object may serve concurrent pulls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "ppd/common/status.h"

namespace ppd::transfer {

// The bytes a source holds for one pinned handle. Spans stay valid until release().
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // Bytes of the blocks `indices` of `handle`, in that order. NOT_FOUND for an unknown or
  // released handle, INVALID_ARGUMENT for an index past its blocks. A successful resolve starts
  // a send: the bytes stay valid (a release or expiry meanwhile waits) until end_send(handle).
  // Thread-safe: called from the transport's threads.
  virtual Result<std::vector<std::span<const uint8_t>>> resolve(uint64_t handle, std::span<const uint32_t> indices) = 0;
  // Ends the send a successful resolve() began. Default: nothing (blocks that never move).
  virtual void end_send(uint64_t /*handle*/) {}
  // Drops the pin. Unknown handles are ignored (the pin may have timed out). Thread-safe.
  virtual void release(uint64_t handle) = 0;
};

struct PullRequest {
  std::string source;  // "host:port" for TCP; a registered name in-process
  uint64_t handle = 0;
  std::vector<uint32_t> indices;  // blocks of the handle to move, in order
  // Optional progress counter: transports add payload bytes to it as they land in dest, so
  // an observer (pull_with_deadline, a progress report) sees how far a pull got even when it
  // is cancelled. Decorators pass it on to the pulls they make. Must outlive the pull.
  std::atomic<int64_t>* bytes_received = nullptr;
};

struct PullResult {
  std::vector<uint64_t> checksums;  // one per requested block, as the source computed it
  int64_t bytes = 0;                // payload bytes received
};

class KvTransport {
 public:
  virtual ~KvTransport() = default;
  // Fills dest[i] with the bytes of block indices[i]. dest[i].size() must equal the
  // source's block size (INVALID_ARGUMENT otherwise). On error the destination holds
  // partial data the caller must discard. Cancellable through the awaiting coroutine's
  // cancellation slot (a deadline is imposed by the caller).
  virtual boost::asio::awaitable<Result<PullResult>> pull(const PullRequest& request,
                                                          std::span<const std::span<uint8_t>> dest) = 0;
  // Tells the source to drop the pin of `handle`. Best effort: errors are returned, the
  // source's pin timeout covers a lost release.
  virtual boost::asio::awaitable<Status> release(const std::string& source, uint64_t handle) = 0;
};

// XXH3-64 of one block's bytes: the checksum sources send. Uses the AVX2 build of XXH3 when
// the CPU has AVX2 (same value either way). Thread-safe.
uint64_t block_checksum(std::span<const uint8_t> bytes);

// DATA_LOSS naming the first block (by position in the request and handle index) whose
// bytes do not match its checksum; INVALID_ARGUMENT when dest or checksums do not hold one
// entry per requested block.
Status verify_checksums(const PullRequest& request, std::span<const std::span<uint8_t>> dest,
                        std::span<const uint64_t> checksums);

// Runs transport.pull() with a deadline measured from the call: when it expires first the
// pull is cancelled (its socket operations abort), awaited to its end, and the result is
// DEADLINE_EXCEEDED "kv pull from <source> handle <h>: exceeded deadline of N ms after B
// bytes". Otherwise returns the pull's own result. Cancelling the awaiting coroutine cancels
// the pull as well. REQUIRES: deadline > 0.
boost::asio::awaitable<Result<PullResult>> pull_with_deadline(KvTransport& transport, const PullRequest& request,
                                                              std::span<const std::span<uint8_t>> dest,
                                                              std::chrono::nanoseconds deadline);

}  // namespace ppd::transfer
