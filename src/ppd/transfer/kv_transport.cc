#include "ppd/transfer/kv_transport.h"

#include <optional>
#include <variant>

#include <xxhash.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/common/cpu_features.h"
#include "ppd/transfer/transfer_util.h"

namespace ppd::transfer {

namespace asio = boost::asio;

namespace avx2 {
uint64_t xxh3_64(const uint8_t* data, size_t size);  // checksum_avx2.cc
}  // namespace avx2

uint64_t block_checksum(std::span<const uint8_t> bytes) {
  // A property of the CPU, fixed for the process: safe to cache.
  static const bool use_avx2 = detect_cpu_features().avx2;
  return use_avx2 ? avx2::xxh3_64(bytes.data(), bytes.size()) : XXH3_64bits(bytes.data(), bytes.size());
}

Status verify_checksums(const PullRequest& request, std::span<const std::span<uint8_t>> dest,
                        std::span<const uint64_t> checksums) {
  PPD_RETURN_IF_ERROR(check_destinations(request, dest));
  if (checksums.size() != dest.size()) {
    return invalid_argument("checksums: {} for {} blocks; must be one per block", checksums.size(), dest.size());
  }
  for (size_t i = 0; i < dest.size(); ++i) {
    const uint64_t got = block_checksum(dest[i]);
    if (got != checksums[i]) {
      return data_loss("block {} (handle index {}): checksum mismatch: expected {:#018x}, got {:#018x}", i,
                       request.indices[i], checksums[i], got);
    }
  }
  return Status::Ok();
}

Status check_destinations(const PullRequest& request, std::span<const std::span<uint8_t>> dest) {
  if (dest.size() != request.indices.size()) {
    return invalid_argument("dest: {} spans for {} indices; must be one per block", dest.size(),
                            request.indices.size());
  }
  return Status::Ok();
}

int64_t total_bytes(std::span<const std::span<uint8_t>> dest) {
  int64_t n = 0;
  for (const std::span<uint8_t>& d : dest) n += static_cast<int64_t>(d.size());
  return n;
}

PullRequest sub_request(const PullRequest& request, size_t begin, size_t end) {
  PullRequest sub;
  sub.source = request.source;
  sub.handle = request.handle;
  sub.indices.assign(request.indices.begin() + static_cast<std::ptrdiff_t>(begin),
                     request.indices.begin() + static_cast<std::ptrdiff_t>(end));
  sub.bytes_received = request.bytes_received;
  return sub;
}

namespace {

// Wraps the pull so that `||` sees a plain value it can hold while the other branch runs.
asio::awaitable<std::optional<Result<PullResult>>> pull_optional(KvTransport& transport, const PullRequest& request,
                                                                 std::span<const std::span<uint8_t>> dest) {
  co_return co_await transport.pull(request, dest);
}

}  // namespace

asio::awaitable<Result<PullResult>> pull_with_deadline(KvTransport& transport, const PullRequest& request,
                                                       std::span<const std::span<uint8_t>> dest,
                                                       std::chrono::nanoseconds deadline) {
  using asio::experimental::awaitable_operators::operator||;
  std::atomic<int64_t> own_counter{0};
  PullRequest watched = request;
  if (watched.bytes_received == nullptr) watched.bytes_received = &own_counter;
  const int64_t bytes_before = watched.bytes_received->load();
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto winner = co_await (pull_optional(transport, watched, dest) || timer.async_wait(asio::use_awaitable));
  if (winner.index() == 0) co_return std::move(*std::get<0>(winner));
  const int64_t bytes = watched.bytes_received->load() - bytes_before;
  co_return Status(
      StatusCode::kDeadlineExceeded,
      fmt::format("kv pull from {} handle {}: exceeded deadline of {} ms after {} bytes", request.source,
                  request.handle, std::chrono::duration_cast<std::chrono::milliseconds>(deadline).count(), bytes));
}

}  // namespace ppd::transfer
