#include "ppd/tokenizer/utf8.h"

#include <random>

#include <gtest/gtest.h>

#include "ppd/tokenizer/byte_level.h"

namespace ppd::tokenizer {
namespace {

std::string lossy(std::string_view bytes) {
  std::string out;
  append_utf8_lossy(bytes, IncompleteTail::kReplace, &out);
  return out;
}

TEST(Utf8Test, FindsFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("héllo 🐶"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ab\xFF"
                              "cd"),
            2u);
  EXPECT_EQ(find_invalid_utf8("ab\xE2\x82"), 2u);        // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xC0\x80"), 0u);          // overlong
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(Utf8Test, LossyReplacesMaximalSubparts) {
  EXPECT_EQ(lossy("a\xFF"
                  "b"),
            "a\uFFFD"
            "b");
  EXPECT_EQ(lossy("\xF0\x9F\x90"), "\uFFFD");  // one truncated sequence
  EXPECT_EQ(lossy("\xF0\x9F\x90x"), "\uFFFDx");
  EXPECT_EQ(lossy("\xE0\x80\x80"), "\uFFFD\uFFFD\uFFFD");  // E0 80 is not a valid prefix
  EXPECT_EQ(lossy("\xF0\x9F\x90\xB6"), "🐶");
}

TEST(Utf8Test, HoldKeepsAnIncompleteTail) {
  std::string out;
  EXPECT_EQ(append_utf8_lossy("ok\xF0\x9F", IncompleteTail::kHold, &out), 2u);
  EXPECT_EQ(out, "ok");
}

// Decoding random bytes in random chunks (holding tails) equals decoding them at once.
TEST(Utf8Test, ChunkedLossyDecodingMatchesWholeDecoding) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    std::string bytes;
    const int length = static_cast<int>(rng() % 40);
    for (int i = 0; i < length; ++i) {
      // Bias towards bytes that form (or almost form) sequences.
      const uint8_t choices[] = {'a', 0x80, 0x9F, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF};
      bytes.push_back(static_cast<char>(rng() % 3 == 0 ? rng() % 256 : choices[rng() % 10]));
    }
    std::string chunked;
    std::string pending;
    size_t pos = 0;
    while (pos < bytes.size()) {
      const size_t n = 1 + rng() % 4;
      pending += bytes.substr(pos, n);
      pos += n;
      pending.erase(0, append_utf8_lossy(pending, IncompleteTail::kHold, &chunked));
    }
    append_utf8_lossy(pending, IncompleteTail::kReplace, &chunked);
    EXPECT_EQ(chunked, lossy(bytes)) << "seed " << seed;
    EXPECT_FALSE(find_invalid_utf8(chunked).has_value()) << "seed " << seed;
  }
}

TEST(Utf8Test, CodePointsRoundTrip) {
  std::string text;
  for (const char32_t cp : {U'a', U'\u00E9', U'\u4E2D', U'\U0001F436'}) append_utf8(cp, &text);
  EXPECT_EQ(text, "a\u00E9\u4E2D\U0001F436");
  size_t pos = 0;
  EXPECT_EQ(next_code_point(text, &pos), U'a');
  EXPECT_EQ(next_code_point(text, &pos), U'\u00E9');
  EXPECT_EQ(next_code_point(text, &pos), U'\u4E2D');
  EXPECT_EQ(previous_code_point_start(text, text.size()), pos);
  EXPECT_EQ(next_code_point(text, &pos), U'\U0001F436');
  EXPECT_EQ(pos, text.size());
}

TEST(ByteLevelTest, MatchesGpt2Table) {
  EXPECT_EQ(byte_to_code_point('!'), U'!');
  EXPECT_EQ(byte_to_code_point(' '), U'\u0120');   // Ġ
  EXPECT_EQ(byte_to_code_point('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(byte_to_code_point(0), U'\u0100');
  EXPECT_EQ(byte_to_code_point(0xAD), U'\u0143');
  EXPECT_EQ(byte_to_code_point(0xFF), U'\u00FF');
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(code_point_to_byte(byte_to_code_point(static_cast<uint8_t>(b))), b);
  }
  EXPECT_EQ(code_point_to_byte(U'\u0200'), std::nullopt);
  std::string text;
  append_byte_level_text("a \xF0\x9F\x90\xB6", &text);
  EXPECT_EQ(text, "aĠðŁĲ¶");
  std::string bytes;
  EXPECT_TRUE(append_bytes_of_byte_level_text(text, &bytes));
  EXPECT_EQ(bytes, "a \xF0\x9F\x90\xB6");
  EXPECT_FALSE(append_bytes_of_byte_level_text("a\u4E2D", &bytes));
}

}  // namespace
}  // namespace ppd::tokenizer
