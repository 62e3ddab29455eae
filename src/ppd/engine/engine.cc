#include "ppd/engine/engine.h"

#include <unistd.h>

#include <algorithm>
#include <new>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "ppd/common/process_memory.h"
#include "ppd/common/splitmix.h"
#include "ppd/common/thread_pool.h"
#include "ppd/engine/engine_state.h"
#include "ppd/engine/model_executor.h"
#include "ppd/engine/model_runner.h"
#include "ppd/kernels/kernels.h"
#include "ppd/kv/block_hash.h"
#include "ppd/kv/kv_cache_manager.h"
#include "ppd/kv/kv_storage.h"
#include "ppd/model/model_identity.h"
#include "ppd/model/weights.h"

namespace ppd::engine {

namespace {

Status validate_options(const EngineOptions& o) {
  if (o.num_threads < 1 || o.num_threads > 256)
    return invalid_argument("num_threads: must be in [1, 256]; got {}", o.num_threads);
  if (o.block_size < 1 || o.block_size > 256)
    return invalid_argument("block_size: must be in [1, 256]; got {}", o.block_size);
  if (o.num_kv_blocks < 0) return invalid_argument("num_kv_blocks: must be >= 0; got {}", o.num_kv_blocks);
  if (o.max_model_len < 0) return invalid_argument("max_model_len: must be >= 0; got {}", o.max_model_len);
  return sched::validate_scheduler_options(o.scheduler);
}

int64_t physical_memory_bytes() {
  return static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<int64_t>(::sysconf(_SC_PAGE_SIZE));
}

// The pool is reserved up front and committed as used: refuse one this machine could never
// hold, naming the option that asked for it.
Result<int> resolve_num_blocks(const EngineOptions& o, size_t block_bytes) {
  const std::string_view field = o.num_kv_blocks > 0 ? "num_kv_blocks" : "kv_cache_bytes";
  int64_t n = o.num_kv_blocks;
  if (n == 0) {
    n = o.kv_cache_bytes / static_cast<int64_t>(block_bytes);
    if (n < 1) return invalid_argument("kv_cache_bytes: {} holds no block of {} bytes", o.kv_cache_bytes, block_bytes);
  }
  const double gib = static_cast<double>(n) * static_cast<double>(block_bytes) / double(1 << 30);
  const double memory_gib = static_cast<double>(physical_memory_bytes()) / double(1 << 30);
  if (gib > memory_gib || n > (int64_t{1} << 30)) {
    return invalid_argument("{}: {} blocks of {} bytes need {:.1f} GiB; this machine has {:.1f} GiB", field, n,
                            block_bytes, gib, memory_gib);
  }
  return static_cast<int>(n);
}

// EngineOptions::dtype and quantize as a load option (unset: the checkpoint's dtype).
Result<std::optional<WeightFormat>> resolve_weight_format(const EngineOptions& o) {
  if (o.quantize != "none" && o.quantize != "q8_0") {
    return invalid_argument("quantize: unknown \"{}\"; supported: none, q8_0", o.quantize);
  }
  if (o.dtype == "auto") {
    if (o.quantize == "q8_0") return std::optional<WeightFormat>(WeightFormat::kQ8_0);
    return std::optional<WeightFormat>();
  }
  const std::optional<Dtype> dtype = parse_dtype_flag(o.dtype);
  if (!dtype) return invalid_argument("dtype: unknown \"{}\"; supported: auto, f32, f16, bf16", o.dtype);
  if (o.quantize != "none") {
    return invalid_argument("quantize: {} sets the weights' format itself; leave dtype at auto (got {})", o.quantize,
                            o.dtype);
  }
  return std::optional<WeightFormat>(weight_format_of(*dtype));
}

Result<Dtype> resolve_kv_dtype(const std::string& flag, const model::ModelWeights& weights) {
  if (flag == "auto") {
    const WeightFormat f = weights.format() == WeightFormat::kQ8_0 ? weights.checkpoint_format : weights.format();
    return f == WeightFormat::kF16 ? Dtype::kF16 : f == WeightFormat::kBF16 ? Dtype::kBF16 : Dtype::kF32;
  }
  const std::optional<Dtype> dtype = parse_dtype_flag(flag);
  if (!dtype) return invalid_argument("kv_dtype: unknown \"{}\"; supported: auto, f32, f16, bf16", flag);
  return *dtype;
}

// The checkpoint's identity, or, when the load changed the weights' format or the KV is not
// F32, that mixed with both: such KV differs from the F32 KV of the checkpoint's own weights.
uint64_t make_kv_hash_seed(uint64_t file_identity, const model::ModelWeights& weights, Dtype kv_dtype) {
  if (weights.format() == weights.checkpoint_format && kv_dtype == Dtype::kF32) return file_identity;
  const uint64_t tag =
      uint64_t{0x5eed} << 32 | static_cast<uint64_t>(weights.format()) << 8 | static_cast<uint64_t>(kv_dtype);
  return splitmix64(file_identity ^ tag);
}

Status load_model(Engine::State& s, const std::string& model_dir) {
  PPD_ASSIGN_OR_RETURN(const std::optional<WeightFormat> format, resolve_weight_format(s.options));
  PPD_ASSIGN_OR_RETURN(s.config, model::load_model_config(model_dir));
  const std::optional<int64_t> rss_before = resident_anon_bytes();
  PPD_ASSIGN_OR_RETURN(s.weights, model::load_weights(model_dir, s.config, {.format = format}));
  const std::optional<int64_t> rss_after = resident_anon_bytes();
  if (rss_before && rss_after) s.weights_resident_bytes = *rss_after - *rss_before;
  PPD_ASSIGN_OR_RETURN(s.identity, model::compute_model_identity(model_dir));
  PPD_ASSIGN_OR_RETURN(s.kv_dtype, resolve_kv_dtype(s.options.kv_dtype, s.weights));
  s.kv_hash_seed = make_kv_hash_seed(s.identity, s.weights, s.kv_dtype);
  s.max_model_len = s.config.max_model_len();
  if (s.options.max_model_len > 0) s.max_model_len = std::min(s.max_model_len, s.options.max_model_len);
  return Status::Ok();
}

Status build_runtime(Engine::State& s, kernels::KernelPath path) {
  const EngineOptions& o = s.options;
  const kv::KvLayout layout{.num_layers = s.config.num_layers,
                            .num_kv_heads = s.config.num_kv_heads,
                            .num_heads = s.config.num_heads,
                            .head_dim = s.config.head_dim,
                            .block_size = o.block_size,
                            .dtype = s.kv_dtype};
  PPD_ASSIGN_OR_RETURN(const int num_blocks, resolve_num_blocks(o, layout.block_bytes()));
  s.storage = std::make_unique<kv::KvStorage>(layout, num_blocks);
  s.kv_cache = std::make_unique<kv::KvCacheManager>(kv::KvCacheOptions{
      .num_blocks = num_blocks, .block_size = o.block_size, .enable_prefix_cache = o.enable_prefix_cache});
  sched::SchedulerOptions sched_options = o.scheduler;
  sched_options.model_identity = s.kv_hash_seed;
  s.scheduler = std::make_unique<sched::Scheduler>(sched_options, s.kv_cache.get());
  s.pool = std::make_unique<ThreadPool>(o.num_threads);
  kernels::set_blas_threads(1);  // the pool threads the matmuls; see kernels::matmul
  s.runner = std::make_unique<ModelRunner>(ModelRunnerOptions{.config = &s.config,
                                                              .weights = &s.weights,
                                                              .kv = s.storage.get(),
                                                              .pool = s.pool.get(),
                                                              .path = path,
                                                              .max_model_len = s.max_model_len});
  s.executor = std::make_unique<CpuExecutor>(s.runner.get(), o.block_size, s.config.vocab_size);
  return Status::Ok();
}

void log_effective_config(const Engine::State& s, const std::string& model_dir, kernels::KernelPath path) {
  const EngineOptions& o = s.options;
  spdlog::info(
      "engine start model={} arch={} params={} weights={} ({:.1f} MiB) identity={:016x} kv_hash_seed={:016x} "
      "max_model_len={} kernels={} threads={} block_size={} kv_dtype={} kv_blocks={} kv_block_bytes={} "
      "prefix_cache={} max_num_batched_tokens={} "
      "max_prefill_tokens={} max_num_running={}",
      model_dir, model::architecture_name(s.config.architecture), s.config.num_parameters(),
      weight_format_name(s.weights.format()), static_cast<double>(s.weights.resident_bytes()) / (1 << 20), s.identity,
      s.kv_hash_seed, s.max_model_len, kernels::kernel_path_name(path), o.num_threads, o.block_size,
      dtype_name(s.kv_dtype), s.kv_cache->num_blocks(), s.storage->block_bytes(), o.enable_prefix_cache,
      o.scheduler.max_num_batched_tokens, o.scheduler.max_prefill_tokens, o.scheduler.max_num_running);
}

// One output per sampled token, with its request's counts; finished requests are logged.
std::vector<RequestOutput> collect_outputs(Engine::State& s, const std::vector<sched::SequenceUpdate>& updates,
                                           ExecuteResult* executed) {
  std::unordered_map<RequestId, std::unique_ptr<sched::Sequence>> finished;
  for (auto& seq : s.scheduler->take_finished()) finished.emplace(seq->id(), std::move(seq));
  std::vector<RequestOutput> outputs;
  outputs.reserve(updates.size());
  for (size_t k = 0; k < updates.size(); ++k) {
    const sched::SequenceUpdate& u = updates[k];
    auto it = finished.find(u.id);
    const sched::Sequence* seq = it != finished.end() ? it->second.get() : s.scheduler->find(u.id);
    if (u.finish_reason != sched::FinishReason::kNone) {
      spdlog::debug("request finish id={} reason={} prompt_tokens={} cached_tokens={} output_tokens={} preemptions={}",
                    u.id.value, finish_reason_name(u.finish_reason), seq->num_prompt_tokens(),
                    seq->num_cached_prompt_tokens(), seq->num_output_tokens(), seq->num_preemptions());
    }
    outputs.push_back({.id = u.id,
                       .token = u.token,
                       .finish_reason = u.finish_reason,
                       .num_prompt_tokens = seq->num_prompt_tokens(),
                       .num_cached_tokens = seq->num_cached_prompt_tokens(),
                       .num_output_tokens = seq->num_output_tokens(),
                       .logits = std::move(executed->logits[k])});
    if (u.finish_reason == sched::FinishReason::kNone) continue;
    if (std::optional<PinnedRequest> pinned = pinned_request(s, u.id)) {
      outputs.back().pinned = std::make_shared<PinnedRequest>(*std::move(pinned));
    }
  }
  return outputs;
}

StepStats step_stats(const Engine::State& s, const sched::SchedulerOutput& batch) {
  StepStats st;
  st.num_prefill_tokens = batch.num_prefill_tokens;
  st.num_decode_sequences = batch.num_decode_tokens;
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const sched::ScheduledChunk& c = batch.chunks[i];
    st.num_context_tokens += c.first_position + c.num_tokens;
    if (static_cast<int>(i) < batch.num_decode_tokens) {  // decode chunks come first, one token each
      st.num_decode_context_tokens += c.first_position + 1;
    } else {
      st.num_prefill_pairs +=
          static_cast<double>(c.num_tokens) * (c.first_position + (static_cast<double>(c.num_tokens) + 1) / 2);
    }
  }
  st.num_preempted = static_cast<int>(batch.preempted.size());
  st.num_running = s.scheduler->num_running();
  st.num_waiting = s.scheduler->num_waiting();
  st.num_pending_prefill_tokens = s.scheduler->num_pending_prefill_tokens();
  st.num_free_blocks = s.kv_cache->num_allocatable_blocks();
  return st;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(const std::string& model_dir, const EngineOptions& options,
                                               const Clock* clock) {
  PPD_RETURN_IF_ERROR(validate_options(options));
  PPD_ASSIGN_OR_RETURN(const kernels::KernelPath path, kernels::parse_kernel_path(options.kernels));
  auto s = std::make_unique<State>();
  s->options = options;
  s->clock = clock;
  try {
    PPD_RETURN_IF_ERROR(load_model(*s, model_dir));
    PPD_RETURN_IF_ERROR(build_runtime(*s, path));
  } catch (const std::bad_alloc&) {
    return resource_exhausted("engine: out of memory loading {} with a pool of {} KV blocks", model_dir,
                              s->kv_cache ? s->kv_cache->num_blocks() : 0);
  }
  log_effective_config(*s, model_dir, path);
  return std::unique_ptr<Engine>(new Engine(std::move(s)));
}

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<sched::Sequence>> make_sequence(Engine::State& s, RequestSpec spec) {
  const request::RequestLimits limits{.max_model_len = s.max_model_len, .vocab_size = s.config.vocab_size};
  PPD_RETURN_IF_ERROR(request::validate_request(spec.prompt, spec.params, limits));
  const int num_prompt = static_cast<int>(spec.prompt.size());
  const int max_tokens = request::resolve_max_tokens(num_prompt, spec.params, limits);
  if (!s.scheduler->fits_cache(num_prompt + max_tokens)) {
    return resource_exhausted("request: {} prompt + {} output tokens need {} KV blocks; the pool holds {}", num_prompt,
                              max_tokens, kv::num_blocks_for(num_prompt + max_tokens, s.options.block_size),
                              s.kv_cache->num_blocks());
  }
  RequestId id;
  if (spec.id) {
    if (s.scheduler->find(*spec.id)) return invalid_argument("request id: {} already in use", spec.id->value);
    id = *spec.id;
  } else {
    while (s.scheduler->find(RequestId{s.next_id})) ++s.next_id;
    id = RequestId{s.next_id++};
  }
  const uint64_t seed = spec.params.seed.value_or(splitmix64(id.value));
  spdlog::debug("request add id={} prompt_tokens={} max_tokens={} greedy={}", id.value, num_prompt, max_tokens,
                spec.params.is_greedy());
  return std::make_unique<sched::Sequence>(sched::SequenceOptions{.id = id,
                                                                  .prompt = std::move(spec.prompt),
                                                                  .params = std::move(spec.params),
                                                                  .max_tokens = max_tokens,
                                                                  .eos_token_ids = s.config.eos_token_ids,
                                                                  .sampling_seed = seed,
                                                                  .blocks_on_finish = spec.blocks_on_finish});
}

Result<RequestId> Engine::add_request(RequestSpec spec) {
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<sched::Sequence> seq, make_sequence(*state_, std::move(spec)));
  const RequestId id = seq->id();
  state_->scheduler->add(std::move(seq));
  return id;
}

bool Engine::abort_request(RequestId id) {
  state_->pending_first_tokens.erase(id);
  return state_->scheduler->abort(id) != nullptr;
}

StepResult Engine::step() {
  State& s = *state_;
  const int64_t start_ns = s.clock->now_ns();
  StepResult result;
  const sched::SchedulerOutput batch = s.scheduler->schedule();
  if (!batch.empty()) {
    ExecuteResult executed = s.executor->execute(batch);
    const std::vector<sched::SequenceUpdate> updates = s.scheduler->update(batch, executed.sampled);
    result.outputs = collect_outputs(s, updates, &executed);
  }
  result.stats = step_stats(s, batch);
  result.stats.step_time_ns = s.clock->now_ns() - start_ns;
  return result;
}

bool Engine::has_unfinished() const { return state_->scheduler->has_unfinished(); }

StepStats Engine::queue_stats() const { return step_stats(*state_, sched::SchedulerOutput{}); }
const model::ModelConfig& Engine::config() const { return state_->config; }
WeightFormat Engine::weight_format() const { return state_->weights.format(); }
int64_t Engine::streamed_weight_bytes() const { return state_->weights.streamed_bytes_per_step(); }
int64_t Engine::loaded_weight_resident_bytes() const { return state_->weights_resident_bytes; }
int Engine::max_model_len() const { return state_->max_model_len; }
int Engine::block_size() const { return state_->options.block_size; }
const EngineOptions& Engine::options() const { return state_->options; }
uint64_t Engine::model_identity() const { return state_->identity; }
uint64_t Engine::kv_hash_seed() const { return state_->kv_hash_seed; }
Dtype Engine::kv_dtype() const { return state_->kv_dtype; }
size_t Engine::block_bytes() const { return state_->storage->block_bytes(); }
int Engine::num_cached_blocks() const { return state_->kv_cache->num_cached_blocks(); }
int Engine::num_allocatable_blocks() const { return state_->kv_cache->num_allocatable_blocks(); }

std::vector<BlockHash> Engine::block_hashes(std::span<const TokenId> tokens) const {
  return kv::hash_full_blocks(state_->kv_hash_seed, tokens, state_->options.block_size);
}

std::vector<kv::KvEvent> Engine::take_kv_events() { return state_->kv_cache->take_events(); }
Status Engine::check_invariants() const { return state_->scheduler->check_invariants(); }

std::string_view finish_reason_name(sched::FinishReason reason) {
  switch (reason) {
    case sched::FinishReason::kNone:
      return "none";
    case sched::FinishReason::kStop:
      return "stop";
    case sched::FinishReason::kLength:
      return "length";
    case sched::FinishReason::kAbort:
      return "abort";
    case sched::FinishReason::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace ppd::engine
