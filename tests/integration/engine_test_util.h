// Helpers for engine-level tests: build engines with small pools, run requests to the end
// and collect each request's tokens and logits.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ppd/common/clock.h"
#include "ppd/engine/engine.h"

namespace ppd::testing {

struct Completion {
  std::vector<TokenId> tokens;
  std::vector<std::vector<float>> logits;  // one row per token when return_logits
  int num_cached_tokens = 0;
  sched::FinishReason finish_reason = sched::FinishReason::kNone;
};

// Engine options for tests: 1 thread unless given, a pool of `num_blocks` blocks.
engine::EngineOptions test_options(int num_blocks = 512, int num_threads = 1);

// Creates an engine or fails the test (returns null).
std::unique_ptr<engine::Engine> make_engine(const std::string& dir, const engine::EngineOptions& options);

request::SamplingParams greedy(int max_tokens, bool return_logits = false);

// Steps until no request is left; checks invariants after every step. Returns the
// completions by request id.
std::map<uint64_t, Completion> run_all(engine::Engine& engine);

// Adds one request and runs everything to the end; returns that request's completion.
Completion run_one(engine::Engine& engine, std::vector<TokenId> prompt, const request::SamplingParams& params);

// Largest |a - b| over two equally shaped logit sets (infinity if shapes differ).
float max_abs_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b);

// Random token ids in [lo, hi), from a fixed seed.
std::vector<TokenId> random_tokens(uint32_t seed, int n, TokenId lo, TokenId hi);

}  // namespace ppd::testing
