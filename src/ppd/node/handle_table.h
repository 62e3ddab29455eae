// HandleTable: a prefill node's pinned handles, as the KV transfer server sees them. Each
// handle (a random id nobody can guess) maps to the bytes of its blocks (which the engine keeps
// pinned for the request that owns them) and the time it was made. release() (a decode node's,
// or expiry's) removes the handle and calls the unpin function with the owner, which hands the
// blocks back to the engine; while a send of its blocks is in flight (resolve() until
// end_send()) the unpin waits for the last send to end, so no block is reused under a transfer.
// Expiry skips handles with a send in flight. Thread-safe.
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
  // `unpin(owner)` runs after a handle is removed; it must not call back into the table.
  explicit HandleTable(std::function<void(uint64_t owner)> unpin) : unpin_(std::move(unpin)) {}

  // Publishes a handle whose blocks `owner` (a request id) holds. Returns false (and adds
  // nothing) when the handle is taken. REQUIRES: the spans stay valid until unpin(owner) runs.
  bool add(uint64_t handle, uint64_t owner, std::vector<std::span<const uint8_t>> blocks, int64_t created_ns);
  bool contains(uint64_t handle) const;
  // Blocks pinned by all handles together.
  int64_t num_blocks() const;

  Result<std::vector<std::span<const uint8_t>>> resolve(uint64_t handle, std::span<const uint32_t> indices) override;
  void end_send(uint64_t handle) override;
  void release(uint64_t handle) override;

  // Releases every handle made before `cutoff_ns`; returns them.
  std::vector<uint64_t> release_older_than(int64_t cutoff_ns);
  int size() const;

 private:
  struct Entry {
    uint64_t owner = 0;
    std::vector<std::span<const uint8_t>> blocks;
    int64_t created_ns = 0;
    int num_sending = 0;    // resolves not yet ended
    bool released = false;  // unpin when num_sending drops to 0
  };
  // Removes the entry; returns its owner (to unpin). REQUIRES: mu_ held.
  uint64_t erase_locked(std::unordered_map<uint64_t, Entry>::iterator it);
  std::function<void(uint64_t)> unpin_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> handles_;
  int64_t num_blocks_ = 0;
};

}  // namespace ppd::node
