// TextPattern: a pattern from tokenizer.json ({"String": s} or {"Regex": r}) and its matches
// in UTF-8 text. Regexes run on ICU's engine over UTF-16 (so any Split regex of a
// tokenizer.json works: \p{L}, (?i:...), (?!\S), {1,3}); match ranges come back as UTF-8
// byte offsets. Immutable after construction; find_all is thread-safe (each call makes its
// own matcher from the shared compiled pattern). Cheap to copy.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"

namespace ppd::tokenizer {

struct ByteRange {
  size_t begin = 0;
  size_t end = 0;  // exclusive
};

class TextPattern {
 public:
  // Parses {"String": s} or {"Regex": r} at `path`.
  static Result<TextPattern> parse(const Json& value, std::string_view path);
  // Compiles `pattern` with ICU; `\s` and `\S` mean Unicode White_Space, as in Oniguruma.
  static Result<TextPattern> regex(std::string_view pattern, std::string_view path);
  static TextPattern literal(std::string text);

  // Returns the non-empty, non-overlapping matches in `text`, left to right.
  // REQUIRES: `text` is valid UTF-8.
  Result<std::vector<ByteRange>> find_all(std::string_view text) const;
  // The literal's byte length; nullopt for a regex.
  std::optional<size_t> literal_size() const { return regex_ ? std::nullopt : std::optional<size_t>(literal_.size()); }

 private:
  struct CompiledRegex;

  std::string literal_;
  std::shared_ptr<const CompiledRegex> regex_;  // null for a literal
};

// Returns `text` with every match of `pattern` replaced by `content`.
Result<std::string> replace_all(const TextPattern& pattern, std::string_view text, std::string_view content);

}  // namespace ppd::tokenizer
