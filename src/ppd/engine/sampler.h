// Sampler: picks one token from a row of logits: greedy, or temperature with top-k and
// top-p. Randomness is counter-based: the draw for output token i of a request depends
// only on (seed, i), so a request recomputed after preemption, or run in another batch,
// draws the same numbers. Holds scratch buffers; one call at a time.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/request/sampling_params.h"
#include "ppd/sched/sequence.h"

namespace ppd::engine {

struct SampleRequest {
  std::span<const float> logits;  // [vocab]
  const request::SamplingParams* params = nullptr;
  uint64_t seed = 0;
  int output_index = 0;                 // index of the token being sampled
  std::span<const TokenId> masked_ids;  // ids that may not be drawn (EOS before min_tokens)
};

// A uniform double in [0, 1) from (seed, index); the same inputs give the same value.
double uniform_draw(uint64_t seed, int index);

class Sampler {
 public:
  // Returns the sampled id, or sched::kInvalidToken when the logits hold a NaN or no
  // finite choice is left.
  TokenId sample(const SampleRequest& request);

 private:
  // REQUIRES: logits hold no NaN and at least one finite value.
  TokenId sample_random(std::span<const float> logits, const SampleRequest& request);
  // Leaves in candidates_ the tokens top-k and top-p keep, with their probabilities.
  void keep_top_candidates(const request::SamplingParams& params);

  std::vector<float> work_;                            // [vocab] logits with masked ids at -inf
  std::vector<std::pair<float, TokenId>> candidates_;  // (probability, id)
};

}  // namespace ppd::engine
