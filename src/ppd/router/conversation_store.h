// ConversationStore: the exact token ids behind texts this router produced, so that a
// conversation's next turn is tokenized exactly as the decode node holds it (prompt ids +
// generated ids) rather than by re-tokenizing the whole history. Keyed by the XXH3-64 of
// the text (rendered prompt + answer) plus its length; bounded by a total token budget with
// least-recently-used eviction. Thread-safe: the router builds prompts on worker threads
// (find) while its event loop records answers (put).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ppd/common/ids.h"

namespace ppd::router {

class ConversationStore {
 public:
  // REQUIRES: max_tokens > 0.
  explicit ConversationStore(int64_t max_tokens) : max_tokens_(max_tokens) {}

  // Records that `text` is exactly the tokens `ids`; evicts the oldest entries past the
  // budget (an entry larger than the whole budget is not kept). Mutates.
  void put(std::string_view text, std::vector<TokenId> ids);
  // The ids recorded for `text`, or nullptr; marks the entry recently used. The ids stay valid
  // for as long as the caller holds them. Mutates (LRU order only).
  std::shared_ptr<const std::vector<TokenId>> find(std::string_view text);
  // Drops the entry for `text` (a later turn superseded it). Mutates.
  void erase(std::string_view text);

  int64_t num_tokens() const;
  size_t size() const;

 private:
  struct Key {
    uint64_t hash;
    size_t length;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.hash ^ (k.length * 0x9e3779b97f4a7c15ULL); }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const std::vector<TokenId>> ids;
  };
  static Key key_of(std::string_view text);
  void erase_key(const Key& key);  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  int64_t max_tokens_;
  int64_t num_tokens_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> entries_;
};

}  // namespace ppd::router
