// Byte-level BPE (GPT-2, Llama 3, Qwen 2 shapes) on small tokenizers built in code, and the
// pre-tokenizer's regex splits worked out by hand for each regex.
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/tokenizer/byte_level.h"
#include "ppd/tokenizer/chat_template.h"
#include "ppd/tokenizer/pre_tokenizer.h"
#include "ppd/tokenizer/test_tokenizers.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {
namespace {

using testing::ByteLevelStyle;
using Strings = std::vector<std::string>;

constexpr std::string_view kSample = "Hello world's  12345 café!!\n\n  x";

PreTokenizer pre_tokenizer_of(const Json& value) {
  Result<PreTokenizer> parsed = PreTokenizer::parse(value, "pre_tokenizer");
  EXPECT_TRUE(parsed.ok()) << parsed.status().to_string();
  return std::move(parsed).value();
}

// Returns the pieces of `text` as raw text (byte-level pieces mapped back to bytes).
Strings split(const PreTokenizer& pre_tokenizer, std::string_view text, bool byte_level) {
  Result<std::vector<PreToken>> pieces = pre_tokenizer.split({std::string(text), true});
  EXPECT_TRUE(pieces.ok()) << pieces.status().to_string();
  Strings out;
  for (const PreToken& piece : *pieces) {
    std::string bytes = piece.text;
    if (byte_level) {
      bytes.clear();
      EXPECT_TRUE(append_bytes_of_byte_level_text(piece.text, &bytes));
    }
    out.push_back(bytes);
  }
  return out;
}

Strings split_style(ByteLevelStyle style, std::string_view text) {
  const Json root = Json::parse(testing::byte_level_tokenizer_json(style));
  return split(pre_tokenizer_of(root["pre_tokenizer"]), text, true);
}

TEST(ByteLevelPreTokenizerTest, Gpt2RegexSplits) {
  EXPECT_EQ(split_style(ByteLevelStyle::kGpt2, kSample),
            (Strings{"Hello", " world", "'s", " ", " 12345", " café", "!!", "\n\n ", " x"}));
}

TEST(ByteLevelPreTokenizerTest, Llama3RegexSplits) {
  EXPECT_EQ(split_style(ByteLevelStyle::kLlama3, kSample),
            (Strings{"Hello", " world", "'s", " ", " ", "123", "45", " café", "!!\n\n", " ", " x"}));
  EXPECT_EQ(split_style(ByteLevelStyle::kLlama3, "WE'LL go"), (Strings{"WE", "'LL", " go"}));
}

TEST(ByteLevelPreTokenizerTest, Qwen2RegexSplits) {
  EXPECT_EQ(split_style(ByteLevelStyle::kQwen2, kSample),
            (Strings{"Hello", " world", "'s", " ", " ", "1", "2", "3", "4", "5", " café", "!!\n\n", " ", " x"}));
}

TEST(ByteLevelPreTokenizerTest, AddPrefixSpace) {
  const PreTokenizer pre_tokenizer =
      pre_tokenizer_of({{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}});
  EXPECT_EQ(split(pre_tokenizer, "Hi there", true), (Strings{" Hi", " there"}));
  EXPECT_EQ(split(pre_tokenizer, " Hi", true), (Strings{" Hi"}));
}

TEST(SplitPreTokenizerTest, Behaviors) {
  const auto split_with = [](std::string_view behavior, bool invert) {
    const Json value = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    return split(pre_tokenizer_of(value), "the-final--countdown", false);
  };
  EXPECT_EQ(split_with("Removed", false), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(split_with("Isolated", false), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_with("MergedWithPrevious", false), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_with("MergedWithNext", false), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_with("Contiguous", false), (Strings{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split_with("Removed", true), (Strings{"-", "-", "-"}));
}

TEST(MetaspacePreTokenizerTest, PrependsAndSplits) {
  const PreTokenizer always =
      pre_tokenizer_of({{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}});
  EXPECT_EQ(split(always, "Hey friend!  how", false), (Strings{"▁Hey", "▁friend!", "▁", "▁how"}));
  const PreTokenizer first =
      pre_tokenizer_of({{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}});
  EXPECT_EQ(split(first, "Hey you", false), (Strings{"▁Hey▁you"}));
  Result<std::vector<PreToken>> not_first = first.split({"Hey you", false});
  ASSERT_TRUE(not_first.ok());
  EXPECT_EQ((*not_first)[0].text, "Hey▁you");
}

class ByteLevelBpeTest : public ::testing::TestWithParam<ByteLevelStyle> {
 protected:
  Tokenizer tokenizer_ = testing::must_load(testing::byte_level_tokenizer_json(GetParam()));

  Strings tokens(std::string_view text) const {
    Result<std::vector<TokenId>> ids = tokenizer_.encode(text);
    EXPECT_TRUE(ids.ok()) << ids.status().to_string();
    return testing::tokens_of(tokenizer_, *ids);
  }
};

TEST_P(ByteLevelBpeTest, MergesByRank) {
  EXPECT_EQ(tokens("Hello world"), (Strings{"Hello", "Ġworld"}));
  EXPECT_EQ(tokens("Hello worlds"), (Strings{"Hello", "Ġworld", "s"}));
  EXPECT_EQ(tokens(" café"), (Strings{"Ġ", "c", "a", "f", "Ã", "©"}));
  EXPECT_EQ(tokens("\n"), (Strings{"Ċ"}));
  EXPECT_EQ(tokens(""), (Strings{}));
}

TEST_P(ByteLevelBpeTest, RoundTripsRandomUnicode) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    const std::string text = testing::random_unicode(seed, static_cast<int>(seed % 50));
    Result<std::vector<TokenId>> ids = tokenizer_.encode(text);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    Result<std::string> decoded = tokenizer_.decode(*ids);
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, text) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Styles, ByteLevelBpeTest,
                         ::testing::Values(ByteLevelStyle::kGpt2, ByteLevelStyle::kLlama3, ByteLevelStyle::kQwen2));

TEST(ByteLevelBpeStyleTest, Llama3IgnoreMergesAndSpecialTokens) {
  const Tokenizer llama3 = testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kLlama3));
  const Tokenizer gpt2 = testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kGpt2));
  EXPECT_EQ(testing::tokens_of(llama3, *llama3.encode(" xyz")), (Strings{"Ġxyz"}));
  EXPECT_EQ(testing::tokens_of(gpt2, *gpt2.encode(" xyz")), (Strings{"Ġ", "x", "y", "z"}));
  EXPECT_EQ(testing::tokens_of(llama3, *llama3.encode("<|begin_of_text|>Hello<|eot_id|> world")),
            (Strings{"<|begin_of_text|>", "Hello", "<|eot_id|>", "Ġworld"}));
  const std::vector<TokenId> ids = *llama3.encode("<|begin_of_text|>Hello<|eot_id|>");
  EXPECT_EQ(*llama3.decode(ids), "<|begin_of_text|>Hello<|eot_id|>");
  EXPECT_EQ(*llama3.decode(ids, {.skip_special_tokens = true}), "Hello");
  EXPECT_EQ(chat_template_name(*select_chat_template("auto", llama3)), "llama-3");
}

