// Sequence: one request's state inside a node: its tokens (prompt, then output), how many
// have KV computed, the blocks that hold that KV, and the chained hashes of its full blocks.
// Invariant: num_computed_tokens() <= num_tokens(); the block table covers at least the
// computed tokens. Owned by the Scheduler; not thread-safe.
#pragma once

#include <span>
#include <vector>

#include "ppd/common/check.h"
#include "ppd/common/ids.h"
#include "ppd/kv/block_table.h"
#include "ppd/request/sampling_params.h"

namespace ppd::sched {

// kImporting: a remote-path request on a decode node whose prompt KV is being pulled from
// a prefill node; kPinned: a finished prefill-only request whose blocks stay pinned for export.
enum class SequenceStatus { kWaiting, kRunning, kImporting, kPinned, kFinished };

// What happens to a request's blocks when it finishes.
enum class BlocksOnFinish {
  kRelease,  // full blocks become cached prefix, the partial one is freed
  kPin,      // all stay referenced (pinned) until released: a prefill node's handle
};

enum class FinishReason {
  kNone,
  kStop,    // EOS or a stop token id
  kLength,  // max_tokens reached
  kAbort,   // aborted by the caller
  kError,   // the model produced no valid token (non-finite logits)
};

// Sampled-token value that reports a failed sample (see FinishReason::kError).
inline constexpr TokenId kInvalidToken = -1;

struct SequenceOptions {
  RequestId id;
  // With capacity for max_tokens more, it becomes the sequence's token list without a copy.
  std::vector<TokenId> prompt;
  request::SamplingParams params;
  int max_tokens = 0;                  // resolved output limit (resolve_max_tokens)
  std::vector<TokenId> eos_token_ids;  // the model's; ignored when params.ignore_eos
  uint64_t sampling_seed = 0;          // resolved seed
  BlocksOnFinish blocks_on_finish = BlocksOnFinish::kRelease;
};

class alignas(64) Sequence {
 public:
  explicit Sequence(SequenceOptions options);

  RequestId id() const { return id_; }
  const request::SamplingParams& params() const { return options_.params; }
  uint64_t sampling_seed() const { return options_.sampling_seed; }
  BlocksOnFinish blocks_on_finish() const { return options_.blocks_on_finish; }
  SequenceStatus status() const { return status_; }
  FinishReason finish_reason() const { return finish_reason_; }

  std::span<const TokenId> tokens() const { return tokens_; }
  int num_tokens() const { return static_cast<int>(tokens_.size()); }
  int num_prompt_tokens() const { return num_prompt_tokens_; }
  int num_output_tokens() const { return num_tokens() - num_prompt_tokens_; }
  std::span<const TokenId> output_tokens() const {
    return std::span<const TokenId>(tokens_).subspan(static_cast<size_t>(num_prompt_tokens_));
  }
  int num_computed_tokens() const { return num_computed_tokens_; }
  // Tokens whose KV still has to be computed before the next token can be sampled.
  int num_pending_tokens() const { return num_tokens() - num_computed_tokens_; }
  // Prompt tokens served from the prefix cache at first admission (usage reporting).
  int num_cached_prompt_tokens() const { return num_cached_prompt_tokens_; }
  // Prompt tokens the prefix cache held when the request was queued: what a waiting request
  // is expected not to recompute (a hint for load reports; admission matches again).
  int num_queued_cached_tokens() const { return num_queued_cached_tokens_; }
  void set_queued_cached_tokens(int n) { num_queued_cached_tokens_ = n; }
  int num_preemptions() const { return num_preemptions_; }

  kv::BlockTable& block_table() { return block_table_; }
  const kv::BlockTable& block_table() const { return block_table_; }
  std::vector<BlockHash>& block_hashes() { return block_hashes_; }
  const std::vector<BlockHash>& block_hashes() const { return block_hashes_; }
  int num_registered_blocks() const { return num_registered_blocks_; }

  // Whether the next sampled token may be EOS or a stop id (min_tokens already out).
  bool stop_tokens_allowed() const { return num_output_tokens() >= options_.params.min_tokens; }
  // EOS (unless ignore_eos) and the request's stop ids: the tokens that end it.
  bool is_stop_token(TokenId token) const;
  const std::vector<TokenId>& eos_token_ids() const { return options_.eos_token_ids; }

  // --- mutations, driven by the Scheduler ---
  void set_running(int num_prefix_tokens);  // admitted with a cached prefix of this length
  // Remote path: the prompt's KV is arriving; `num_local_tokens` of it were already here.
  void set_importing(int num_local_tokens);
  // The import landed: the whole prompt is computed and the sequence runs.
  void set_imported();
  void set_pinned() { status_ = SequenceStatus::kPinned; }
  void add_computed(int num_tokens) { num_computed_tokens_ += num_tokens; }
  void set_registered_blocks(int n) { num_registered_blocks_ = n; }
  // Appends a sampled token; returns the finish reason it causes (kNone to go on). Inline:
  // it runs once per generated token.
  FinishReason append_token(TokenId token) {
    PPD_CHECK(num_pending_tokens() == 0);
    const bool may_stop = num_output_tokens() >= stop_check_from_;  // stop_tokens_allowed() and a stop set
    tokens_.push_back(token);
    if (may_stop && is_stop_token(token)) return FinishReason::kStop;
    if (num_output_tokens() >= max_tokens_) return FinishReason::kLength;
    return FinishReason::kNone;
  }
  // Back to waiting with nothing computed (its blocks were released by the scheduler).
  void reset_for_recompute();
  void finish(FinishReason reason);

 private:
  // What applying a step to a decoding request reads comes first, in one cache line (the
  // class is line-aligned), and what scheduling it reads next, so that a batch of a few
  // hundred stays in L1 (the simulator's hottest path). The rest follows.
  std::vector<TokenId> tokens_;
  RequestId id_;  // options_.id
  int num_prompt_tokens_;
  int num_computed_tokens_ = 0;
  int num_registered_blocks_ = 0;
  int max_tokens_;       // options_.max_tokens
  int stop_check_from_;  // output tokens before stop tokens count; INT_MAX when none can stop it
  kv::BlockTable block_table_;
  SequenceStatus status_ = SequenceStatus::kWaiting;
  FinishReason finish_reason_ = FinishReason::kNone;
  std::vector<BlockHash> block_hashes_;
  int num_cached_prompt_tokens_ = -1;  // -1 until first admission
  int num_queued_cached_tokens_ = 0;
  int num_preemptions_ = 0;
  SequenceOptions options_;
};

}  // namespace ppd::sched
