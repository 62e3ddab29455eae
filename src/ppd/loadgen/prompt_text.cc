#include "ppd/loadgen/prompt_text.h"

#include <algorithm>
#include <string_view>

#include "ppd/common/splitmix.h"

namespace ppd::loadgen {
namespace {

// Everyday words; most are one token in an English BPE vocabulary of a few thousand entries.
constexpr std::string_view kWords[] = {
    "the",   "a",     "cat",    "dog",    "sun",   "tree",  "house", "river", "small",  "big",   "red",  "blue",
    "green", "happy", "sad",    "little", "girl",  "boy",   "mom",   "dad",   "friend", "ball",  "park", "play",
    "run",   "jump",  "walk",   "see",    "look",  "find",  "help",  "want",  "like",   "love",  "day",  "night",
    "bird",  "fish",  "box",    "toy",    "car",   "book",  "door",  "room",  "bed",    "food",  "cake", "milk",
    "water", "sky",   "star",   "moon",   "rain",  "snow",  "wind",  "hill",  "road",   "town",  "king", "queen",
    "good",  "bad",   "hot",    "cold",   "fast",  "slow",  "old",   "new",   "long",   "short", "went", "came",
    "said",  "saw",   "had",    "was",    "is",    "and",   "to",    "of",    "in",     "on",    "with", "for",
    "he",    "she",   "they",   "it",     "we",    "you",   "one",   "two",   "three",  "many",  "some", "all",
    "time",  "home",  "garden", "flower", "apple", "bread", "story", "game",  "song",   "hat",   "shoe", "cup"};

uint64_t word_hash(uint64_t seed, uint64_t key, uint64_t position) {
  return splitmix64_mix(splitmix64_mix(seed * kGoldenGamma + key) + position * kGoldenGamma);
}

int64_t measure(const tokenizer::Tokenizer& t, const std::string& text) {
  const Result<std::vector<TokenId>> ids = t.encode(text);
  return ids.ok() ? static_cast<int64_t>(ids->size()) : 0;
}

// What a word adds after another one: a SentencePiece tokenizer's dummy prefix makes " happy"
// on its own two tokens, though it is one inside a text.
int64_t marginal_tokens(const tokenizer::Tokenizer& t, const std::string& word) {
  return std::max<int64_t>(1, measure(t, "the" + word) - measure(t, "the"));
}

}  // namespace

PromptText::PromptText(const tokenizer::Tokenizer* tokenizer, uint64_t seed) : seed_(seed), tokenizer_(tokenizer) {
  for (const std::string_view w : kWords) {
    Word word;
    word.text.reserve(w.size() + 1);  // not " " + string: GCC 12 warns falsely (-Wrestrict) on that
    word.text.append(" ").append(w);
    if (tokenizer != nullptr) word.num_tokens = marginal_tokens(*tokenizer, word.text);
    if (word.num_tokens == 1) one_token_words_.push_back(words_.size());
    words_.push_back(std::move(word));
  }
}

std::string PromptText::message(int64_t num_tokens, uint64_t key) const {
  std::string text;
  int64_t remaining = num_tokens;
  uint64_t position = 0;
  for (; remaining > 0; ++position) remaining -= append_word(key, position, remaining, &text);
  // Word boundaries can merge differently at the start; measure the whole and correct the tail
  // with one-token words (bounded: a text whose count does not move is kept as it is).
  for (int round = 0; tokenizer_ != nullptr && !one_token_words_.empty() && round < 8; ++round) {
    const int64_t error = measure(*tokenizer_, text.substr(text.empty() ? 0 : 1)) - num_tokens;
    if (error == 0) break;
    if (error < 0) {
      for (int64_t i = 0; i < -error; ++i, ++position) append_word(key, position, 1, &text);
    } else {
      for (int64_t i = 0; i < error && text.rfind(' ') != 0; ++i) text.resize(text.rfind(' '));
    }
  }
  // Drop the leading space: the chat template separates the message itself.
  return text.empty() ? text : text.substr(1);
}

int64_t PromptText::append_word(uint64_t key, uint64_t position, int64_t max_tokens, std::string* text) const {
  const uint64_t h = word_hash(seed_, key, position);
  const Word* word = &words_[h % words_.size()];
  if (word->num_tokens > max_tokens && !one_token_words_.empty()) {
    word = &words_[one_token_words_[(h >> 32) % one_token_words_.size()]];
  }
  *text += word->text;
  return word->num_tokens;
}

int64_t PromptText::count_tokens(const std::string& text) const {
  if (tokenizer_ != nullptr) return measure(*tokenizer_, text);
  int64_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

}  // namespace ppd::loadgen
