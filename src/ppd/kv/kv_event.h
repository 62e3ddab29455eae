// KvEvent: a change of which block hashes a node's prefix cache holds. Nodes publish these
// so routers can track every node's cached prefixes exactly. Plain value type.
#pragma once

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

}  // namespace ppd::kv
