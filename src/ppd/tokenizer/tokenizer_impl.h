// Tokenizer::Impl: the parsed components of a tokenizer, shared (immutable) by Tokenizer
// copies and IncrementalDetokenizer. Internal to the tokenizer library. The matchers point
// into `added_tokens`, so an Impl never moves after construction (it lives in a shared_ptr).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ppd/tokenizer/added_tokens.h"
#include "ppd/tokenizer/bpe_model.h"
#include "ppd/tokenizer/decoder.h"
#include "ppd/tokenizer/normalizer.h"
#include "ppd/tokenizer/pre_tokenizer.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {

struct Tokenizer::Impl {
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  BpeModel model;
  Decoder decoder;
  std::vector<AddedToken> added_tokens;
  AddedTokenMatcher raw_matcher;         // tokens with normalized == false, on raw input
  AddedTokenMatcher normalized_matcher;  // the others, normalized, on normalized text
  std::vector<int32_t> added_index;      // [vocab_size]: index into added_tokens, or -1
  int vocab_size = 0;
  int64_t max_input_bytes_per_token = 0;  // Tokenizer::max_input_bytes_per_token()

  std::optional<TokenId> bos_id;
  std::optional<TokenId> eos_id;
  std::string bos_token;
  std::string eos_token;
  bool add_bos_token = false;
  std::string chat_template;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Returns the string the decoder sees for `id` (an added token's content or the
  // vocabulary entry), or null when no token has the id. REQUIRES: 0 <= id < vocab_size.
  const std::string* token_text(TokenId id) const;
  bool is_special(TokenId id) const;
};

}  // namespace ppd::tokenizer
