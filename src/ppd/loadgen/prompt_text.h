// PromptText: the synthesized text of a user or system message of a given length in tokens,
// for workloads that give lengths only. Words are drawn from a fixed list of common English
// words by a counter-based hash of (seed, key, position), so a key always gives the same text
// and different keys give different texts (no accidental prefix sharing between messages).
// With a tokenizer, each word's token count inside a text is measured once, the text is built
// from those counts and its tail corrected against a measurement of the whole, so it has the
// exact length when the list holds a one-token word; without one, a word counts as one token. Immutable after
// construction; const methods are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ppd/tokenizer/tokenizer.h"

namespace ppd::loadgen {

class PromptText {
 public:
  // `tokenizer` may be null (then one word is one token); it is used only here.
  PromptText(const tokenizer::Tokenizer* tokenizer, uint64_t seed);

  // Returns a message of `num_tokens` tokens (counted as above) for `key`; "" for num_tokens <= 0.
  std::string message(int64_t num_tokens, uint64_t key) const;

  // Returns the tokens of `text`: the tokenizer's count, or its words without a tokenizer.
  int64_t count_tokens(const std::string& text) const;

 private:
  // Appends the word of (key, position), a one-token word when that one has more than
  // max_tokens tokens; returns its token count.
  int64_t append_word(uint64_t key, uint64_t position, int64_t max_tokens, std::string* text) const;

  struct Word {
    std::string text;  // with a leading space
    int64_t num_tokens = 1;
  };
  uint64_t seed_ = 0;
  std::vector<Word> words_;
  std::vector<size_t> one_token_words_;  // indices into words_
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
};

}  // namespace ppd::loadgen
