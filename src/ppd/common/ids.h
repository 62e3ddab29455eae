// Distinct id types, so that a block id can never be passed where a request id is expected.
// Plain value types; hashable; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace ppd {

template <typename Tag, typename Rep>
struct StrongId {
  Rep value{};

  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  friend constexpr auto operator<=>(StrongId, StrongId) = default;
};

using RequestId = StrongId<struct RequestIdTag, uint64_t>;
using BlockId = StrongId<struct BlockIdTag, int32_t>;
using BlockHash = StrongId<struct BlockHashTag, uint64_t>;
using NodeId = StrongId<struct NodeIdTag, uint32_t>;

// Token ids are data (model vocabulary indices), not handles: a plain integer.
using TokenId = int32_t;

}  // namespace ppd

template <typename Tag, typename Rep>
struct std::hash<ppd::StrongId<Tag, Rep>> {
  size_t operator()(ppd::StrongId<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value); }
};
