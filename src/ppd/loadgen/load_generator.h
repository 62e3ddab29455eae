// The multi-turn load generator: replays a workload's conversations open-loop against an
// OpenAI-compatible endpoint. Conversations start at their arrival times; each one's turns run
// in order, each prompt being the history (with the model's earlier answers as it streamed
// them) plus a new user message, after the turn's think time; every request streams (SSE) and
// is timed on arrival of each chunk. A turn that fails ends its conversation (its later turns
// are counted as skipped). Runs on its own io_context on the calling thread and returns when
// every conversation is done, or at once on SIGINT/SIGTERM with what finished by then.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/loadgen/chat_protocol.h"
#include "ppd/loadgen/prompt_text.h"
#include "ppd/stats/request_record.h"
#include "ppd/workload/workload.h"

namespace ppd::loadgen {

struct LoadOptions {
  std::string model;                     // the request's "model"; "": the first id of GET /models
  std::string api_key;                   // sent as "Authorization: Bearer ..." when not empty
  int max_concurrency = 0;               // requests in flight at most; 0: no limit
  int num_warmup_conversations = 0;      // the first N conversations run but are not measured
  double duration_s = 0;                 // > 0: no turn is sent later than this after the start
  int64_t request_timeout_ms = 300'000;  // per request, the whole stream; a timeout is a failure
  double temperature = 0;
  bool ignore_eos = true;     // ask for exactly the turn's output tokens (vLLM's ignore_eos)
  uint64_t seed = 0;          // the request's "seed"
  bool show_progress = true;  // a progress bar (or, off a terminal, a line every 10 s)
};

struct LoadResult {
  std::string model;                          // the model the requests named
  std::vector<stats::RequestRecord> records;  // measured requests, in completion order
  int64_t num_warmup_requests = 0;            // finished but not measured
  int64_t num_skipped_turns = 0;              // never sent: an earlier turn failed, or the run stopped
  double duration_s = 0;                      // first measured send to last measured end
  bool interrupted = false;                   // stopped by SIGINT or SIGTERM
};

// Asks GET <base>/models: returns options.model, or when that is empty the first model id the
// endpoint names; UNAVAILABLE naming the URL when it does not answer 200.
Result<std::string> probe_endpoint(const Endpoint& endpoint, const LoadOptions& options);

// Runs `w` against `endpoint`. Turn texts come from each turn's user_text, else from `text`
// keyed by (conversation id, turn). Returns UNAVAILABLE naming the URL when the endpoint does
// not answer GET <base>/models, INVALID_ARGUMENT for bad options or an invalid workload;
// request failures are records, not errors. `progress` gets the progress bar (stderr).
Result<LoadResult> run_load(const Endpoint& endpoint, const workload::Workload& w, const PromptText& text,
                            const LoadOptions& options, std::ostream& progress);

}  // namespace ppd::loadgen
