// SentencePiece-style BPE (Llama 2, Mistral, Metaspace-decoder shapes) on small tokenizers
// built in code: merges, byte fallback, added tokens around normalization, decoding.
#include <gtest/gtest.h>

#include "ppd/tokenizer/test_tokenizers.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {
namespace {

using testing::SentencePieceStyle;
using Strings = std::vector<std::string>;

class SentencePieceBpeTest : public ::testing::Test {
 protected:
  Strings tokens(const Tokenizer& tokenizer, std::string_view text) const {
    Result<std::vector<TokenId>> ids = tokenizer.encode(text);
    EXPECT_TRUE(ids.ok()) << ids.status().to_string();
    return testing::tokens_of(tokenizer, ids.ok() ? *ids : std::vector<TokenId>{});
  }
  std::string decode_tokens(const Tokenizer& tokenizer, const Strings& tokens) const {
    std::vector<TokenId> ids;
    for (const std::string& token : tokens) ids.push_back(tokenizer.token_to_id(token).value_or(-1));
    Result<std::string> text = tokenizer.decode(ids);
    EXPECT_TRUE(text.ok()) << text.status().to_string();
    return text.ok() ? *text : "";
  }

  Tokenizer llama2_ = testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2));
  Tokenizer mistral_ = testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kMistral));
  Tokenizer metaspace_ =
      testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kMetaspaceDecoder));
};

TEST_F(SentencePieceBpeTest, Llama2Normalizer) {
  EXPECT_EQ(tokens(llama2_, "the is a"), (Strings{"▁the", "▁is", "▁a"}));
  EXPECT_EQ(tokens(llama2_, "é"), (Strings{"▁", "<0xC3>", "<0xA9>"}));
  EXPECT_EQ(tokens(llama2_, "🐶"), (Strings{"▁", "<0xF0>", "<0x9F>", "<0x90>", "<0xB6>"}));
  // Non-normalized added tokens split the raw text; each side is normalized on its own.
  EXPECT_EQ(tokens(llama2_, "<s>Hi"), (Strings{"<s>", "▁", "H", "i"}));
  EXPECT_EQ(tokens(llama2_, "Hi</s>"), (Strings{"▁", "H", "i", "</s>"}));
  EXPECT_EQ(decode_tokens(llama2_, {"<s>", "▁", "H", "i"}), "<s> Hi");
  EXPECT_EQ(decode_tokens(llama2_, {"▁the", "▁is", "<0xC3>", "<0xA9>"}), "the isé");
  EXPECT_EQ(decode_tokens(llama2_, {"▁", "▁the"}), " the");  // Strip takes one space only
}

TEST_F(SentencePieceBpeTest, Llama2RoundTripsRandomUnicode) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    const std::string text = testing::random_unicode(seed, static_cast<int>(seed % 50));
    Result<std::vector<TokenId>> ids = llama2_.encode(text);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    EXPECT_EQ(*llama2_.decode(*ids), text) << "seed " << seed;
  }
}

TEST_F(SentencePieceBpeTest, MistralMetaspacePrependsFirstOnly) {
  EXPECT_EQ(tokens(mistral_, "the is"), (Strings{"▁the", "▁is"}));
  EXPECT_EQ(tokens(mistral_, " the"), (Strings{"▁the"}));  // already starts with ▁
  EXPECT_EQ(tokens(mistral_, "<s>the"), (Strings{"<s>", "t", "he"}));
  EXPECT_EQ(tokens(mistral_, "the<s>the"), (Strings{"▁the", "<s>", "t", "he"}));
  EXPECT_EQ(decode_tokens(mistral_, {"▁the", "▁is"}), "the is");
}

TEST_F(SentencePieceBpeTest, MetaspaceDecoderDropsTheFirstReplacement) {
  EXPECT_EQ(tokens(metaspace_, "the is"), (Strings{"▁the", "▁is"}));
  EXPECT_EQ(tokens(metaspace_, "<s>the"), (Strings{"<s>", "▁the"}));
  EXPECT_EQ(decode_tokens(metaspace_, {"▁the", "▁is"}), "the is");
  EXPECT_EQ(decode_tokens(metaspace_, {"<s>", "▁the"}), "<s> the");
}

TEST_F(SentencePieceBpeTest, LongWordMergesQuickly) {
  // One 200k-character "word": the priority-queue merge keeps this well under a second.
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "the is a ";
  Result<std::vector<TokenId>> ids = llama2_.encode(text);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 3u * 20000 + 1);  // "▁the▁is▁a" per repeat, then a final "▁"
  EXPECT_EQ(*llama2_.decode(*ids), text);
}

}  // namespace
}  // namespace ppd::tokenizer
