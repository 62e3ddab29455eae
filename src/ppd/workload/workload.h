// Workload: the conversations a benchmark or simulator replays, as plain data. Each
// generator and trace reader returns a Workload that passes validate_workload(): ids 0..n-1 in
// arrival order, at least one turn per conversation, every turn at least one user token and
// one output token. Plain value types and pure functions; no I/O, clocks or threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::workload {

struct Turn {
  int64_t user_tokens = 0;    // length of the new user message in tokens, >= 1
  int64_t output_tokens = 0;  // the answer's length, sent as max_tokens with ignore_eos, >= 1
  double think_time_s = 0;    // wait after the previous turn's answer before this turn is sent, >= 0
  double offset_s = -1;       // trace replay: not sent before conversation arrival + offset_s; < 0: no such bound
  std::string user_text;  // ShareGPT: the message as written; empty: the load generator synthesizes user_tokens of text
  std::string label;      // e.g. "huge_paste" for the paper's turn-2 types; may be empty

  bool operator==(const Turn&) const = default;
};

struct Conversation {
  int64_t id = 0;             // 0..n-1 in arrival order
  double arrival_s = 0;       // seconds from the start of the run, non-decreasing with id
  int64_t system_tokens = 0;  // length of a system prompt to synthesize, 0: none
  std::string system_text;    // ShareGPT system message as written; empty: none or synthesized
  std::vector<Turn> turns;    // >= 1
  std::string label;          // e.g. "large/huge_paste"; may be empty

  bool operator==(const Conversation&) const = default;
};

struct Workload {
  std::string name;                         // "paper", "distribution", "mooncake", "azure", "sharegpt"
  std::vector<Conversation> conversations;  // ordered by arrival_s, ids 0..n-1

  bool operator==(const Workload&) const = default;
};

// Tokens of history before turn `turn_index` (system + all earlier user and output tokens)
// plus that turn's user tokens. The history counts the planned output_tokens, which is what
// the server holds when answers run to max_tokens (ignore_eos). REQUIRES: turn_index < turns.size().
int64_t prompt_tokens_at(const Conversation& c, size_t turn_index);

// All turns of all conversations.
int64_t num_turns(const Workload& w);

// OK when every field follows the rules above; otherwise INVALID_ARGUMENT naming the
// conversation id, turn index, field, rule and value, e.g.
// "conversation 3: turn 1: output_tokens: must be >= 1; got 0". An empty workload is invalid.
Status validate_workload(const Workload& w);

// Drops, from each conversation, the first turn whose prompt_tokens_at + output_tokens exceeds
// max_context_tokens and every later one; drops conversations left with no turns; renumbers
// ids 0..n-1 (order kept). max_context_tokens <= 0: no-op. Returns how many turns were dropped,
// those of dropped conversations included. Mutates *w.
int64_t fit_context(int64_t max_context_tokens, Workload* w);

// round(tokens * scale), at least 1: how every generator and reader applies a length scale.
int64_t scale_tokens(int64_t tokens, double scale);

}  // namespace ppd::workload
