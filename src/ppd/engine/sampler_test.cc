#include "ppd/engine/sampler.h"

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace ppd::engine {
namespace {

request::SamplingParams random_params(double temperature, int top_k = 0, double top_p = 1.0) {
  request::SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  return p;
}

TEST(SamplerTest, GreedyTakesTheFirstMaximum) {
  Sampler s;
  const std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  request::SamplingParams p = random_params(0.0);
  EXPECT_EQ(s.sample({.logits = logits, .params = &p}), 1);
  const std::vector<TokenId> masked = {1};
  EXPECT_EQ(s.sample({.logits = logits, .params = &p, .masked_ids = masked}), 3);
  p = random_params(1.0, /*top_k=*/1);
  EXPECT_EQ(s.sample({.logits = logits, .params = &p, .seed = 9}), 1);
}

TEST(SamplerTest, SameSeedAndIndexSameToken) {
  Sampler s;
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[static_cast<size_t>(i)] = std::sin(static_cast<float>(i));
  request::SamplingParams p = random_params(1.0);
  for (int index = 0; index < 20; ++index) {
    const TokenId a = s.sample({.logits = logits, .params = &p, .seed = 7, .output_index = index});
    const TokenId b = s.sample({.logits = logits, .params = &p, .seed = 7, .output_index = index});
    EXPECT_EQ(a, b);
  }
  int differ = 0;
  for (int index = 0; index < 20; ++index) {
    differ += s.sample({.logits = logits, .params = &p, .seed = 7, .output_index = index}) !=
              s.sample({.logits = logits, .params = &p, .seed = 8, .output_index = index});
  }
  EXPECT_GT(differ, 5);
}

// Draw many samples and compare frequencies with the distribution the parameters define.
std::map<TokenId, double> frequencies(const std::vector<float>& logits, const request::SamplingParams& p, int n) {
  Sampler s;
  std::map<TokenId, double> freq;
  for (int i = 0; i < n; ++i) freq[s.sample({.logits = logits, .params = &p, .seed = 1, .output_index = i})] += 1.0 / n;
  return freq;
}

TEST(SamplerTest, TemperatureFollowsSoftmax) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto f = frequencies(logits, random_params(1.0), 20000);
  EXPECT_NEAR(f[0], 0.5, 0.02);
  EXPECT_NEAR(f[1], 0.3, 0.02);
  EXPECT_NEAR(f[2], 0.2, 0.02);
  // T = 0.5 squares and renormalizes: 0.25, 0.09, 0.04 over 0.38.
  f = frequencies(logits, random_params(0.5), 20000);
  EXPECT_NEAR(f[0], 0.25 / 0.38, 0.02);
  EXPECT_NEAR(f[2], 0.04 / 0.38, 0.02);
}

TEST(SamplerTest, TopKAndTopPCutTheTail) {
  const std::vector<float> logits = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
  auto f = frequencies(logits, random_params(1.0, /*top_k=*/2), 20000);
  EXPECT_EQ(f.count(2), 0u);
  EXPECT_EQ(f.count(3), 0u);
  EXPECT_NEAR(f[0], 0.4 / 0.7, 0.02);
  // top_p 0.65: 0.4 + 0.3 reaches it, so {0, 1} are kept.
  f = frequencies(logits, random_params(1.0, 0, 0.65), 20000);
  EXPECT_EQ(f.count(2), 0u);
  EXPECT_NEAR(f[1], 0.3 / 0.7, 0.02);
  // top_k 3 then top_p 0.5 of the renormalized top 3 (0.44, 0.33, 0.22): {0, 1}.
  f = frequencies(logits, random_params(1.0, 3, 0.5), 20000);
  EXPECT_EQ(f.count(2), 0u);
  EXPECT_EQ(f.size(), 2u);
}

TEST(SamplerTest, MaskedIdsAreNeverDrawn) {
  const std::vector<float> logits = {5.0f, 0.0f, 0.0f};
  const std::vector<TokenId> masked = {0};
  Sampler s;
  request::SamplingParams p = random_params(1.0);
  for (int i = 0; i < 200; ++i) {
    EXPECT_NE(s.sample({.logits = logits, .params = &p, .seed = 3, .output_index = i, .masked_ids = masked}), 0);
  }
}

TEST(SamplerTest, NonFiniteLogitsGiveAnInvalidToken) {
  Sampler s;
  const float nan = std::nanf("");
  const float inf = std::numeric_limits<float>::infinity();
  for (double temperature : {0.0, 1.0}) {
    request::SamplingParams p = random_params(temperature);
    EXPECT_EQ(s.sample({.logits = std::vector<float>{nan, 1.0f, 2.0f}, .params = &p}), sched::kInvalidToken);
    EXPECT_EQ(s.sample({.logits = std::vector<float>{1.0f, 2.0f, nan}, .params = &p}), sched::kInvalidToken);
    EXPECT_EQ(s.sample({.logits = std::vector<float>{1.0f, inf}, .params = &p}), sched::kInvalidToken);
    const std::vector<TokenId> all = {0, 1};
    EXPECT_EQ(s.sample({.logits = std::vector<float>{1.0f, 2.0f}, .params = &p, .masked_ids = all}),
              sched::kInvalidToken);
  }
}

TEST(SamplerTest, TinyTemperatureIsGreedy) {
  Sampler s;
  std::vector<float> logits(100, 0.0f);
  logits[7] = 1.0f;
  for (double t : {1e-3, 1e-6, 1e-30, 1e-39, 1e-40}) {
    request::SamplingParams p = random_params(t);
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(s.sample({.logits = logits, .params = &p, .seed = 5, .output_index = i}), 7) << t;
  }
}

TEST(SamplerTest, UniformDrawIsInUnitInterval) {
  for (int i = 0; i < 1000; ++i) {
    const double u = uniform_draw(12345, i);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace ppd::engine
