#include "ppd/routing/step_time_model.h"

#include <algorithm>
#include <cmath>

namespace ppd::routing {
namespace {

constexpr int kN = kStepFeatures;
using Vec = std::array<double, kN>;
using Mat = std::array<Vec, kN>;

Vec features(double prefill_tokens, double decode_sequences, double decode_context_tokens, double prefill_pairs) {
  return {1.0, prefill_tokens, decode_sequences, decode_context_tokens / 1000.0, prefill_pairs / 1e6};
}

// Solves a·x = b for a symmetric positive definite `a` (Gaussian elimination with partial
// pivoting; the ridge term keeps it well conditioned).
Vec solve(Mat a, Vec b) {
  for (int col = 0; col < kN; ++col) {
    int pivot = col;
    for (int r = col + 1; r < kN; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (int r = col + 1; r < kN; ++r) {
      const double f = a[r][col] / a[col][col];
      for (int c = col; c < kN; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  Vec x{};
  for (int r = kN - 1; r >= 0; --r) {
    double s = b[r];
    for (int c = r + 1; c < kN; ++c) s -= a[r][c] * x[c];
    x[r] = s / a[r][r];
  }
  return x;
}

}  // namespace

StepTimeModel::StepTimeModel(StepTimeModelOptions options) : options_(options), coefficients_(options.prior) {}

void StepTimeModel::add(const StepSample& s) {
  const Vec x = features(s.num_prefill_tokens, s.num_decode_sequences, static_cast<double>(s.num_decode_context_tokens),
                         s.num_prefill_pairs);
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) xtx_[i][j] = options_.decay * xtx_[i][j] + x[i] * x[j];
    xty_[i] = options_.decay * xty_[i] + x[i] * s.step_us;
  }
  ++num_samples_;
}

void StepTimeModel::observe(const StepSample& s) {
  add(s);
  refit();
}

void StepTimeModel::observe(std::span<const StepSample> samples) {
  if (samples.empty()) return;
  for (const StepSample& s : samples) add(s);
  refit();
}

void StepTimeModel::set_prior(const std::array<double, kStepFeatures>& prior) {
  options_.prior = prior;
  refit();
}

// Ridge regression towards the prior, with the ridge scaled per feature by the prior's own
// scale so that one pseudo-sample of weight prior_weight means the same for every feature:
// minimise Σ w (y − x·c)² + λ Σ_k s_k² (c_k − p_k)², s = a typical feature value.
void StepTimeModel::refit() {
  if (num_samples_ == 0) {
    coefficients_ = options_.prior;
    return;
  }
  static constexpr Vec kTypicalFeature = {1.0, 256.0, 16.0, 8.0, 1.0};
  Mat a = xtx_;
  Vec b = xty_;
  for (int k = 0; k < kN; ++k) {
    const double ridge = options_.prior_weight * kTypicalFeature[k] * kTypicalFeature[k];
    a[k][k] += ridge;
    b[k] += ridge * options_.prior[k];
  }
  coefficients_ = solve(a, b);
  for (double& c : coefficients_) c = std::max(c, 0.0);
}

double StepTimeModel::predict_s(int num_prefill_tokens, int num_decode_sequences, int64_t num_decode_context_tokens,
                                double num_prefill_pairs) const {
  const Vec x = features(num_prefill_tokens, num_decode_sequences, static_cast<double>(num_decode_context_tokens),
                         num_prefill_pairs);
  double us = 0;
  for (int k = 0; k < kN; ++k) us += coefficients_[k] * x[k];
  return std::max(us, 0.0) * 1e-6;
}

}  // namespace ppd::routing
