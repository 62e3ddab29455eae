#include "ppd/engine/model_executor.h"

namespace ppd::engine {

ExecuteResult CpuExecutor::execute(const sched::SchedulerOutput& output) {
  const ForwardBatch batch = build_forward_batch(output, block_size_);
  const std::span<const float> logits = runner_->forward(batch);
  ExecuteResult result;
  size_t row = 0;
  for (const sched::ScheduledChunk& chunk : output.chunks) {
    if (!chunk.samples()) continue;
    const sched::Sequence& seq = *chunk.sequence;
    const std::span<const float> row_logits =
        logits.subspan(row * static_cast<size_t>(vocab_size_), static_cast<size_t>(vocab_size_));
    masked_.clear();
    if (!seq.stop_tokens_allowed()) {
      masked_ = seq.params().stop_token_ids;
      if (!seq.params().ignore_eos)
        masked_.insert(masked_.end(), seq.eos_token_ids().begin(), seq.eos_token_ids().end());
    }
    result.sampled.push_back(sampler_.sample({.logits = row_logits,
                                              .params = &seq.params(),
                                              .seed = seq.sampling_seed(),
                                              .output_index = seq.num_output_tokens(),
                                              .masked_ids = masked_}));
    result.logits.emplace_back();
    if (seq.params().return_logits) result.logits.back().assign(row_logits.begin(), row_logits.end());
    ++row;
  }
  return result;
}

}  // namespace ppd::engine
