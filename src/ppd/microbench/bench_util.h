// Small pieces the benchmark commands share: medians, deterministic prompts, fixed-length
// sampling. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/request/sampling_params.h"

namespace ppd::microbench {

// Median of `v` (the mean of the two middle values for an even count). REQUIRES: non-empty.
double median(std::vector<double> v);

// `n` pseudo-random token ids in [3, vocab), a fixed function of `seed`; different seeds
// differ in their first block, so they never share a cached prefix.
std::vector<TokenId> bench_prompt(int n, int vocab, uint32_t seed);

// Greedy, exactly `n` output tokens (EOS ignored).
request::SamplingParams fixed_output(int n);

}  // namespace ppd::microbench
