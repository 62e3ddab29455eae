// Tokenizer tests on the real TinyStories-656K tokenizer.json (SentencePiece-style BPE).
// Expected ids come from an independent Python reference of HF's BPE run on the same file.
#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

#include "ppd/tokenizer/chat_template.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {
namespace {

class TinyStoriesTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* shared_dir = std::getenv("PPD_SHARED_DIR");
    if (shared_dir == nullptr) GTEST_SKIP() << "PPD_SHARED_DIR is not set; needs the TinyStories model";
    Result<Tokenizer> loaded = Tokenizer::load(std::string(shared_dir) + "/models/tinystories-656k");
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    tokenizer_.emplace(std::move(loaded).value());
  }

  std::vector<TokenId> encode(std::string_view text) const {
    Result<std::vector<TokenId>> ids = tokenizer_->encode(text);
    EXPECT_TRUE(ids.ok()) << ids.status().to_string();
    return ids.ok() ? *ids : std::vector<TokenId>{};
  }
  std::string decode(const std::vector<TokenId>& ids, DecodeOptions options = {}) const {
    Result<std::string> text = tokenizer_->decode(ids, options);
    EXPECT_TRUE(text.ok()) << text.status().to_string();
    return text.ok() ? *text : "";
  }

  std::optional<Tokenizer> tokenizer_;
};

struct Vector {
  std::string text;
  std::vector<TokenId> ids;
  std::string decoded;  // decode(ids): differs from text where <unk> stands in
};

TEST_F(TinyStoriesTokenizerTest, EncodesLikeTheReference) {
  const std::vector<Vector> vectors = {
      {"Once upon a time, there was a little girl named Lily.", {80, 147, 201, 282, 215, 286, 598, 629, 10}, ""},
      {"Hello world", {80, 1288, 139, 410, 555}, ""},
      {"The dog said, \"Let's play!\" and ran away.", {80, 247, 401, 1991, 220, 4, 5, 100, 494, 738, 10}, ""},
      {"I have 3 apples and 42 bananas.",
       {80, 276, 357, 14, 85, 68, 125, 791, 15, 13, 80, 54, 116, 116, 53, 71, 10},
       ""},
      {"Line one.\nLine two.\n\nEnd", {80, 37, 1780, 719, 122, 37, 1780, 865, 67, 122, 3, 30, 389}, ""},
      {" leading space", {80, 80, 656, 56, 149, 415, 53, 682}, ""},
      {"trailing space ", {80, 925, 129, 149, 415, 53, 201}, ""},
      {"multiple   spaces  here", {80, 439, 64, 548, 785, 80, 80, 415, 53, 55, 368, 962, 57}, ""},
      {"café", {80, 295, 58, 0}, "caf<unk>"},  // no byte tokens in this vocab: é is <unk>
      {"日本語", {80, 0}, "<unk>"},            // fused unk
      {"I love 🐶!", {80, 276, 985, 0, 4}, "I love <unk>!"},
      {"<|start_story|>Hi", {1, 1158}, ""},
      {"Tim and Sue went to the park. <|end_story|>",
       {80, 760, 566, 1844, 10, 2},
       "Tim and Sue went to the park.<|end_story|>"},  // "▁<|end_story|>" is the match
      {"", {}, ""},
      {" ", {80, 80}, ""},
      {"a", {85}, ""},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(encode(v.text), v.ids) << v.text;
    EXPECT_EQ(decode(v.ids), v.decoded.empty() ? v.text : v.decoded) << v.text;
  }
}

TEST_F(TinyStoriesTokenizerTest, DecodesTheReferenceGeneration) {
  const std::vector<TokenId> generated = {147, 201, 282, 215, 286, 598, 1662, 356, 499, 826, 1363, 1145, 1652};
  EXPECT_EQ(decode(generated),
            "Once upon a time, there was a little girl named Lily. She had a toy car that she "
            "loved very much");
  EXPECT_EQ(decode({generated.begin(), generated.begin() + 7}),
            "Once upon a time, there was a little girl named Lily. She ");
  // Encoding the text gives a leading "▁" (80) and then exactly the generated ids.
  std::vector<TokenId> expected = {80};
  expected.insert(expected.end(), generated.begin(), generated.end());
  EXPECT_EQ(encode("Once upon a time, there was a little girl named Lily. She had a toy car "
                   "that she loved very much"),
            expected);
}

TEST_F(TinyStoriesTokenizerTest, SpecialTokens) {
  EXPECT_EQ(tokenizer_->vocab_size(), 2048);
  EXPECT_EQ(tokenizer_->bos_id(), 1);
  EXPECT_EQ(tokenizer_->eos_id(), 2);
  EXPECT_EQ(tokenizer_->bos_token(), "<|start_story|>");
  EXPECT_EQ(tokenizer_->eos_token(), "<|end_story|>");
  EXPECT_TRUE(tokenizer_->add_bos_token());
  EXPECT_TRUE(tokenizer_->is_special(1));
  EXPECT_FALSE(tokenizer_->is_special(80));
  EXPECT_EQ(tokenizer_->token_to_id("▁"), 80);
  EXPECT_EQ(tokenizer_->id_to_token(147), "On");
  EXPECT_EQ(tokenizer_->chat_template_source(), "");
  EXPECT_EQ(select_chat_template("auto", *tokenizer_).value(), ChatTemplateKind::kPlain);

  Result<std::vector<TokenId>> with_bos = tokenizer_->encode("Hello world", {.add_bos = true});
  ASSERT_TRUE(with_bos.ok());
  EXPECT_EQ(*with_bos, (std::vector<TokenId>{1, 80, 1288, 139, 410, 555}));
  EXPECT_EQ(decode({1, 147, 201, 2}), "<|start_story|>Once <|end_story|>");
  EXPECT_EQ(decode({1, 147, 201, 2}, {.skip_special_tokens = true}), "Once ");
}

TEST_F(TinyStoriesTokenizerTest, RoundTripsTextOfItsAlphabet) {
  // Every single-character token except '<' and '|' (which could spell an added token).
  const std::string alphabet = " \n!\"$',-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    std::string text;
    const int length = static_cast<int>(rng() % 60);
    for (int i = 0; i < length; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    EXPECT_EQ(decode(encode(text)), text) << "seed " << seed;
  }
}

}  // namespace
}  // namespace ppd::tokenizer
