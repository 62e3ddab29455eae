// Added tokens (the `added_tokens` array of tokenizer.json) and the matcher that cuts text
// at their occurrences before normalization and BPE, as HF's AddedVocabulary does:
// leftmost match first, the longest of those, honouring lstrip/rstrip/single_word.
// Immutable after construction; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"

namespace ppd::tokenizer {

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;       // the match takes the whitespace on its left
  bool rstrip = false;       // the match takes the whitespace on its right
  bool normalized = true;    // matched in normalized text (else in the raw input)
  bool single_word = false;  // matched only when not inside a word
};

// Parses the `added_tokens` array at `path` (a null value is an empty list).
Result<std::vector<AddedToken>> parse_added_tokens(const Json& value, std::string_view path);

// A piece of text: either an added token's id or text for the rest of the pipeline.
struct TextSegment {
  size_t begin = 0;  // byte range in the text that was split
  size_t end = 0;
  std::optional<TokenId> id;
};

class AddedTokenMatcher {
 public:
  struct Pattern {
    std::string text;  // what to look for: the content, normalized for normalized tokens
    const AddedToken* token;
  };

  AddedTokenMatcher() = default;
  // REQUIRES: the tokens behind `patterns` outlive the matcher; no empty pattern text.
  explicit AddedTokenMatcher(std::vector<Pattern> patterns);

  // Returns segments covering `text` in order: matched tokens and the non-empty text
  // between them. REQUIRES: `text` is valid UTF-8.
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  // Returns the longest pattern that matches at text[pos], or null.
  const Pattern* longest_match_at(std::string_view text, size_t pos) const;

  std::vector<Pattern> patterns_;                 // sorted by first byte, then longest first
  std::array<uint32_t, 257> first_byte_begin_{};  // patterns_ index range per first byte
};

}  // namespace ppd::tokenizer
