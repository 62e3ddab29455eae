// Engine::State: everything one engine owns, shared by the files that implement Engine
// (engine.cc: requests and steps; engine_transfer.cc: KV export, import and pinned blocks).
// Internal to the engine library; not thread-safe.
#pragma once

#include <memory>
#include <unordered_map>

#include "ppd/common/clock.h"
#include "ppd/common/thread_pool.h"
#include "ppd/engine/engine.h"
#include "ppd/engine/model_executor.h"
#include "ppd/engine/model_runner.h"
#include "ppd/kv/kv_cache_manager.h"
#include "ppd/kv/kv_storage.h"
#include "ppd/model/weights.h"

namespace ppd::engine {

struct Engine::State {
  EngineOptions options;
  const Clock* clock = nullptr;
  model::ModelConfig config;
  model::ModelWeights weights;
  int64_t weights_resident_bytes = -1;  // RssAnon growth across the load
  uint64_t identity = 0;                // the checkpoint's
  uint64_t kv_hash_seed = 0;            // the block hashes'
  Dtype kv_dtype = Dtype::kF32;
  int max_model_len = 0;
  std::unique_ptr<kv::KvStorage> storage;
  std::unique_ptr<kv::KvCacheManager> kv_cache;
  std::unique_ptr<sched::Scheduler> scheduler;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ModelRunner> runner;
  std::unique_ptr<ModelExecutor> executor;
  uint64_t next_id = 1;
  std::unordered_map<RequestId, TokenId> pending_first_tokens;  // importing requests' first tokens
};

// Validates `spec` (prompt, sampling, fit in the pool, id) and builds its Sequence with a
// resolved id, output limit and seed. Does not queue it.
Result<std::unique_ptr<sched::Sequence>> make_sequence(Engine::State& s, RequestSpec spec);

// The pinned blocks of a finished kPin request, or nullopt (Engine::pinned()).
std::optional<PinnedRequest> pinned_request(const Engine::State& s, RequestId id);

}  // namespace ppd::engine
