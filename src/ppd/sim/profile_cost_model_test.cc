#include "ppd/sim/profile_cost_model.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ppd::sim {
namespace {

StepShape decodes(int n, int64_t context) { return {.decode_context_tokens = std::vector<int64_t>(n, context)}; }

StepShape with_prefill(StepShape s, int64_t tokens, int64_t cached) {
  s.prefill_chunks.push_back({.num_tokens = tokens, .num_context_tokens = cached, .samples = true});
  return s;
}

constexpr std::array<double, 5> kTruth = {300, 20, 50, 4000, 900};

// Seven decode, prefill and mixed steps priced by kTruth, each once per factor in `noise`.
std::vector<MeasuredStep> truth_samples(std::initializer_list<double> noise) {
  const ProfileCostModel exact(StepProfile{.coefficients_us = kTruth});
  std::vector<MeasuredStep> samples;
  for (const StepShape& s :
       {decodes(1, 256), decodes(16, 256), decodes(32, 1024), decodes(4, 2048), with_prefill(decodes(1, 256), 256, 0),
        with_prefill(decodes(8, 512), 768, 0), with_prefill(decodes(4, 512), 64, 1024)}) {
    for (double factor : noise) {
      samples.push_back({.shape = s, .step_us = factor * static_cast<double>(exact.step_time_ns(s)) / 1e3});
    }
  }
  return samples;
}

// Steps priced exactly by known coefficients: the fit gives them back.
TEST(ProfileCostModelTest, FitRecoversKnownCoefficients) {
  const std::array<double, 5> truth = kTruth;
  const std::vector<MeasuredStep> samples = truth_samples({1.0});
  const Result<StepProfile> p = fit_profile("test", "small", samples);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(p->coefficients_us[i], truth[i], 1e-3 * truth[i]) << i;
  EXPECT_LT(p->mean_abs_error, 1e-6);
  EXPECT_EQ(p->num_samples, 7);
}

// Each step measured twice, 25% under and 25% over its true cost (mean: the true cost).
// Least squares in relative error alone prices them 11.8% low; the profile prices the mean.
TEST(ProfileCostModelTest, TheFitPricesTheMeanOfNoisySteps) {
  const std::array<double, 5> truth = kTruth;
  const std::vector<MeasuredStep> samples = truth_samples({0.75, 1.25});
  const Result<std::array<double, 5>> relative = fit_step_coefficients(samples);
  ASSERT_TRUE(relative.ok()) << relative.status().to_string();
  const double low = (1 / 0.75 + 1 / 1.25) / (1 / (0.75 * 0.75) + 1 / (1.25 * 1.25));  // 0.882
  for (int i = 0; i < 5; ++i) EXPECT_NEAR((*relative)[i], low * truth[i], 1e-3 * truth[i]) << i;
  const Result<StepProfile> p = fit_profile("test", "small", samples);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(p->coefficients_us[i], truth[i], 1e-3 * truth[i]) << i;
  EXPECT_NEAR(p->mean_abs_error, (1 / 0.75 - 1 / 1.25) / 2, 1e-6);  // relative to the measured times
}

// GPU-like steps: the linear layers cost the same up to 128 tokens (reading the weights), then
// grow per token. The fit finds that floor among the samples' token counts, and the
// coefficients with it; the model prices small and large batches on either side of it.
TEST(ProfileCostModelTest, FitFindsTheTokenFloor) {
  const std::array<double, 5> truth = {6000, 25, 2, 1700, 40};
  const ProfileCostModel exact(StepProfile{.coefficients_us = truth, .token_floor = 128});
  std::vector<MeasuredStep> samples;
  std::vector<StepShape> shapes;
  for (int b : {1, 8, 32, 64, 128, 200, 256}) shapes.push_back(decodes(b, 1024));
  for (int n : {16, 256, 1024, 4096}) shapes.push_back(with_prefill({}, n, 0));
  for (int n : {16, 1024}) shapes.push_back(with_prefill({}, n, 2048));
  shapes.push_back(with_prefill(decodes(200, 1024), 1024, 2048));
  for (const StepShape& s : shapes)
    samples.push_back({.shape = s, .step_us = static_cast<double>(exact.step_time_ns(s)) / 1e3});
  const Result<StepProfile> p = fit_profile("gpu", "llama-3.1-8b", samples);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->token_floor, 128);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(p->coefficients_us[i], truth[i], 1e-3 * truth[i]) << i;
  EXPECT_LT(p->mean_abs_error, 1e-6);
  // Below the floor one decode and sixty-four cost the same linear-layer time: only their
  // sampled rows and KV reads differ.
  const ProfileCostModel fitted(*p);
  EXPECT_NEAR(static_cast<double>(fitted.step_time_ns(decodes(64, 1024)) - fitted.step_time_ns(decodes(1, 1024))) / 1e3,
              63 * 2 + 63 * 40 * 1.024, 1.0);
  // Without the floor the same samples fit worse.
  const Result<std::array<double, 5>> linear = fit_step_coefficients(samples, 0);
  ASSERT_TRUE(linear.ok());
  double worst = 0;
  for (const MeasuredStep& s : samples) {
    const double t =
        static_cast<double>(ProfileCostModel(StepProfile{.coefficients_us = *linear}).step_time_ns(s.shape)) / 1e3;
    worst = std::max(worst, std::abs(t / s.step_us - 1));
  }
  EXPECT_GT(worst, 0.05);
}

