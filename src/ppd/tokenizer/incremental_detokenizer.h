// IncrementalDetokenizer: turns a stream of generated token ids into text pieces for
// streaming. Invariant: the concatenation of every push() and the final flush() equals
// Tokenizer::decode() of all ids pushed (same options); no piece ever holds broken UTF-8
// (an incomplete multi-byte sequence is held until it completes). O(1) amortized work per
// token. Single-threaded; copyable and movable; it keeps the tokenizer's shared state alive.
#pragma once

#include <string>

#include "ppd/tokenizer/decoder.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {

class IncrementalDetokenizer {
 public:
  explicit IncrementalDetokenizer(const Tokenizer& tokenizer, DecodeOptions options = {});

  // Feeds the next id; returns the text that became complete (often "", never broken
  // UTF-8). Ids outside [0, vocab_size) add nothing (decode() would reject them), nor do
  // special tokens under skip_special_tokens. Mutates the detokenizer.
  std::string push(TokenId id);

  // Ends the stream: returns the held tail, an incomplete sequence as U+FFFD. Mutates.
  std::string flush();

 private:
  Tokenizer tokenizer_;
  DecodeOptions options_;
  DecodeStream stream_;
};

}  // namespace ppd::tokenizer
