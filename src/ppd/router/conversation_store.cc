#include "ppd/router/conversation_store.h"

#include <xxhash.h>

namespace ppd::router {

ConversationStore::Key ConversationStore::key_of(std::string_view text) {
  return {XXH3_64bits(text.data(), text.size()), text.size()};
}

void ConversationStore::put(std::string_view text, std::vector<TokenId> ids) {
  const Key key = key_of(text);
  const auto size = static_cast<int64_t>(ids.size());
  auto shared = std::make_shared<const std::vector<TokenId>>(std::move(ids));
  std::lock_guard lock(mu_);
  erase_key(key);
  if (size > max_tokens_) return;
  lru_.push_front(Entry{key, std::move(shared)});
  entries_[key] = lru_.begin();
  num_tokens_ += size;
  while (num_tokens_ > max_tokens_) erase_key(lru_.back().key);
}

std::shared_ptr<const std::vector<TokenId>> ConversationStore::find(std::string_view text) {
  const Key key = key_of(text);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->ids;
}

void ConversationStore::erase(std::string_view text) {
  const Key key = key_of(text);
  std::lock_guard lock(mu_);
  erase_key(key);
}

int64_t ConversationStore::num_tokens() const {
  std::lock_guard lock(mu_);
  return num_tokens_;
}

size_t ConversationStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void ConversationStore::erase_key(const Key& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  num_tokens_ -= static_cast<int64_t>(it->second->ids->size());
  lru_.erase(it->second);
  entries_.erase(it);
}

}  // namespace ppd::router
