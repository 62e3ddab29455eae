// SimNode: one serving node inside the simulator: the real KvCacheManager and Scheduler, with
// a StepCostModel in place of the engine. The owner drives it by events: begin_step() fixes
// the next batch and says how long it takes; end_step(), at that time, applies it. Sampled
// tokens are a pure function of (request, position), so a conversation's next turn can
// repeat the tokens of its answer and hit the prefix cache as on a real node. Not
// thread-safe; deterministic.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ppd/kv/kv_cache_manager.h"
#include "ppd/sched/scheduler.h"
#include "ppd/sim/step_cost.h"

namespace ppd::sim {

struct SimNodeOptions {
  sched::SchedulerOptions scheduler;
  kv::KvCacheOptions kv_cache;
  int vocab_size = 32000;  // sampled tokens fall in [0, vocab_size)
};

// The token a request samples at `position`: the same on every node and every run.
TokenId simulated_token(RequestId request, int position, int vocab_size);

// The cost-model view of a scheduled batch: its decode sequences' contexts and prefill
// chunks, written over `shape` (whose capacity is reused).
void step_shape(const sched::SchedulerOutput& output, StepShape* shape);

class SimNode {
 public:
  // REQUIRES: `cost` outlives the node; options valid (validate_scheduler_options).
  SimNode(const SimNodeOptions& options, const StepCostModel* cost);

  // Queues a request that generates exactly `max_tokens` tokens. INVALID_ARGUMENT when it
  // could never fit the cache or the prompt is empty. `on_finish` kPin: a prefill node's
  // request whose blocks stay pinned until unpin(). `prompt_hashes`, when the caller
  // has them: the hashes of the prompt's leading full blocks, computed with this node's model
  // identity and block size, which the node then does not compute again (REQUIRES: right).
  // Mutates.
  Status add_request(RequestId id, std::vector<TokenId> prompt, int max_tokens,
                     sched::BlocksOnFinish on_finish = sched::BlocksOnFinish::kRelease,
                     std::span<const BlockHash> prompt_hashes = {});
  // Remote path, decode node: holds blocks for a request whose prompt KV arrives from a
  // prefill node (Scheduler::add_importing). Returns the leading blocks already here;
  // RESOURCE_EXHAUSTED when too few blocks are free now. `prompt_hashes` as for
  // add_request(). Mutates.
  Result<int> add_importing(RequestId id, std::vector<TokenId> prompt, int max_tokens, sched::ImportMode mode,
                            std::span<const BlockHash> prompt_hashes = {});
  // The imported KV is in place: the request runs with `first_token`. Mutates.
  sched::FinishReason finish_import(RequestId id, TokenId first_token) {
    return scheduler_.finish_import(id, first_token);
  }
  // Unpins a pinned prefill-node request; false when `id` is not pinned. Mutates.
  bool unpin(RequestId id) { return scheduler_.unpin(id); }
  // KV events recorded since the last call. Mutates.
  std::vector<kv::KvEvent> take_kv_events() { return kv_cache_.take_events(); }

  bool in_step() const { return in_step_; }
  bool has_work() const { return scheduler_.has_unfinished(); }

  // Schedules the next batch and returns its duration in ns, or nullopt when there is
  // nothing to run. REQUIRES: !in_step(). Mutates.
  std::optional<int64_t> begin_step();
  // Applies the batch begun last: one update per sampled token, valid until the next
  // end_step(). REQUIRES: in_step(). Mutates.
  const std::vector<sched::SequenceUpdate>& end_step();
  // Requests finished by end_step() since the last call.
  std::vector<std::unique_ptr<sched::Sequence>> take_finished() { return scheduler_.take_finished(); }

  const sched::Scheduler& scheduler() const { return scheduler_; }
  const kv::KvCacheManager& kv_cache() const { return kv_cache_; }
  const StepShape& last_shape() const { return last_shape_; }

 private:
  Status check_request(RequestId id, size_t num_prompt_tokens, int max_tokens) const;

  SimNodeOptions options_;
  const StepCostModel* cost_;
  kv::KvCacheManager kv_cache_;
  sched::Scheduler scheduler_;
  // Per-step buffers, kept so that a step allocates nothing once they have grown.
  sched::SchedulerOutput pending_;
  StepShape last_shape_;
  std::vector<TokenId> sampled_;
  std::vector<sched::SequenceUpdate> updates_;
  bool in_step_ = false;
};

}  // namespace ppd::sim
