// PreTokenizer: the `pre_tokenizer` of tokenizer.json as a list of steps applied in order
// (ByteLevel, Metaspace, Split, flattened from Sequence). It cuts normalized text into the
// words that BPE sees; a ByteLevel step also rewrites each word's bytes as byte-level
// characters. Pieces are never empty. Immutable after parse; thread-safe; cheap to copy.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"
#include "ppd/tokenizer/text_pattern.h"

namespace ppd::tokenizer {

// A piece of normalized text on its way to the model. `at_origin`: the piece starts at the
// beginning of the input (Metaspace's prepend_scheme "first" prepends only there).
struct PreToken {
  std::string text;
  bool at_origin = false;
};

class PreTokenizer {
 public:
  // Parses the pre-tokenizer at `path`; a null `value` passes pieces through unchanged.
  static Result<PreTokenizer> parse(const Json& value, std::string_view path);

  // Returns the non-empty pieces that `piece` splits into, in order.
  // REQUIRES: piece.text is valid UTF-8.
  Result<std::vector<PreToken>> split(PreToken piece) const;
  // True when the pieces never hold fewer bytes than the input: no Split removes its matches
  // and no Metaspace replaces a space by nothing (ByteLevel maps a byte to one or two).
  bool keeps_every_byte() const;

  // How matches of a Split pattern join the text around them (HF SplitDelimiterBehavior).
  enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
  enum class PrependScheme { kAlways, kFirst, kNever };

 private:
  struct ByteLevelStep {
    bool add_prefix_space = false;
    std::optional<TextPattern> gpt2_regex;  // set when use_regex
  };
  struct MetaspaceStep {
    std::string replacement;
    PrependScheme prepend_scheme = PrependScheme::kAlways;
    bool split = true;
  };
  struct SplitStep {
    TextPattern pattern;
    Behavior behavior = Behavior::kIsolated;
    bool invert = false;
  };
  using Step = std::variant<ByteLevelStep, MetaspaceStep, SplitStep>;

  Status append_steps(const Json& value, std::string_view path, int depth);
  static Result<Step> parse_byte_level(const Json& value, std::string_view path);
  static Result<Step> parse_metaspace(const Json& value, std::string_view path);
  static Result<Step> parse_split(const Json& value, std::string_view path);
  static Result<std::vector<PreToken>> apply(const Step& step, PreToken piece);

  std::vector<Step> steps_;
};

// Parses `prepend_scheme` (always/first/never) of a Metaspace object at `path`, or, in older
// files, the boolean `add_prefix_space` (true: always, the default; false: never).
Result<PreTokenizer::PrependScheme> parse_prepend_scheme(const Json& value, std::string_view path);

}  // namespace ppd::tokenizer
