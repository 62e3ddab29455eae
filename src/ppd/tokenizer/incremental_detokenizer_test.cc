#include "ppd/tokenizer/incremental_detokenizer.h"

#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

#include "ppd/tokenizer/test_tokenizers.h"

namespace ppd::tokenizer {
namespace {

using testing::ByteLevelStyle;
using testing::SentencePieceStyle;

struct Streamed {
  std::vector<std::string> pieces;  // one per push, then the flush
  std::string text;
};

Streamed stream(const Tokenizer& tokenizer, const std::vector<TokenId>& ids, DecodeOptions options = {}) {
  IncrementalDetokenizer detokenizer(tokenizer, options);
  Streamed out;
  for (const TokenId id : ids) out.pieces.push_back(detokenizer.push(id));
  out.pieces.push_back(detokenizer.flush());
  for (const std::string& piece : out.pieces) {
    EXPECT_TRUE(testing::is_valid_utf8(piece)) << "piece " << out.text.size();
    out.text += piece;
  }
  return out;
}

std::vector<TokenId> ids_of(const Tokenizer& tokenizer, std::initializer_list<std::string_view> tokens) {
  std::vector<TokenId> ids;
  for (const std::string_view token : tokens) ids.push_back(tokenizer.token_to_id(token).value());
  return ids;
}

TEST(IncrementalDetokenizerTest, HoldsAnEmojiSplitOverByteFallbackTokens) {
  const Tokenizer tokenizer = testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2));
  const std::vector<TokenId> ids = *tokenizer.encode("I love 🐶!");
  const Streamed streamed = stream(tokenizer, ids);
  EXPECT_EQ(streamed.text, "I love 🐶!");
  EXPECT_EQ(streamed.text, *tokenizer.decode(ids));
  // ▁ I ▁ l o v e ▁ <0xF0> <0x9F> <0x90> <0xB6> !
  ASSERT_EQ(ids.size(), 13u);
  EXPECT_EQ(streamed.pieces[0], "");  // the leading space is stripped
  EXPECT_EQ(streamed.pieces[1], "I");
  EXPECT_EQ(streamed.pieces[8], "");
  EXPECT_EQ(streamed.pieces[9], "");
  EXPECT_EQ(streamed.pieces[10], "");
  EXPECT_EQ(streamed.pieces[11], "🐶");
  EXPECT_EQ(streamed.pieces[12], "!");
}

TEST(IncrementalDetokenizerTest, HoldsAnEmojiSplitOverByteLevelTokens) {
  const Tokenizer tokenizer = testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kGpt2));
  const std::vector<TokenId> ids = *tokenizer.encode("Hello 🐶");
  ASSERT_EQ(ids.size(), 6u);  // Hello Ġ ð Ł Ĳ ¶
  const Streamed streamed = stream(tokenizer, ids);
  EXPECT_EQ(streamed.pieces, (std::vector<std::string>{"Hello", " ", "", "", "", "🐶", ""}));
  EXPECT_EQ(streamed.text, *tokenizer.decode(ids));
}

TEST(IncrementalDetokenizerTest, FlushReplacesAnIncompleteTail) {
  const Tokenizer tokenizer = testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2));
  const std::vector<TokenId> ids = ids_of(tokenizer, {"▁", "<0xF0>", "<0x9F>"});
  const Streamed streamed = stream(tokenizer, ids);
  EXPECT_EQ(streamed.pieces, (std::vector<std::string>{"", "", "", "\uFFFD"}));
  EXPECT_EQ(*tokenizer.decode(ids), "\uFFFD");
  // An invalid byte is replaced at once.
  EXPECT_EQ(stream(tokenizer, ids_of(tokenizer, {"▁the", "<0xFF>"})).pieces,
            (std::vector<std::string>{"the", "\uFFFD", ""}));
}

TEST(IncrementalDetokenizerTest, SkipsSpecialTokensAndUnknownIds) {
  const Tokenizer tokenizer = testing::must_load(testing::sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2));
  const std::vector<TokenId> ids = ids_of(tokenizer, {"<s>", "▁the", "</s>"});
  EXPECT_EQ(stream(tokenizer, ids, {.skip_special_tokens = true}).text, "the");
  EXPECT_EQ(stream(tokenizer, ids).text, "<s> the</s>");
  IncrementalDetokenizer detokenizer(tokenizer);
  EXPECT_EQ(detokenizer.push(-1), "");
  EXPECT_EQ(detokenizer.push(tokenizer.vocab_size()), "");
}

// Random id sequences (byte tokens in any order included): the streamed text equals the
// full decode and no piece is broken UTF-8.
void check_random_streams(const Tokenizer& tokenizer, uint32_t num_seeds) {
  for (uint32_t seed = 1; seed <= num_seeds; ++seed) {
    std::mt19937 rng(seed);
    std::vector<TokenId> ids(rng() % 30);
    for (TokenId& id : ids) id = static_cast<TokenId>(rng() % tokenizer.vocab_size());
    for (const bool skip : {false, true}) {
      const DecodeOptions options{.skip_special_tokens = skip};
      EXPECT_EQ(stream(tokenizer, ids, options).text, *tokenizer.decode(ids, options)) << "seed " << seed;
    }
  }
}

TEST(IncrementalDetokenizerTest, MatchesDecodeOnRandomIds) {
  for (const auto style :
       {SentencePieceStyle::kLlama2, SentencePieceStyle::kMistral, SentencePieceStyle::kMetaspaceDecoder}) {
    check_random_streams(testing::must_load(testing::sentencepiece_tokenizer_json(style)), 100);
  }
  for (const auto style : {ByteLevelStyle::kGpt2, ByteLevelStyle::kLlama3, ByteLevelStyle::kQwen2}) {
    check_random_streams(testing::must_load(testing::byte_level_tokenizer_json(style)), 100);
  }
}

TEST(IncrementalDetokenizerTest, MatchesDecodeOnTinyStories) {
  const char* shared_dir = std::getenv("PPD_SHARED_DIR");
  if (shared_dir == nullptr) GTEST_SKIP() << "PPD_SHARED_DIR is not set; needs the TinyStories model";
  Result<Tokenizer> tokenizer = Tokenizer::load(std::string(shared_dir) + "/models/tinystories-656k");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().to_string();
  check_random_streams(*tokenizer, 100);
  const std::vector<TokenId> generated = {147, 201, 282, 215, 286, 598, 1662};
  EXPECT_EQ(stream(*tokenizer, generated).pieces,
            (std::vector<std::string>{"On", "ce ", "upon a tim", "e, ", "there was a ", "little girl named ",
                                      "Lily. She ", ""}));
}

}  // namespace
}  // namespace ppd::tokenizer
