// In-process KV transfer: sources register under a name in an InProcessRegistry, and
// InProcessKvTransport copies their blocks with memcpy, computing the checksums as a remote
// source would. For tests and single-process deployments (prefill and decode engines in one
// process). Both classes are thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

class InProcessRegistry {
 public:
  // Registers `source` under `name`. INVALID_ARGUMENT for an empty name, a null source or a
  // name already taken. REQUIRES: source outlives its registration.
  Status add(const std::string& name, BlockSource* source);
  // Forgets `name`; unknown names are ignored.
  void remove(const std::string& name);
  // The source registered under `name`, or nullptr.
  BlockSource* find(const std::string& name) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, BlockSource*> sources_;  // guarded by mu_
};

// Pull errors: UNAVAILABLE for a name not registered, the source's own errors (NOT_FOUND,
// INVALID_ARGUMENT), INVALID_ARGUMENT when a destination's size differs from its block's.
// Completes without suspending.
class InProcessKvTransport final : public KvTransport {
 public:
  // REQUIRES: registry outlives the transport.
  explicit InProcessKvTransport(const InProcessRegistry* registry) : registry_(registry) {}

  boost::asio::awaitable<Result<PullResult>> pull(const PullRequest& request,
                                                  std::span<const std::span<uint8_t>> dest) override;
  boost::asio::awaitable<Status> release(const std::string& source, uint64_t handle) override;

 private:
  const InProcessRegistry* registry_;
};

}  // namespace ppd::transfer