TEST(ByteLevelBpeStyleTest, Qwen2NormalizesToNfc) {
  const Tokenizer qwen = testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kQwen2));
  EXPECT_EQ(*qwen.encode("cafe\u0301"), *qwen.encode("caf\u00E9"));
  EXPECT_EQ(*qwen.decode(*qwen.encode("cafe\u0301")), "caf\u00E9");
  EXPECT_EQ(testing::tokens_of(qwen, *qwen.encode("<|im_start|>user\nHello<|im_end|>\n")),
            (Strings{"<|im_start|>", "u", "s", "e", "r", "Ċ", "Hello", "<|im_end|>", "Ċ"}));
}

// One const Tokenizer used from several threads gives the single-threaded results (ICU
// matchers are made per call from the shared compiled pattern).
TEST(ByteLevelBpeStyleTest, SharedAcrossThreads) {
  const Tokenizer qwen = testing::must_load(testing::byte_level_tokenizer_json(ByteLevelStyle::kQwen2));
  constexpr int kNumTexts = 40;
  std::vector<std::vector<TokenId>> expected;
  for (int i = 0; i < kNumTexts; ++i) expected.push_back(*qwen.encode(testing::random_unicode(i, 30)));
  std::vector<int> num_mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNumTexts; ++i) {
        const Result<std::vector<TokenId>> ids = qwen.encode(testing::random_unicode(i, 30));
        if (!ids.ok() || *ids != expected[i] || *qwen.decode(*ids) != testing::random_unicode(i, 30)) {
          ++num_mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(num_mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace ppd::tokenizer
