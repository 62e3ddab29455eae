// The cost of one engine step as the simulator sees it: the batch's shape (decode sequences
// and their context lengths; prefill chunks and the cached or computed prefix before them),
// and a StepCostModel that turns a shape into nanoseconds. Implementations are pure and
// immutable; safe to share between threads.
#pragma once

#include <cstdint>
#include <vector>

namespace ppd::sim {

struct PrefillChunk {
  int64_t num_tokens = 0;          // new tokens computed in this step, >= 1
  int64_t num_context_tokens = 0;  // tokens before the chunk (cached prefix or earlier chunks)
  bool samples = false;            // the chunk ends its prompt: its last row goes through the LM head
};

struct StepShape {
  std::vector<int64_t> decode_context_tokens;  // one per decode sequence: tokens it attends to
  std::vector<PrefillChunk> prefill_chunks;

  int64_t num_decode_sequences() const { return static_cast<int64_t>(decode_context_tokens.size()); }
  int64_t num_prefill_tokens() const;
  // Sum of decode_context_tokens, in integers: exact, and a one-cycle add per sequence where
  // the cost models ran a floating-point add chain.
  int64_t total_decode_context_tokens() const;
};

class StepCostModel {
 public:
  virtual ~StepCostModel() = default;
  // Nanoseconds the step takes; 0 for an empty shape.
  virtual int64_t step_time_ns(const StepShape& shape) const = 0;
};

}  // namespace ppd::sim
