// Tokenizer::max_input_bytes_per_token(): the bound holds on every test tokenizer over random
// text (encoding n bytes gives at least ceil(n / bound) tokens), and it is 0 where a tokenizer
// can drop text.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/tokenizer/test_tokenizers.h"

namespace ppd::tokenizer::testing {
namespace {

void expect_bound_holds(const Tokenizer& tok, const std::string& name) {
  const int64_t bound = tok.max_input_bytes_per_token();
  ASSERT_GT(bound, 0) << name;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::string text = random_unicode(seed, 1 + static_cast<int>(seed) * 7);
    if (seed % 4 == 0) text = std::string(seed * 50, ' ');  // runs that merge into long tokens
    const Result<std::vector<TokenId>> ids = tok.encode(text);
    ASSERT_TRUE(ids.ok()) << name << ": " << ids.status().to_string();
    const auto min_tokens = (static_cast<int64_t>(text.size()) + bound - 1) / bound;
    EXPECT_GE(static_cast<int64_t>(ids->size()), min_tokens) << name << " seed " << seed;
  }
}

TEST(InputBoundTest, HoldsForEveryStyleOfTokenizer) {
  expect_bound_holds(must_load(byte_level_tokenizer_json(ByteLevelStyle::kGpt2)), "gpt2");
  expect_bound_holds(must_load(byte_level_tokenizer_json(ByteLevelStyle::kLlama3)), "llama3");
  expect_bound_holds(must_load(byte_level_tokenizer_json(ByteLevelStyle::kQwen2)), "qwen2");
  expect_bound_holds(must_load(sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2)), "llama2");
  expect_bound_holds(must_load(sentencepiece_tokenizer_json(SentencePieceStyle::kMistral)), "mistral");
}

TEST(InputBoundTest, NormalizationThatCanShrinkTextScalesTheBound) {
  // Qwen 2's NFC can compose three bytes into fewer, so its bound is three times its longest token.
  const Tokenizer qwen = must_load(byte_level_tokenizer_json(ByteLevelStyle::kQwen2));
  const Tokenizer gpt2 = must_load(byte_level_tokenizer_json(ByteLevelStyle::kGpt2));
  EXPECT_GE(qwen.max_input_bytes_per_token(), 3 * 4);
  EXPECT_LT(gpt2.max_input_bytes_per_token(), qwen.max_input_bytes_per_token());
}

TEST(InputBoundTest, NoBoundWhereTextCanBeDropped) {
  nlohmann::json removing = nlohmann::json::parse(byte_level_tokenizer_json(ByteLevelStyle::kLlama3));
  removing["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  EXPECT_EQ(must_load(removing.dump()).max_input_bytes_per_token(), 0);
  nlohmann::json shrinking = nlohmann::json::parse(sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2));
  shrinking["normalizer"]["normalizers"][1]["content"] = "";
  EXPECT_EQ(must_load(shrinking.dump()).max_input_bytes_per_token(), 0);
}

}  // namespace
}  // namespace ppd::tokenizer::testing
