// RequestRecord: the timestamps and token counts of one benchmarked request, the single
// source every latency metric is computed from (server, bench and simulator alike).
// Times are seconds since the run's start; a record is a plain value, safe to copy between
// threads. The JSON form is strict: every field present with its type, no unknown keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/common/status.h"

namespace ppd::stats {

struct RequestRecord {
  int64_t conversation_id = 0;
  int turn = 1;                       // 1-based turn index within its conversation
  bool ok = false;                    // false: failed (error status, error event, broken stream, timeout)
  std::string error;                  // why it failed; empty when ok
  double send_s = 0;                  // seconds since the run's start
  double first_token_s = -1;          // arrival of the first content token; < 0: none
  double end_s = 0;                   // arrival of the last token, or the failure
  std::vector<double> token_times_s;  // arrival time of every streamed content chunk, in order (first = first_token_s)
  int64_t prompt_tokens = 0;          // from the response's usage
  int64_t output_tokens = 0;          // from usage (or chunks counted when the endpoint sends no usage)
  int64_t cached_tokens = 0;          // usage.prompt_tokens_details.cached_tokens; 0 when absent

  bool operator==(const RequestRecord&) const = default;
};

// Returns an object with every field under its member name; token_times_s as an array.
nlohmann::json to_json(const RequestRecord& r);

// The inverse of to_json. Strict: a missing field, a wrong type, an unknown key, turn < 1
// or a negative token count is INVALID_ARGUMENT naming the field
// ("turn: expected an integer; got \"2\"", "token_times_s[1]: expected a number; got null").
Result<RequestRecord> record_from_json(const nlohmann::json& j);

}  // namespace ppd::stats
