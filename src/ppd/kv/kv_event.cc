#include "ppd/kv/kv_event.h"

namespace ppd::kv {

std::vector<KvEventMessage> to_wire_messages(std::span<const KvEvent> events) {
  std::vector<KvEventMessage> messages;
  for (const KvEvent& e : events) {
    const bool stored = e.kind == KvEventKind::kStored;
    if (messages.empty() || (stored && !messages.back().removed.empty())) messages.emplace_back();
    (stored ? messages.back().stored : messages.back().removed).push_back(e.hash);
  }
  return messages;
}

}  // namespace ppd::kv
