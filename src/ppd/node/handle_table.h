// HandleTable: a prefill node's pinned handles, as the KV transfer server sees them. Each
// handle maps to the bytes of its blocks (which the engine keeps pinned) and the time it was
// made. release() (a decode node's, or expiry's) removes the handle and calls the unpin
// function, which hands the blocks back to the engine. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "ppd/transfer/kv_transport.h"

namespace ppd::node {

class HandleTable final : public transfer::BlockSource {
 public:
  // `unpin(handle)` runs after a handle is removed; it must not call back into the table.
  explicit HandleTable(std::function<void(uint64_t)> unpin) : unpin_(std::move(unpin)) {}

  // Publishes a handle. REQUIRES: the spans stay valid until unpin(handle) runs.
  void add(uint64_t handle, std::vector<std::span<const uint8_t>> blocks, int64_t created_ns);

  Result<std::vector<std::span<const uint8_t>>> resolve(uint64_t handle, std::span<const uint32_t> indices) override;
  void release(uint64_t handle) override;

  // Releases every handle made before `cutoff_ns`; returns them.
  std::vector<uint64_t> release_older_than(int64_t cutoff_ns);
  int size() const;

 private:
  struct Entry {
    std::vector<std::span<const uint8_t>> blocks;
    int64_t created_ns = 0;
  };
  std::function<void(uint64_t)> unpin_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> handles_;
};

}  // namespace ppd::node
