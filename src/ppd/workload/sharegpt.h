// Reader of ShareGPT-style JSON into a Workload whose turns carry the messages as written
// (user_text, system_text) and token counts from a caller-supplied counter (the served
// model's tokenizer). Answers are replayed by length only: output_tokens is the recorded
// reply's length. Arrivals are all 0; offsets unbounded; no think time. Pure function of the
// file and the counter; the counter is called from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

// The number of tokens `text` encodes to.
using TokenCounter = std::function<int64_t(std::string_view text)>;

struct ShareGptOptions {
  int max_conversations = 0;      // > 0: keep the first N usable entries; >= 0
  int64_t max_output_tokens = 0;  // > 0: cap on output_tokens; >= 0
};

// Reads a JSON array of entries, each {"conversations": [{"from": ROLE, "value": TEXT}, ...]}
// (other keys ignored). ROLE: "human" or "user"; "gpt", "assistant", "chatgpt", "bing" or "bard"
// (the reply); "system". A leading system message gives system_text and system_tokens. Then a
// turn is a non-empty user message directly followed by a reply: user_text = the message,
// user_tokens = max(1, count(message)), output_tokens = max(1, count(reply)), capped by
// max_output_tokens. The first message that breaks that pattern (a trailing unanswered
// message, two user messages in a row, an empty one) ends the entry's turns; entries with no
// complete turn are skipped. Name "sharegpt". Bad structure -> INVALID_ARGUMENT naming the
// path, the entry index and the field, e.g. `sharegpt /x.json: [3].conversations[1].from:
// unknown "bot"; supported: ...`; no usable entry -> INVALID_ARGUMENT.
Result<Workload> read_sharegpt(const std::string& path, const ShareGptOptions& o, const TokenCounter& count_tokens);

}  // namespace ppd::workload