// Features by hand: 2 decodes at 100 and 300, a 10-token chunk after 20 that samples.
TEST(ProfileCostModelTest, FeaturesCountTokensRowsAndPairs) {
  const StepFeatures f = step_features(with_prefill({.decode_context_tokens = {100, 300}}, 10, 20));
  EXPECT_EQ(f.tokens, 12);
  EXPECT_EQ(f.sampled_rows, 3);
  EXPECT_EQ(f.prefill_pairs, 10 * (20 + 5.5));
  EXPECT_EQ(f.decode_context, 400);
  EXPECT_EQ(ProfileCostModel(StepProfile{.coefficients_us = {1, 1, 1, 1, 1}}).step_time_ns({}), 0);
}

// Times that fall with more tokens would need a negative coefficient: it is dropped to 0.
TEST(ProfileCostModelTest, CoefficientsStayNonNegative) {
  std::vector<MeasuredStep> samples;
  for (int n = 1; n <= 8; ++n) samples.push_back({.shape = decodes(n, 16), .step_us = 1000.0 - 10 * n});
  const Result<std::array<double, 5>> c = fit_step_coefficients(samples);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  for (double v : *c) EXPECT_GE(v, 0);
}

TEST(ProfileCostModelTest, BadSamplesAndFilesNameTheField) {
  EXPECT_EQ(fit_step_coefficients({}).status().message(), "samples: at least 5 measured steps are needed; got 0");
  std::vector<MeasuredStep> samples(5, {.shape = decodes(1, 1), .step_us = 1});
  samples[2].step_us = -1;
  EXPECT_EQ(fit_step_coefficients(samples).status().message(), "samples[2].step_us: must be > 0; got -1");
  const StepProfile p{
      .name = "cpu", .model = "small", .coefficients_us = {1, 2, 3, 4, 5}, .mean_abs_error = 0.05, .num_samples = 24};
  const Result<StepProfile> back = profile_from_json(to_json(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->coefficients_us, p.coefficients_us);
  EXPECT_EQ(back->name, "cpu");
  nlohmann::json j = to_json(p);
  j["coefficients_us"] = {1, 2, 3};
  EXPECT_EQ(profile_from_json(j).status().message(), "coefficients_us: expected 5 numbers >= 0; got [1,2,3]");
  j["coefficients_us"] = {1, 2, 3, 4, 5};
  j["token_floor"] = 96;
  ASSERT_TRUE(profile_from_json(j).ok());
  EXPECT_EQ(profile_from_json(j)->token_floor, 96);
  EXPECT_EQ(profile_from_json(to_json(StepProfile{.token_floor = 7}))->token_floor, 7);
  j["token_floor"] = -3;
  EXPECT_EQ(profile_from_json(j).status().message(), "token_floor: expected an integer >= 0; got -3");
  j.erase("token_floor");
  EXPECT_EQ(profile_from_json(j)->token_floor, 0);
  EXPECT_EQ(profile_from_json(j)->device_memory_bytes, 0);
  EXPECT_EQ(profile_from_json(to_json(StepProfile{.device_memory_bytes = 85017493504}))->device_memory_bytes,
            85017493504);
  j["device_memory_bytes"] = "80GB";
  EXPECT_EQ(profile_from_json(j).status().message(), "device_memory_bytes: expected an integer >= 0; got \"80GB\"");
  j.erase("device_memory_bytes");
  j["kind"] = "other";
  EXPECT_EQ(profile_from_json(j).status().message(), "kind: expected \"ppd-step-profile\"; got \"other\"");
}

// A fitted profile keeps its samples, and its file carries them back.
TEST(ProfileCostModelTest, ProfileFileKeepsItsSamples) {
  std::vector<MeasuredStep> samples;
  for (int n = 1; n <= 4; ++n) samples.push_back({.shape = decodes(n, 100), .step_us = 1000.0 + 200 * n});
  samples.push_back({.shape = with_prefill(decodes(2, 50), 64, 32), .step_us = 9000});
  const Result<StepProfile> p = fit_profile("cpu", "small", samples);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->samples.size(), 5u);
  const Result<StepProfile> back = profile_from_json(to_json(*p));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->samples.size(), 5u);
  EXPECT_EQ(back->samples[4].shape.decode_context_tokens, (std::vector<int64_t>{50, 50}));
  ASSERT_EQ(back->samples[4].shape.prefill_chunks.size(), 1u);
  EXPECT_EQ(back->samples[4].shape.prefill_chunks[0].num_tokens, 64);
  EXPECT_EQ(back->samples[4].shape.prefill_chunks[0].num_context_tokens, 32);
  EXPECT_TRUE(back->samples[4].shape.prefill_chunks[0].samples);
  EXPECT_EQ(back->samples[4].step_us, 9000);
  nlohmann::json j = to_json(*p);
  j["samples"][1]["step_us"] = 0;
  EXPECT_EQ(profile_from_json(j).status().message(), "samples[1].step_us: expected a number > 0; got 0");
  j = to_json(*p);
  j["samples"][4]["prefill_chunks"][0] = {0, 32, true};
  EXPECT_EQ(profile_from_json(j).status().message(),
            "samples[4].prefill_chunks: expected [tokens >= 1, context >= 0, samples]; got [0,32,true]");
}

}  // namespace
}  // namespace ppd::sim
