// Engine: one node's model, KV cache, scheduler and executor behind a step() loop.
// Requests go in as token ids with sampling parameters; each step() schedules a batch
// (decode tokens first, then prefill chunks), runs it, and returns the tokens produced.
// Finished requests leave their full blocks in the prefix cache, where the next turn of
// a conversation finds them. Blocks can be exported and imported by hash (KV transfer).
// Not thread-safe: one thread (the node's event loop) owns an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ppd/common/clock.h"
#include "ppd/common/dtype.h"
#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/kv/kv_event.h"
#include "ppd/model/model_config.h"
#include "ppd/request/sampling_params.h"
#include "ppd/sched/scheduler.h"

namespace ppd::engine {

struct EngineOptions {
  int num_threads = 1;           // compute threads (this one included); >= 1
  std::string kernels = "auto";  // auto, scalar or avx2
  // The weight matrices' format in memory: "auto" keeps the checkpoint's dtype; "f32", "f16"
  // or "bf16" converts at load. quantize "q8_0" quantizes them at load instead (dtype must
  // then stay "auto").
  std::string dtype = "auto";
  std::string quantize = "none";  // none or q8_0
  // The KV cache's values: "auto" is the weights' format when F16 or BF16, else the
  // checkpoint's dtype; or "f32", "f16", "bf16".
  // Converted weights or a KV dtype other than F32 change the block-hash seed (kv_hash_seed),
  // so nodes that differ in either never share KV.
  std::string kv_dtype = "auto";
  int block_size = 16;                        // tokens per KV block; [1, 256]
  int num_kv_blocks = 0;                      // > 0: exactly this many blocks, else from kv_cache_bytes
  int64_t kv_cache_bytes = int64_t{1} << 30;  // KV pool size when num_kv_blocks is 0
  int max_model_len = 0;                      // > 0: cap below the model's own context length
  bool enable_prefix_cache = true;
  sched::SchedulerOptions scheduler;  // model_identity is filled in by the engine
};

struct RequestSpec {
  std::optional<RequestId> id;  // unset: the engine assigns the next free id
  std::vector<TokenId> prompt;
  request::SamplingParams params;
  // kPin: a prefill node's request; when it finishes its blocks stay pinned (see pinned()).
  sched::BlocksOnFinish blocks_on_finish = sched::BlocksOnFinish::kRelease;
};

// Remote path, decode node: a request whose prompt KV was computed by a prefill node.
struct ImportSpec {
  RequestSpec request;       // params.seed: the prefill node's resolved seed, so that
                             // sampling goes on exactly as it would have there
  TokenId first_token = -1;  // sampled by the prefill node
  sched::ImportMode mode = sched::ImportMode::kDelta;
};

// Where the pulled blocks go: dest[i] is the memory of prompt block num_local_blocks + i.
struct ImportTarget {
  RequestId id;
  int num_local_blocks = 0;   // leading prompt blocks already cached here (not pulled)
  int num_prompt_blocks = 0;  // blocks covering the prompt, the partial last one included
  std::vector<std::span<uint8_t>> dest;
};

// A prefill node's finished request whose blocks stay pinned for a decode node to pull.
struct PinnedRequest {
  RequestId id;
  int num_prompt_tokens = 0;
  TokenId first_token = -1;
  uint64_t sampling_seed = 0;
  std::vector<BlockHash> block_hashes;           // of the full prompt blocks
  std::vector<BlockId> block_ids;                // every prompt block, partial last included
  std::vector<std::span<const uint8_t>> blocks;  // every prompt block's bytes, partial last included
};

struct RequestOutput {
  RequestId id;
  TokenId token = -1;
  sched::FinishReason finish_reason = sched::FinishReason::kNone;
  int num_prompt_tokens = 0;
  int num_cached_tokens = 0;  // prompt tokens served from the prefix cache
  int num_output_tokens = 0;  // including this one
  std::vector<float> logits;  // [vocab] when params.return_logits
  // A kPin request's last output: its pinned blocks, as pinned() returns them, taken in the
  // step that finished it, so the prefill node needs no second trip to the engine thread
  // (which would wait for the next step to end). Null otherwise. (A pointer, not an
  // optional: coroutine rule 2, docs/decisions/0005.)
  std::shared_ptr<PinnedRequest> pinned;
};

// Telemetry of one step, for load reports and the routers' step-time models.
struct StepStats {
  int num_prefill_tokens = 0;
  int num_decode_sequences = 0;
  int64_t num_context_tokens = 0;         // sum over the batch's chunks of their end position
  int64_t num_decode_context_tokens = 0;  // the same over its decode chunks: tokens the decodes attend to
  double num_prefill_pairs = 0;           // (query, key) pairs its prefill chunks score: n·(p + (n + 1)/2) each
  int num_preempted = 0;
  int64_t step_time_ns = 0;
  int num_running = 0;
  int num_waiting = 0;
  int64_t num_pending_prefill_tokens = 0;  // prompt tokens still to compute, waiting and running
  int num_free_blocks = 0;                 // allocatable: free plus evictable cached
  // Whether the step changed the scheduler's state. A step that did not (nothing fit: say,
  // pinned blocks fill the pool) is repeated identically until a call changes the queue.
  bool progressed() const { return num_prefill_tokens > 0 || num_decode_sequences > 0 || num_preempted > 0; }
};

struct StepResult {
  std::vector<RequestOutput> outputs;
  StepStats stats;
};

class Engine {
 public:
  // Loads the model in `model_dir` and sizes the KV pool. `clock` times steps; it must
  // outlive the engine.
  static Result<std::unique_ptr<Engine>> create(const std::string& model_dir, const EngineOptions& options,
                                                const Clock* clock);
  ~Engine();

