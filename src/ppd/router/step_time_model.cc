#include "ppd/router/step_time_model.h"

#include <algorithm>
#include <cmath>

namespace ppd::router {
namespace {

using Vec4 = std::array<double, 4>;
using Mat4 = std::array<Vec4, 4>;

Vec4 features(double prefill_tokens, double decode_sequences, double context_tokens) {
  return {1.0, prefill_tokens, decode_sequences, context_tokens / 1000.0};
}

// Solves a·x = b for a symmetric positive definite 4×4 `a` (Gaussian elimination with
// partial pivoting; the ridge term keeps it well conditioned).
Vec4 solve(Mat4 a, Vec4 b) {
  for (int col = 0; col < 4; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 4; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (int r = col + 1; r < 4; ++r) {
      const double f = a[r][col] / a[col][col];
      for (int c = col; c < 4; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  Vec4 x{};
  for (int r = 3; r >= 0; --r) {
    double s = b[r];
    for (int c = r + 1; c < 4; ++c) s -= a[r][c] * x[c];
    x[r] = s / a[r][r];
  }
  return x;
}

}  // namespace

StepTimeModel::StepTimeModel(StepTimeModelOptions options) : options_(options), coefficients_(options.prior) {}

void StepTimeModel::add(const StepSample& s) {
  const Vec4 x = features(s.num_prefill_tokens, s.num_decode_sequences, static_cast<double>(s.num_context_tokens));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) xtx_[i][j] = options_.decay * xtx_[i][j] + x[i] * x[j];
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

void StepTimeModel::set_prior(const std::array<double, 4>& prior) {
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
  static constexpr Vec4 kTypicalFeature = {1.0, 256.0, 16.0, 8.0};
  Mat4 a = xtx_;
  Vec4 b = xty_;
  for (int k = 0; k < 4; ++k) {
    const double ridge = options_.prior_weight * kTypicalFeature[k] * kTypicalFeature[k];
    a[k][k] += ridge;
    b[k] += ridge * options_.prior[k];
  }
  coefficients_ = solve(a, b);
  for (double& c : coefficients_) c = std::max(c, 0.0);
}

double StepTimeModel::predict_s(int num_prefill_tokens, int num_decode_sequences, int64_t num_context_tokens) const {
  const Vec4 x = features(num_prefill_tokens, num_decode_sequences, static_cast<double>(num_context_tokens));
  double us = 0;
  for (int k = 0; k < 4; ++k) us += coefficients_[k] * x[k];
  return std::max(us, 0.0) * 1e-6;
}

}  // namespace ppd::router
