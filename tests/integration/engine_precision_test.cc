// Weights in half precision and 8 bits against F32 on TinyStories-656K: greedy BF16/F16 tokens
// from BOS equal the F32 reference, and Q8_0's top-1 agrees with F32's on teacher-forced text.
#include <algorithm>
#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

std::unique_ptr<engine::Engine> engine_with(const std::string& dir, const std::string& dtype,
                                            const std::string& quantize = "none") {
  engine::EngineOptions options = test_options(1024);
  options.dtype = dtype;
  options.quantize = quantize;
  return make_engine(dir, options);
}

TEST(PrecisionTest, HalfPrecisionGreedyMatchesF32From40TokensOfBos) {
  PPD_REQUIRE_TINYSTORIES(dir);
  for (const char* dtype : {"bf16", "f16"}) {
    SCOPED_TRACE(dtype);
    auto engine = engine_with(dir, dtype);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(weight_format_name(engine->weight_format()), dtype);
    const Completion c = run_one(*engine, {1}, greedy(60));
    ASSERT_EQ(c.tokens.size(), 60u);
    int same = 0;
    while (same < 60 && c.tokens[same] == kTinyStoriesGreedyFromBos[same]) ++same;
    std::cout << dtype << ": the first " << same << " of 60 greedy tokens equal F32's\n";
    EXPECT_GE(same, 40);
  }
}

// A converted model, or another KV dtype, is another model to the prefix cache: its block
// hashes differ; the checkpoint's identity stays.
TEST(PrecisionTest, ConversionChangesTheBlockHashSeed) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto f32 = engine_with(dir, "auto");
  auto same = engine_with(dir, "f32");  // TinyStories is stored in F32: nothing converted
  auto bf16 = engine_with(dir, "bf16");
  auto q8 = engine_with(dir, "auto", "q8_0");
  engine::EngineOptions f16_kv_options = test_options(1024);
  f16_kv_options.kv_dtype = "f16";
  auto f16_kv = make_engine(dir, f16_kv_options);
  ASSERT_TRUE(f32 && same && bf16 && q8 && f16_kv);
  EXPECT_EQ(f32->kv_hash_seed(), f32->model_identity());
  EXPECT_EQ(f32->kv_hash_seed(), same->kv_hash_seed());
  EXPECT_EQ(bf16->kv_dtype(), Dtype::kBF16);  // auto: the weights' half precision
  EXPECT_EQ(q8->kv_dtype(), Dtype::kF32);     // auto: the checkpoint's dtype
  std::set<uint64_t> seeds;
  for (auto* e : {f32.get(), bf16.get(), q8.get(), f16_kv.get()}) {
    EXPECT_EQ(e->model_identity(), f32->model_identity());
    seeds.insert(e->kv_hash_seed());
  }
  EXPECT_EQ(seeds.size(), 4u);
}

// The argmax of the next-token logits after each prefix of `text` (BOS first).
std::vector<TokenId> teacher_forced_top1(engine::Engine& engine, const std::vector<TokenId>& text) {
  std::vector<TokenId> top1;
  for (size_t t = 0; t < text.size(); ++t) {
    std::vector<TokenId> prompt = {1};
    prompt.insert(prompt.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(t));
    const Completion c = run_one(engine, prompt, greedy(1, /*return_logits=*/true));
    const std::vector<float>& logits = c.logits.at(0);
    top1.push_back(static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
  }
  return top1;
}

TEST(PrecisionTest, Q8TopOneAgreesWithF32OnTeacherForcedText) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto f32 = engine_with(dir, "auto");
  auto q8 = engine_with(dir, "auto", "q8_0");
  ASSERT_TRUE(f32 && q8);
  EXPECT_EQ(q8->weight_format(), WeightFormat::kQ8_0);
  // 500 positions of text: four sampled F32 stories of 125 tokens (seeded, so fixed).
  int agree = 0, total = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    request::SamplingParams params = greedy(125);
    params.temperature = 0.8;
    params.seed = seed;
    params.ignore_eos = true;
    const std::vector<TokenId> text = run_one(*f32, {1}, params).tokens;
    ASSERT_EQ(text.size(), 125u);
    const std::vector<TokenId> a = teacher_forced_top1(*f32, text);
    const std::vector<TokenId> b = teacher_forced_top1(*q8, text);
    for (size_t i = 0; i < a.size(); ++i) agree += a[i] == b[i];
    total += static_cast<int>(a.size());
  }
  ASSERT_EQ(total, 500);
  RecordProperty("q8_top1_agreement", std::to_string(agree) + "/" + std::to_string(total));
  std::cout << "q8_0 top-1 agreement with f32: " << agree << "/" << total << "\n";
  EXPECT_GE(agree, 475) << agree << "/" << total;  // >= 95%
}

}  // namespace
}  // namespace ppd::testing
