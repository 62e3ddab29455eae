#include "ppd/engine/rope_table.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace ppd::engine {
namespace {

model::ModelConfig base_config() {
  model::ModelConfig c;
  c.head_dim = 8;
  c.rope_theta = 10000.0;
  return c;
}

TEST(RopeTableTest, PlainFrequenciesAndAngles) {
  const model::ModelConfig c = base_config();
  const auto inv = rope_inverse_frequencies(c);
  ASSERT_EQ(inv.size(), 4u);
  EXPECT_DOUBLE_EQ(inv[0], 1.0);
  EXPECT_NEAR(inv[1], std::pow(10000.0, -0.25), 1e-15);
  RopeTable table(c, 16);
  const float* row = table.row(5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(row[i], std::cos(5 * inv[static_cast<size_t>(i)]), 1e-7);
    EXPECT_NEAR(row[4 + i], std::sin(5 * inv[static_cast<size_t>(i)]), 1e-7);
  }
}

TEST(RopeTableTest, Llama3ScalingKeepsHighAndScalesLowFrequencies) {
  model::ModelConfig c = base_config();
  c.head_dim = 128;
  c.rope_theta = 500000.0;
  c.rope_scaling = {.kind = model::RopeScalingKind::kLlama3,
                    .factor = 8.0,
                    .low_freq_factor = 1.0,
                    .high_freq_factor = 4.0,
                    .original_max_position_embeddings = 8192};
  model::ModelConfig plain = c;
  plain.rope_scaling = {};
  const auto scaled = rope_inverse_frequencies(c);
  const auto base = rope_inverse_frequencies(plain);
  // Wavelength 2*pi/f: < 8192/4 kept, > 8192/1 divided by 8, smooth in between.
  for (size_t i = 0; i < base.size(); ++i) {
    const double wavelen = 2 * std::numbers::pi / base[i];
    if (wavelen < 2048) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i]) << i;
    } else if (wavelen > 8192) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i] / 8) << i;
    } else {
      EXPECT_LT(scaled[i], base[i]);
      EXPECT_GT(scaled[i], base[i] / 8);
    }
  }
  EXPECT_DOUBLE_EQ(scaled[0], 1.0);
  // A mid-band value worked by hand: i = 32 has wavelength 2*pi*sqrt(500000) = 4443.
  const double f = std::pow(500000.0, -64.0 / 128);
  const double smooth = (8192 / (2 * std::numbers::pi / f) - 1.0) / 3.0;
  EXPECT_NEAR(scaled[32], (1 - smooth) * f / 8 + smooth * f, 1e-18);
}

TEST(RopeTableTest, LinearScalingDividesEveryFrequency) {
  model::ModelConfig c = base_config();
  c.rope_scaling = {.kind = model::RopeScalingKind::kLinear, .factor = 2.0};
  const auto inv = rope_inverse_frequencies(c);
  EXPECT_DOUBLE_EQ(inv[0], 0.5);
}

}  // namespace
}  // namespace ppd::engine