  // Validates and queues a request; returns its id. INVALID_ARGUMENT for bad input,
  // RESOURCE_EXHAUSTED when it could never fit the KV pool.
  Result<RequestId> add_request(RequestSpec spec);
  // Drops a request (waiting, running, importing or pinned) and frees its blocks. Returns
  // false when the id is unknown.
  bool abort_request(RequestId id);

  // Remote path, decode node: validates the request, holds its locally cached prompt
  // blocks (delta mode) and allocates the rest, and returns the memory the pulled blocks
  // must be written to. RESOURCE_EXHAUSTED when the blocks are not free. The memory stays
  // reserved until finish_import() or abort_request(). Mutates.
  Result<ImportTarget> begin_import(ImportSpec spec);
  // The pulled bytes are in place: the request joins the running batch with its first
  // token. Returns that token's output (finished when it was EOS or max_tokens is 1).
  // NOT_FOUND when `id` is not importing. Mutates.
  Result<RequestOutput> finish_import(RequestId id);

  // Prefill node: the pinned blocks of a finished kPin request, or nullopt. The spans
  // stay valid until unpin() or abort_request().
  std::optional<PinnedRequest> pinned(RequestId id) const;
  // Unpins a pinned request: its full blocks become cached prefix. False when not pinned.
  bool unpin(RequestId id);
  std::vector<RequestId> pinned_ids() const;
  // Runs one step. With nothing to do, returns no outputs and zero stats.
  StepResult step();
  bool has_unfinished() const;
  // Queue state now (running, waiting, pending prefill tokens, allocatable blocks); the
  // per-step fields are zero.
  StepStats queue_stats() const;

  const model::ModelConfig& config() const;
  // The weight matrices' format in memory, and the bytes a decode step streams from them
  // (every parameter but the embedding table, in that format).
  WeightFormat weight_format() const;
  int64_t streamed_weight_bytes() const;
  // How much the process's anonymous resident memory grew while the weights loaded (the
  // weights as they sit in memory, measured); -1 where /proc does not tell.
  int64_t loaded_weight_resident_bytes() const;
  int max_model_len() const;
  int block_size() const;
  // The options the engine runs with (model identity filled in).
  const EngineOptions& options() const;
  // The checkpoint's fingerprint (model::compute_model_identity): the same for every node that
  // serves these files.
  uint64_t model_identity() const;
  // The seed of this engine's block hashes: model_identity(), mixed with the weights' format
  // when the load converted them and with the KV dtype when it is not F32.
  uint64_t kv_hash_seed() const;
  Dtype kv_dtype() const;
  // Hashes of the full blocks of `tokens`, as this engine's prefix cache keys them.
  std::vector<BlockHash> block_hashes(std::span<const TokenId> tokens) const;

  // The bytes of the block holding `hash`, or nullopt if not cached. Valid until the
  // next step() or import.
  std::optional<std::span<const uint8_t>> export_block(BlockHash hash) const;
  // Stores a block received from another node as cached prefix under `hash` (no-op if
  // already held). RESOURCE_EXHAUSTED when no block is free; INVALID_ARGUMENT on size.
  // The block is evictable at once; the remote path uses begin_import() instead.
  Status import_block(BlockHash hash, std::span<const uint8_t> bytes);
  size_t block_bytes() const;
  int num_cached_blocks() const;
  int num_allocatable_blocks() const;

  // Returns and clears prefix-cache events since the last call.
  std::vector<kv::KvEvent> take_kv_events();
  Status check_invariants() const;

  struct State;  // internal to engine.cc

 private:
  explicit Engine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

std::string_view finish_reason_name(sched::FinishReason reason);

}  // namespace ppd::engine
