#include "ppd/engine/forward_batch.h"

namespace ppd::engine {

ForwardBatch build_forward_batch(const sched::SchedulerOutput& output, int block_size) {
  ForwardBatch batch;
  const size_t n = static_cast<size_t>(output.num_tokens());
  batch.tokens.reserve(n);
  batch.positions.reserve(n);
  batch.kv_block.reserve(n);
  batch.kv_slot.reserve(n);
  for (const sched::ScheduledChunk& chunk : output.chunks) {
    const sched::Sequence& seq = *chunk.sequence;
    const auto tokens = seq.tokens();
    batch.sequences.push_back({.block_table = seq.block_table().data(),
                               .first_position = chunk.first_position,
                               .num_query_tokens = chunk.num_tokens,
                               .first_row = batch.num_rows()});
    for (int i = 0; i < chunk.num_tokens; ++i) {
      const int pos = chunk.first_position + i;
      batch.tokens.push_back(tokens[static_cast<size_t>(pos)]);
      batch.positions.push_back(pos);
      batch.kv_block.push_back(seq.block_table()[pos / block_size].value);
      batch.kv_slot.push_back(pos % block_size);
    }
    if (chunk.samples()) batch.logit_rows.push_back(batch.num_rows() - 1);
  }
  return batch;
}

}  // namespace ppd::engine
