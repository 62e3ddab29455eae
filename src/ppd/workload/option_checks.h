// Internal to ppd_workload: the option checks every generator and reader shares, so a bad
// value reads the same everywhere: "<field>: must be <rule>; got <value>". Pure functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd::workload::internal {

// Upper bound of every length scale: keeps scaled lengths far from int64 overflow.
inline constexpr double kMaxLengthScale = 16.0;

inline Status check_length_scale(std::string_view field, double scale) {
  if (!(scale > 0 && scale <= kMaxLengthScale)) {
    return invalid_argument("{}: must be in (0, {}]; got {}", field, kMaxLengthScale, scale);
  }
  return Status::Ok();
}

inline Status check_positive(std::string_view field, double value) {
  if (!(value > 0) || !std::isfinite(value)) return invalid_argument("{}: must be > 0; got {}", field, value);
  return Status::Ok();
}

inline Status check_non_negative(std::string_view field, double value) {
  if (!(value >= 0) || !std::isfinite(value)) return invalid_argument("{}: must be >= 0; got {}", field, value);
  return Status::Ok();
}

inline Status check_at_least(std::string_view field, int64_t value, int64_t min) {
  if (value < min) return invalid_argument("{}: must be >= {}; got {}", field, min, value);
  return Status::Ok();
}

// min >= 1 and max >= min, for a pair of turn-count fields.
inline Status check_turn_range(int min_turns, int max_turns) {
  PPD_RETURN_IF_ERROR(check_at_least("min_turns", min_turns, 1));
  if (max_turns < min_turns) {
    return invalid_argument("max_turns: must be >= min_turns ({}); got {}", min_turns, max_turns);
  }
  return Status::Ok();
}

}  // namespace ppd::workload::internal
