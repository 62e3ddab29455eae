#include "ppd/engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ppd/common/splitmix.h"

namespace ppd::engine {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The first maximum; kInvalidToken for a NaN or +inf anywhere, or no value above -inf.
TokenId argmax(std::span<const float> v) {
  float best = kNegInf;
  TokenId best_id = sched::kInvalidToken;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i]) || v[i] == -kNegInf) return sched::kInvalidToken;
    if (v[i] > best) {
      best = v[i];
      best_id = static_cast<TokenId>(i);
    }
  }
  return best_id;
}

}  // namespace

double uniform_draw(uint64_t seed, int index) {
  const uint64_t bits = splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(index));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

TokenId Sampler::sample(const SampleRequest& request) {
  std::span<const float> logits = request.logits;
  if (!request.masked_ids.empty()) {
    work_.assign(logits.begin(), logits.end());
    for (TokenId id : request.masked_ids) work_[static_cast<size_t>(id)] = kNegInf;
    logits = work_;
  }
  const TokenId best = argmax(logits);
  if (best == sched::kInvalidToken || request.params->is_greedy()) return best;
  return sample_random(logits, request);
}

TokenId Sampler::sample_random(std::span<const float> logits, const SampleRequest& request) {
  const request::SamplingParams& params = *request.params;
  const float inv_t = static_cast<float>(1.0 / params.temperature);
  const float max_logit = logits[static_cast<size_t>(argmax(logits))];
  candidates_.clear();
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == kNegInf) continue;
    const float p = std::exp((logits[i] - max_logit) * inv_t);
    candidates_.emplace_back(p, static_cast<TokenId>(i));
    total += p;
  }
  for (auto& c : candidates_) c.first = static_cast<float>(c.first / total);
  keep_top_candidates(params);
  double kept = 0.0;
  for (const auto& c : candidates_) kept += c.first;
  const double target = uniform_draw(request.seed, request.output_index) * kept;
  double cumulative = 0.0;
  for (const auto& c : candidates_) {
    cumulative += c.first;
    if (target < cumulative) return c.second;
  }
  return candidates_.back().second;
}

void Sampler::keep_top_candidates(const request::SamplingParams& params) {
  auto by_prob = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  double mass_total = 1.0;
  if (params.top_k > 0 && static_cast<size_t>(params.top_k) < candidates_.size()) {
    const auto k = static_cast<ptrdiff_t>(params.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), by_prob);
    candidates_.resize(static_cast<size_t>(k));
    mass_total = 0.0;
    for (const auto& c : candidates_) mass_total += c.first;
  }
  if (params.top_p >= 1.0) return;
  // top-p over the (top-k renormalized) distribution. Sort a growing head until it holds
  // enough mass: distributions are peaked, so a full sort is rarely needed.
  const double needed = params.top_p * mass_total;
  const size_t n = candidates_.size();
  for (size_t head = std::min<size_t>(64, n);; head = std::min(n, head * 4)) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(head), candidates_.end(),
                      by_prob);
    double mass = 0.0;
    for (size_t i = 0; i < head; ++i) {
      mass += candidates_[i].first;
      if (mass >= needed) {
        candidates_.resize(i + 1);
        return;
      }
    }
    if (head == n) return;
  }
}

}  // namespace ppd::engine
