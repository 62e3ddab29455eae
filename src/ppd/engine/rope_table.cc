#include "ppd/engine/rope_table.h"

#include <cmath>
#include <numbers>

#include "ppd/common/check.h"

namespace ppd::engine {
namespace {

// Llama 3.1's frequency-dependent scaling: long wavelengths are stretched by `factor`,
// short ones kept, and the band between blended smoothly.
double llama3_scale(double inv_freq, const model::RopeScaling& s) {
  const double old_len = s.original_max_position_embeddings;
  const double low_freq_wavelen = old_len / s.low_freq_factor;
  const double high_freq_wavelen = old_len / s.high_freq_factor;
  const double wavelen = 2.0 * std::numbers::pi / inv_freq;
  if (wavelen < high_freq_wavelen) return inv_freq;
  if (wavelen > low_freq_wavelen) return inv_freq / s.factor;
  const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * inv_freq / s.factor + smooth * inv_freq;
}

}  // namespace

std::vector<double> rope_inverse_frequencies(const model::ModelConfig& config) {
  const int half = config.head_dim / 2;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(config.rope_theta, 2.0 * i / config.head_dim);
    switch (config.rope_scaling.kind) {
      case model::RopeScalingKind::kNone:
        break;
      case model::RopeScalingKind::kLinear:
        f /= config.rope_scaling.factor;
        break;
      case model::RopeScalingKind::kLlama3:
        f = llama3_scale(f, config.rope_scaling);
        break;
    }
    inv[static_cast<size_t>(i)] = f;
  }
  return inv;
}

RopeTable::RopeTable(const model::ModelConfig& config, int max_positions)
    : head_dim_(config.head_dim), max_positions_(max_positions) {
  PPD_CHECK(head_dim_ % 2 == 0 && max_positions >= 1);
  const std::vector<double> inv = rope_inverse_frequencies(config);
  const int half = head_dim_ / 2;
  table_.resize(static_cast<size_t>(max_positions) * head_dim_);
  for (int p = 0; p < max_positions; ++p) {
    float* row = &table_[static_cast<size_t>(p) * head_dim_];
    for (int i = 0; i < half; ++i) {
      const double angle = p * inv[static_cast<size_t>(i)];
      row[i] = static_cast<float>(std::cos(angle));
      row[half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

}  // namespace ppd::engine
