// Normalizer: the `normalizer` of tokenizer.json as a list of steps applied in order
// (Prepend, Replace, NFC/NFD/NFKC/NFKD, flattened from Sequence). Maps valid UTF-8 to valid
// UTF-8. Immutable after parse; thread-safe; cheap to copy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"
#include "ppd/tokenizer/text_pattern.h"

namespace ppd::tokenizer {

class Normalizer {
 public:
  enum class Form { kNfc, kNfd, kNfkc, kNfkd };  // Unicode normalization forms

  // Parses the normalizer at `path`; a null `value` is the identity.
  static Result<Normalizer> parse(const Json& value, std::string_view path);

  // Returns the normalized text. REQUIRES: `text` is valid UTF-8.
  Result<std::string> normalize(std::string_view text) const;

  // A lower bound on len(normalize(text)) / len(text) in bytes, for any text: the product over
  // the steps of 1 for Prepend and for a literal Replace by text at least as long, and 1/3 for a
  // Unicode form (composition shrinks by at most 3: three Hangul jamo, or a fullwidth letter, to
  // one character); 0 when a step can shrink text without bound (a regex or shortening Replace).
  double min_length_ratio() const;

 private:
  enum class Kind { kPrepend, kReplace, kUnicodeForm };
  struct Step {
    Kind kind = Kind::kPrepend;
    Form form = Form::kNfc;  // kUnicodeForm
    std::string content;     // kPrepend: the prefix; kReplace: the replacement
    TextPattern pattern;     // kReplace
  };

  Status append_steps(const Json& value, std::string_view path, int depth);
  // Parses one non-Sequence step of type `type`.
  static Result<Step> parse_step(const Json& value, std::string_view type, std::string_view path);

  std::vector<Step> steps_;
};

}  // namespace ppd::tokenizer
