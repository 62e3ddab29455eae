// Readers of public LLM request traces into multi-turn Workloads. Neither trace records
// conversations, so both readers rebuild them by a deliberate approximation, described at each
// function; the result passes validate_workload(). Turns carry offset_s (the trace's send time
// relative to the conversation's arrival) and no think time. Unknown JSON keys are ignored.
// Pure functions of the file's bytes and the options; no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

struct TraceOptions {
  double length_scale = 1.0;            // multiplies every token count (rounded, >= 1); (0, 16]
  double time_scale = 1.0;              // multiplies timestamps and gaps; > 0
  int max_conversations = 0;            // > 0: keep only the first N conversations (by arrival); >= 0
  int min_turns = 2, max_turns = 6;     // azure only: turns per conversation, uniform, seeded; 1 <= min <= max
  uint64_t seed = 0;                    // azure only
  int64_t mooncake_block_tokens = 512;  // tokens per hash id in the Mooncake trace; >= 1
};

// Reads a Mooncake (FAST'25) `conversation_trace.jsonl`: one JSON object per line with
// `timestamp` (ms, non-decreasing), `input_length` (>= 1), `output_length` (>= 0) and `hash_ids`
// (ids of the prompt's mooncake_block_tokens-token blocks; ceil(input_length / block) of them;
// id 0, shared by all, is a common system prefix). Conversations are recovered so:
// request B continues the conversation whose last turn so far is the earlier request A with
// which B shares the longest `hash_ids` prefix, among requests not yet continued, when that
// prefix is >= 2 ids long; otherwise B starts a conversation. (A is unique: by induction, no
// two requests not yet continued share 2 ids.)
// Approximation: a shared prefix may also be a shared document, not a history.
// Turn 1: user_tokens = input_length; a later turn: max(1, input_length - (A.input_length +
// A.output_length)); output_tokens = max(1, output_length); offset_s = (timestamp - the
// conversation's first timestamp) / 1000; arrival_s = (first timestamp - the trace's first) /
// 1000. Then length_scale, time_scale and max_conversations apply. Name "mooncake".
// Errors name the path, line, field and value: `mooncake trace /x.jsonl: line 12:
// input_length: must be an integer >= 1; got "abc"`; an empty trace -> INVALID_ARGUMENT.
Result<Workload> read_mooncake_trace(const std::string& path, const TraceOptions& o);

// Reads an Azure LLM inference trace (2023) CSV with header `TIMESTAMP,ContextTokens,
// GeneratedTokens` and rows like `2023-11-16 18:15:46.6805900,374,44` (date and time with up
// to 9 fractional digits, no time zone; rows non-decreasing in time). The trace has no
// conversation ids, so, as an approximation, rows are grouped in file order: conversation i
// takes the next k_i rows, k_i uniform in [min_turns, max_turns] from `seed` (the last takes
// what is left). arrival_s = its first row's time since the trace's first row; each row is a
// turn with user_tokens = ContextTokens (>= 1), output_tokens = max(1, GeneratedTokens), offset_s
// = row time - the conversation's first row time. Then length_scale, time_scale and
// max_conversations apply. Name "azure". Errors name the path, line, column and value.
Result<Workload> read_azure_trace(const std::string& path, const TraceOptions& o);

}  // namespace ppd::workload
