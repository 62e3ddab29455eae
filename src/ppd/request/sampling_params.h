// SamplingParams: how one request picks its tokens and when it stops, with the validation
// every entry point (CLI, node API, router) applies before a request reaches the engine.
// Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::request {

struct SamplingParams {
  double temperature = 1.0;       // [0, 2]; below kMinRandomTemperature means greedy
  int top_k = 0;                  // 0 or -1: off; else keep the k most likely tokens
  double top_p = 1.0;             // (0, 1]: keep the smallest set with this much mass
  std::optional<int> max_tokens;  // output tokens; unset: up to the context limit
  int min_tokens = 0;             // EOS and stop ids are masked until this many are out
  bool ignore_eos = false;        // keep going past EOS (benchmarks fix output lengths)
  std::vector<TokenId> stop_token_ids;
  std::optional<uint64_t> seed;  // same seed, same tokens; unset: derived from the request id
  bool return_logits = false;    // attach each sampled position's raw logits to its output

  // Temperatures this small would overflow 1/T in the softmax; they mean greedy anyway.
  static constexpr double kMinRandomTemperature = 1e-5;
  bool is_greedy() const { return temperature < kMinRandomTemperature || top_k == 1; }
};

struct RequestLimits {
  int max_model_len = 0;  // prompt + output tokens
  int vocab_size = 0;
};

// Checks the prompt and the parameters against the model's limits. Messages name the
// field, the rule and the value: "max_tokens: must be in [1, 502] for a 10-token prompt
// and max_model_len 512; got 600". Pure.
Status validate_request(std::span<const TokenId> prompt, const SamplingParams& params, const RequestLimits& limits);

// The output-token limit: max_tokens, or what the context leaves when it is unset.
// REQUIRES: validate_request() passed.
int resolve_max_tokens(int num_prompt_tokens, const SamplingParams& params, const RequestLimits& limits);

}  // namespace ppd::request
