#include "ppd/loadgen/prompt_text.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace ppd::loadgen {
namespace {

TEST(PromptTextTest, WithoutATokenizerAWordIsAToken) {
  const PromptText text(nullptr, 7);
  const std::string m = text.message(12, 1);
  EXPECT_EQ(text.count_tokens(m), 12);
  EXPECT_EQ(m, text.message(12, 1)) << "a key always gives the same text";
  EXPECT_NE(m, text.message(12, 2)) << "keys give different texts";
  EXPECT_NE(m, PromptText(nullptr, 8).message(12, 1)) << "seeds give different texts";
  EXPECT_EQ(text.message(0, 1), "");
  EXPECT_NE(m.front(), ' ');
}

TEST(PromptTextTest, WithTheTinyStoriesTokenizerLengthsAreExact) {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  if (shared == nullptr) GTEST_SKIP() << "PPD_SHARED_DIR is not set; needs the TinyStories tokenizer";
  const Result<tokenizer::Tokenizer> tok = tokenizer::Tokenizer::load(std::string(shared) + "/models/tinystories-656k");
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const PromptText text(&*tok, 0);
  for (const int64_t n : {16, 128, 1024}) {  // (one token is out of reach: "happy" is "▁" + "happy")
    const std::string m = text.message(n, static_cast<uint64_t>(n));
    const Result<std::vector<TokenId>> ids = tok->encode(m);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(static_cast<int64_t>(ids->size()), n) << m.substr(0, 80);
  }
}

}  // namespace
}  // namespace ppd::loadgen
