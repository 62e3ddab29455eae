#include "ppd/request/sampling_params.h"

#include <cmath>

namespace ppd::request {
namespace {

Status validate_prompt(std::span<const TokenId> prompt, const RequestLimits& limits) {
  if (prompt.empty()) return invalid_argument("prompt: must hold at least 1 token; got 0");
  if (static_cast<int64_t>(prompt.size()) >= limits.max_model_len) {
    return invalid_argument("prompt: must be shorter than max_model_len {} to leave room for output; got {} tokens",
                            limits.max_model_len, prompt.size());
  }
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= limits.vocab_size) {
      return invalid_argument("prompt: token id {} at index {} outside the vocabulary [0, {})", prompt[i], i,
                              limits.vocab_size);
    }
  }
  return Status::Ok();
}

Status validate_values(const SamplingParams& p, const RequestLimits& limits) {
  if (!std::isfinite(p.temperature) || p.temperature < 0.0 || p.temperature > 2.0) {
    return invalid_argument("temperature: must be in [0, 2]; got {}", p.temperature);
  }
  if (p.top_k < -1) return invalid_argument("top_k: must be -1, 0 (off) or >= 1; got {}", p.top_k);
  if (!std::isfinite(p.top_p) || p.top_p <= 0.0 || p.top_p > 1.0) {
    return invalid_argument("top_p: must be in (0, 1]; got {}", p.top_p);
  }
  for (TokenId id : p.stop_token_ids) {
    if (id < 0 || id >= limits.vocab_size) {
      return invalid_argument("stop_token_ids: id {} outside the vocabulary [0, {})", id, limits.vocab_size);
    }
  }
  return Status::Ok();
}

}  // namespace

Status validate_request(std::span<const TokenId> prompt, const SamplingParams& params, const RequestLimits& limits) {
  PPD_RETURN_IF_ERROR(validate_prompt(prompt, limits));
  PPD_RETURN_IF_ERROR(validate_values(params, limits));
  const int room = limits.max_model_len - static_cast<int>(prompt.size());
  if (params.max_tokens && (*params.max_tokens < 1 || *params.max_tokens > room)) {
    return invalid_argument("max_tokens: must be in [1, {}] for a {}-token prompt and max_model_len {}; got {}", room,
                            prompt.size(), limits.max_model_len, *params.max_tokens);
  }
  const int max_tokens = resolve_max_tokens(static_cast<int>(prompt.size()), params, limits);
  if (params.min_tokens < 0 || params.min_tokens > max_tokens) {
    return invalid_argument("min_tokens: must be in [0, max_tokens = {}]; got {}", max_tokens, params.min_tokens);
  }
  return Status::Ok();
}

int resolve_max_tokens(int num_prompt_tokens, const SamplingParams& params, const RequestLimits& limits) {
  return params.max_tokens.value_or(limits.max_model_len - num_prompt_tokens);
}

}  // namespace ppd::request
