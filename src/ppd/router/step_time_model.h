// StepTimeModel: a node's engine step time as a linear function of the batch, fitted online
// from the steps the node reports (no offline sweep):
//   step_us ≈ c0 + c1·prefill_tokens + c2·decode_sequences + c3·context_tokens / 1000
// by exponentially weighted least squares, regularised towards prior coefficients, so that a
// node that has never prefilled still predicts prefill from the prior. Coefficients are kept
// non-negative. Pure value type; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace ppd::router {

// One engine step as nodes report it in `recent_steps`.
struct StepSample {
  int num_prefill_tokens = 0;
  int num_decode_sequences = 0;
  int64_t num_context_tokens = 0;  // sum over the batch's chunks of their end position
  double step_us = 0;
};

struct StepTimeModelOptions {
  // Prior coefficients {c0 µs, µs per prefill token, µs per decode sequence, µs per 1000
  // context tokens}; what predict() returns before any sample.
  std::array<double, 4> prior = {1000.0, 100.0, 200.0, 50.0};
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
  double predict_s(int num_prefill_tokens, int num_decode_sequences, int64_t num_context_tokens) const;
  // The current coefficients, in the prior's units.
  const std::array<double, 4>& coefficients() const { return coefficients_; }
  // Replaces the prior (e.g. with a cluster-wide fit) and refits. Mutates.
  void set_prior(const std::array<double, 4>& prior);
  int64_t num_samples() const { return num_samples_; }
  // How much of feature k the samples carried (their decayed Σ x_k²; 0 before any sample, and
  // for the prefill feature until a step prefilled): how far coefficient k is the data's own.
  double evidence(int k) const { return xtx_[k][k]; }

 private:
  void add(const StepSample& sample);
  void refit();

  StepTimeModelOptions options_;
  std::array<std::array<double, 4>, 4> xtx_{};  // decayed Σ x·xᵀ
  std::array<double, 4> xty_{};                 // decayed Σ x·y
  std::array<double, 4> coefficients_{};
  int64_t num_samples_ = 0;
};

}  // namespace ppd::router
