// Scheduler: decides, step by step, which tokens of which requests the engine computes.
// Single-threaded and deterministic: the same calls in the same order give the same
// batches. Per step, under a token budget: every decoding request's next token first,
// then prefill chunks of admitted requests (chunked prefill, capped per step), then new
// requests in arrival order, each matched against the prefix cache. Admission is bounded
// by free blocks; when a running request needs a block and none is left, the most
// recently admitted request is preempted (its blocks released, recomputed later).
// It touches no clocks, threads or sockets, so the simulator runs it unchanged.
#pragma once

#include <deque>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/kv/kv_cache_manager.h"
#include "ppd/sched/sequence.h"

namespace ppd::sched {

struct SchedulerOptions {
  int max_num_batched_tokens = 2048;  // tokens per step, decode + prefill; >= 1
  int max_prefill_tokens = 2048;      // prefill tokens per step; >= 1
  int max_num_running = 256;          // requests holding blocks at once; >= 1
  uint64_t model_identity = 0;        // seed of the block hashes
};

// Validates the options; messages name the field.
Status validate_scheduler_options(const SchedulerOptions& options);

// A run of consecutive tokens of one request computed in one step.
struct ScheduledChunk {
  Sequence* sequence = nullptr;
  int first_position = 0;  // position of its first token
  int num_tokens = 0;
  // True when the chunk ends at the request's last token: its logits give the next token.
  bool samples() const { return first_position + num_tokens == sequence->num_tokens(); }
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // decode chunks first, then prefill chunks
  int num_decode_tokens = 0;
  int num_prefill_tokens = 0;
  std::vector<RequestId> preempted;
  bool empty() const { return chunks.empty(); }
  int num_tokens() const { return num_decode_tokens + num_prefill_tokens; }
  // Empties it, keeping the vectors' capacity.
  void clear();
};

// How a remote-path request on a decode node gets its prompt's KV.
enum class ImportMode {
  kDelta,  // blocks already cached here are used; only the rest is pulled
  kFull,   // every block is pulled (the classic-PD baseline)
};

// What one step did to one request.
struct SequenceUpdate {
  RequestId id;
  TokenId token = kInvalidToken;  // the sampled token; kInvalidToken with kError
  FinishReason finish_reason = FinishReason::kNone;
  int num_output_tokens = 0;  // the request's output tokens on this node, this one included
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, kv::KvCacheManager* kv_cache);

  // Queues a request. REQUIRES: validated; its id unused; it fits the cache
  // (fits_cache()). Mutates.
  void add(std::unique_ptr<Sequence> sequence);
  // Whether a request of this many tokens could ever hold all its blocks at once.
  bool fits_cache(int max_total_tokens) const;

  // Removes a waiting, running, importing or pinned request and releases its blocks; returns
  // it (finished with kAbort), or null when the id is unknown.
  std::unique_ptr<Sequence> abort(RequestId id);

  // Remote path, decode node: holds blocks for a request whose prompt KV is pulled from
  // another node: its locally cached full prompt blocks (kDelta only) and fresh blocks for
  // the rest of the prompt. Returns how many leading blocks were already here.
  // RESOURCE_EXHAUSTED when too few blocks are allocatable (nothing is preempted).
  // REQUIRES: validated; its id unused. Mutates.
  Result<int> add_importing(std::unique_ptr<Sequence> sequence, ImportMode mode);
  // The prompt's KV is in place: registers its full blocks, appends `first_token` (sampled
  // by the prefill node) and runs the request. Returns the finish reason that token causes
  // (kNone: it goes on decoding). REQUIRES: `id` is importing. Mutates.
  FinishReason finish_import(RequestId id, TokenId first_token);

  // Prefill node: drops the pin of a finished request created with BlocksOnFinish::kPin;
  // its full blocks stay cached. Returns false when `id` is not pinned. Mutates.
  bool unpin(RequestId id);
  // Ids of the pinned requests, in no particular order.
  std::vector<RequestId> pinned_ids() const;

  // Picks this step's batch and allocates its blocks. Mutates. An empty batch with nothing
  // preempted changed nothing: schedule() returns it again until add, abort, add_importing,
  // finish_import or unpin changes the queue or frees blocks, so a caller idles until
  // one of those (it must call schedule() again after each: e.g. a prefill node whose pinned
  // blocks fill the pool resumes only once unpin() frees them).
  SchedulerOutput schedule();
  // The same into `out` (cleared first), whose capacity a caller stepping in a loop reuses.
  void schedule(SchedulerOutput* out);

  // Applies a step's results: `sampled` holds one token per sampling chunk of `output`,
  // in order; kInvalidToken finishes that request with kError. Advances computed counts, registers full blocks in the
  // prefix cache, appends tokens and retires finished requests (releasing their blocks). Mutates.
  std::vector<SequenceUpdate> update(const SchedulerOutput& output, std::span<const TokenId> sampled);
  // The same into `updates` (cleared first).
  void update(const SchedulerOutput& output, std::span<const TokenId> sampled, std::vector<SequenceUpdate>* updates);

  // Removes and returns requests retired by update() since the last call.
  std::vector<std::unique_ptr<Sequence>> take_finished();

  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  int num_running() const { return static_cast<int>(running_.size()); }
  // Tokens still to prefill: waiting requests' length less the prefix cached when they were
  // queued, running ones' uncomputed part beyond their next decode token. Linear in the number
  // of requests.
  int64_t num_pending_prefill_tokens() const;
  bool has_unfinished() const { return !waiting_.empty() || !running_.empty(); }
  const Sequence* find(RequestId id) const;

  // Checks the kv cache, and that every block's reference count equals the number of
  // block tables (running, importing and pinned requests) holding it: no leaked block.
  Status check_invariants() const;

 private:
  // Returns whether a running request it passed still has prompt to prefill; when none has
  // (or the budget ran out first), schedule_running_prefills would schedule nothing.
  bool schedule_decodes(SchedulerOutput* out, int* budget);
  void schedule_running_prefills(SchedulerOutput* out, int* budget, int* prefill_budget);
  void admit_waiting(SchedulerOutput* out, int* budget, int* prefill_budget);
  bool reserve_blocks(Sequence* seq, int num_tokens, size_t min_victim_index, SchedulerOutput* out);
  bool preempt_one(size_t min_victim_index, SchedulerOutput* out);
  void register_full_blocks(Sequence* seq);
  void retire(Sequence* seq, FinishReason reason);
  int count_with_status(SequenceStatus status) const;

  SchedulerOptions options_;
  kv::KvCacheManager* kv_cache_;
  std::unordered_map<RequestId, std::unique_ptr<Sequence>> sequences_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // in admission order: earlier = higher priority
  std::vector<std::unique_ptr<Sequence>> finished_;
};

}  // namespace ppd::sched
