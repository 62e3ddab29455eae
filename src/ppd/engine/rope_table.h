// RopeTable: cos and sin of every (position, frequency) pair, precomputed in double and
// stored as F32, with the model's rope_theta and rope scaling (llama3, linear) applied.
// Immutable after construction; safe to share between threads.
#pragma once

#include <vector>

#include "ppd/model/model_config.h"

namespace ppd::engine {

class RopeTable {
 public:
  // REQUIRES: config.head_dim even, max_positions >= 1.
  RopeTable(const model::ModelConfig& config, int max_positions);

  // [head_dim / 2 cos][head_dim / 2 sin] for `position`.
  const float* row(int position) const { return &table_[static_cast<size_t>(position) * head_dim_]; }
  int max_positions() const { return max_positions_; }

 private:
  int head_dim_;
  int max_positions_;
  std::vector<float> table_;  // [max_positions][head_dim]
};

// The inverse frequencies, one per rotated pair, after rope scaling. Exposed for tests.
std::vector<double> rope_inverse_frequencies(const model::ModelConfig& config);

}  // namespace ppd::engine
