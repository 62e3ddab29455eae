// KvEvent: a change of which block hashes a node's prefix cache holds. Nodes publish these
// so routers can track every node's cached prefixes exactly. Plain value type.
#pragma once

#include <span>
#include <vector>

#include "ppd/common/ids.h"

namespace ppd::kv {

enum class KvEventKind {
  kStored,   // a full block with this hash became matchable
  kRemoved,  // the block holding this hash was evicted
};

struct KvEvent {
  KvEventKind kind = KvEventKind::kStored;
  BlockHash hash;
  friend bool operator==(const KvEvent&, const KvEvent&) = default;
};

// One KV-event message as nodes send it: hashes stored, then hashes removed, applied in that
// order (node/telemetry.cc writes it, router/cluster_monitor.cc reads it).
struct KvEventMessage {
  std::vector<BlockHash> stored;
  std::vector<BlockHash> removed;
};

// Events in the order they happened, as messages whose stored-then-removed application gives
// the same cache as applying the events one by one: a new message starts where a stored event
// follows a removed one (a block evicted and its hash stored again stays cached). Empty for no
// events. Pure.
std::vector<KvEventMessage> to_wire_messages(std::span<const KvEvent> events);

}  // namespace ppd::kv
