// ModelExecutor: runs one scheduled step and returns the sampled tokens. The engine uses
// CpuExecutor (forward pass + sampler); the simulator substitutes a cost model that only
// advances simulated time. Called from the engine's step thread only.
#pragma once

#include <vector>

#include "ppd/common/ids.h"
#include "ppd/engine/model_runner.h"
#include "ppd/engine/sampler.h"
#include "ppd/sched/scheduler.h"

namespace ppd::engine {

struct ExecuteResult {
  std::vector<TokenId> sampled;            // one per sampling chunk, in chunk order
  std::vector<std::vector<float>> logits;  // per sampled token; empty unless return_logits
};

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;
  virtual ExecuteResult execute(const sched::SchedulerOutput& output) = 0;
};

class CpuExecutor final : public ModelExecutor {
 public:
  CpuExecutor(ModelRunner* runner, int block_size, int vocab_size)
      : runner_(runner), block_size_(block_size), vocab_size_(vocab_size) {}
  ExecuteResult execute(const sched::SchedulerOutput& output) override;

 private:
  ModelRunner* runner_;
  Sampler sampler_;
  int block_size_;
  int vocab_size_;
  std::vector<TokenId> masked_;
};

}  // namespace ppd::engine
