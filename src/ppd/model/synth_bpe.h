// Byte-level BPE training for the synthetic tokenizer: a deterministic pseudo-English corpus
// (a built-in list of common English words plus words built from English-like syllables,
// with Zipf-like counts, pre-split the way GPT-2's ByteLevel regex splits text: " word",
// "Word", whitespace runs) and the classic merge loop (most frequent adjacent pair first, ties
// to the smaller (left id, right id)). Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ppd::model {

// GPT-2's bytes_to_unicode: byte b -> the UTF-8 text of its printable stand-in ("Ġ" for ' ').
const std::array<std::string, 256>& byte_level_alphabet();
// Maps every byte of `raw` through byte_level_alphabet().
std::string to_byte_level(const std::string& raw);

struct CorpusWord {
  std::string text;  // raw bytes of one pre-token, e.g. " the"
  int64_t count = 0;
};
// The pseudo-English corpus, as distinct pre-tokens with counts; enough distinct material for
// at least `min_num_merges` merges. Deterministic.
std::vector<CorpusWord> synth_corpus(int min_num_merges);

struct BpeTraining {
  std::vector<std::string> tokens;          // id -> raw bytes; starts with the initial tokens
  std::vector<std::pair<int, int>> merges;  // (left id, right id), in priority order
};

// Grows `initial_tokens` (whose first 256 entries are the single bytes 0..255, in order) to
// exactly `vocab_size` distinct tokens by BPE merges on synth_corpus(); a merge whose result
// already exists reuses that token. If the corpus runs out, adds deterministic fill merges
// (token + byte). REQUIRES: initial_tokens.size() <= vocab_size, distinct entries.
BpeTraining train_synth_bpe(std::vector<std::string> initial_tokens, int vocab_size);

}  // namespace ppd::model
