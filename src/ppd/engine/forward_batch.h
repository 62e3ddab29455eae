// ForwardBatch: a scheduler step flattened into what the forward pass consumes: one row
// per token (decode tokens first, then prefill chunks), where each row's K/V goes, the
// attention slices, and which rows need logits. Built once per step; plain data.
#pragma once

#include <cstdint>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/kernels/kernels.h"
#include "ppd/sched/scheduler.h"

namespace ppd::engine {

struct ForwardBatch {
  std::vector<TokenId> tokens;                        // [num_rows]
  std::vector<int> positions;                         // [num_rows]
  std::vector<int32_t> kv_block;                      // [num_rows] block receiving the row's K/V
  std::vector<int> kv_slot;                           // [num_rows] slot inside that block
  std::vector<kernels::AttentionSequence> sequences;  // one per chunk
  std::vector<int> logit_rows;                        // rows whose logits are needed (sampling chunks' last rows)

  int num_rows() const { return static_cast<int>(tokens.size()); }
};

// Flattens `output`. REQUIRES: every chunk's blocks are allocated (schedule() did it).
ForwardBatch build_forward_batch(const sched::SchedulerOutput& output, int block_size);

}  // namespace ppd::engine
