// SimClient: the simulator's load generator, with the rules of loadgen::run_load in simulated
// time (workload/replay.h, which both use). A conversation's first turn is sent at its arrival;
// each later turn at the end of the previous answer plus its think time, and not before
// arrival + offset_s (trace replay). A
// turn's prompt is the conversation's history (system tokens, earlier messages, the answers
// as sampled) plus the new message; message tokens are a pure function of (conversation,
// position), so no two conversations share a block. Records carry the same fields as the
// benchmark's. Not thread-safe; deterministic.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/stats/request_record.h"
#include "ppd/workload/workload.h"

namespace ppd::sim {

struct ClientOptions {
  int num_warmup_conversations = 0;  // the first N conversations run but are not measured; >= 0
  double duration_s = 0;             // > 0: no turn is sent later than this; >= 0
  bool record_token_times = true;    // false: records keep no token times (no ITL), for long runs
  int template_tokens = 0;           // tokens a chat template adds to every user message (role markers,
                                     // the assistant prefix); >= 0
};

// The token ids and block hashes the nodes use.
struct TokenSpace {
  int vocab_size = 32000;       // message tokens fall in [0, vocab_size); >= 1
  uint64_t model_identity = 0;  // seed of the block hashes
  int block_size = 16;          // tokens per KV block; >= 1
};

Status validate_client_options(const ClientOptions& o);

// One turn as the router receives it.
struct TurnRequest {
  RequestId id;
  int64_t conversation = 0;
  int turn = 1;                       // 1-based
  std::span<const TokenId> prompt;    // valid until the request finishes
  std::span<const BlockHash> hashes;  // of the prompt's full blocks
  int num_history_tokens = 0;         // prompt tokens before the new message
  int max_tokens = 0;
};

class SimClient {
 public:
  // REQUIRES: `w` passes validate_workload, outlives the client; options valid; vocab_size
  // and block_size >= 1.
  SimClient(const workload::Workload* w, const ClientOptions& options, const TokenSpace& tokens);

  // When conversation c's first turn is due, or nullopt when it falls after duration_s.
  std::optional<int64_t> first_send_ns(int64_t conversation);
  // Builds the conversation's next turn, sent at now_ns. Mutates.
  TurnRequest send(int64_t conversation, int64_t now_ns);
  // Whether on_token() wants every token (to keep token times), or only each request's first.
  bool wants_every_token() const { return options_.record_token_times; }
  // A token of request `id` reached the client at now_ns; true when it is the request's first.
  // Mutates.
  bool on_token(RequestId id, int64_t now_ns);
  // The request ended (ok, or failed with `error`) having answered `answer`, which joins the
  // conversation's history. Returns when the conversation's next turn is due, or nullopt
  // when it has none (or it falls after duration_s, or this failed). Mutates.
  std::optional<int64_t> on_finish(RequestId id, int64_t now_ns, int64_t cached_tokens, std::span<const TokenId> answer,
                                   std::string error = {});

  // Every conversation has ended.
  bool done() const { return num_open_ == 0; }
  // The requests in flight.
  size_t num_in_flight() const { return num_in_flight_; }
  // The conversation of a request in flight.
  int64_t conversation_of(RequestId id) const { return in_flight_[id.value].conversation; }

  std::vector<stats::RequestRecord>& records() { return records_; }
  int64_t num_warmup_requests() const { return num_warmup_requests_; }
  int64_t num_skipped_turns() const { return num_skipped_turns_; }
  // First measured send to last measured end, seconds.
  double duration_s() const;

 private:
  struct Conversation {
    size_t next_turn = 0;
    std::vector<TokenId> tokens;  // the history: every message and answer so far
    std::vector<BlockHash> hashes;
  };
  struct InFlight {
    bool live = false;
    int64_t conversation = 0;
    stats::RequestRecord record;
  };
  // When the conversation's next turn is due (workload::turn_due_ns), or nullopt past duration_s.
  std::optional<int64_t> due_ns(int64_t conversation, int64_t previous_end_ns) const;
  void append_message(int64_t conversation, int64_t num_tokens);
  void close(int64_t conversation, size_t num_unsent);

  const workload::Workload* workload_;
  ClientOptions options_;
  TokenSpace tokens_;
  std::vector<Conversation> conversations_;
  // Indexed by request id (dense, from 0); an entry is live from send to finish.
  std::vector<InFlight> in_flight_;
  size_t num_in_flight_ = 0;
  uint64_t next_request_ = 0;
  int64_t num_open_ = 0;
  std::vector<stats::RequestRecord> records_;
  int64_t num_warmup_requests_ = 0;
  int64_t num_skipped_turns_ = 0;
  double first_send_s_ = -1, last_end_s_ = 0;
};

}  // namespace ppd::sim
