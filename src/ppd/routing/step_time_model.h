// StepTimeModel: a node's engine step time as a linear function of the batch, fitted online
// from the steps the node reports (no offline sweep):
//   step_us ≈ c0 + c1·prefill_tokens + c2·decode_sequences + c3·decode_context_tokens / 1000
//             + c4·prefill_pairs / 10^6
// (decode attention reads each sequence's KV once; prefill attention scores every (query,
// key) pair of its chunks, n·(p + (n + 1)/2) for n tokens after p others) by exponentially
// weighted least squares, regularised towards prior coefficients, so that a node that has
// never prefilled still predicts prefill from the prior. Coefficients are kept non-negative.
// Pure value type; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace ppd::routing {

inline constexpr int kStepFeatures = 5;

// One engine step as nodes report it in `recent_steps`.
struct StepSample {
  int num_prefill_tokens = 0;
  int num_decode_sequences = 0;
  int64_t num_decode_context_tokens = 0;  // tokens the decodes attend to, summed
  double step_us = 0;
  double num_prefill_pairs = 0;  // (query, key) pairs the prefill chunks score
};

// The pairs a prefill chunk of `num_tokens` after `num_before` others scores. Pure.
inline double prefill_pairs(int64_t num_tokens, int64_t num_before) {
  return static_cast<double>(num_tokens) *
         (static_cast<double>(num_before) + (static_cast<double>(num_tokens) + 1) / 2);
}

struct StepTimeModelOptions {
  // Prior coefficients {c0 µs, µs per prefill token, µs per decode sequence, µs per 1000
  // decode context tokens, µs per 10^6 prefill pairs}; what predict() returns before any sample.
  std::array<double, kStepFeatures> prior = {1000.0, 100.0, 200.0, 50.0, 100.0};
  double prior_weight = 1.0;  // pseudo-samples pulling the fit towards the prior; > 0
  double decay = 0.995;       // weight of older samples per new sample; (0, 1]
};

class StepTimeModel {
 public:
  explicit StepTimeModel(StepTimeModelOptions options = {});

  // Adds one observed step and refits. Mutates.
  void observe(const StepSample& sample);
  // Adds the steps of a load report in order and refits once: the same coefficients as
  // observing them one by one. Mutates.
  void observe(std::span<const StepSample> samples);
  // Predicted step time in seconds for a batch; never negative. Pure.
  double predict_s(int num_prefill_tokens, int num_decode_sequences, int64_t num_decode_context_tokens,
                   double num_prefill_pairs) const;
  // The current coefficients, in the prior's units.
  const std::array<double, kStepFeatures>& coefficients() const { return coefficients_; }
  // Replaces the prior (e.g. with a cluster-wide fit) and refits. Mutates.
  void set_prior(const std::array<double, kStepFeatures>& prior);
  int64_t num_samples() const { return num_samples_; }
  // How much of feature k the samples carried (their decayed Σ x_k²; 0 before any sample, and
  // for the prefill feature until a step prefilled): how far coefficient k is the data's own.
  double evidence(int k) const { return xtx_[k][k]; }

 private:
  void add(const StepSample& sample);
  void refit();

  StepTimeModelOptions options_;
  std::array<std::array<double, kStepFeatures>, kStepFeatures> xtx_{};  // decayed Σ x·xᵀ
  std::array<double, kStepFeatures> xty_{};                             // decayed Σ x·y
  std::array<double, kStepFeatures> coefficients_{};
  int64_t num_samples_ = 0;
};

}  // namespace ppd::routing
