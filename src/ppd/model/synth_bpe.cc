// The BPE merge loop (declared in synth_bpe.h).
#include "ppd/model/synth_bpe.h"

#include <queue>
#include <unordered_map>

namespace ppd::model {
namespace {

using PairKey = uint64_t;  // (left id << 32) | right id: ordering by key = by (left, right)

PairKey pair_key(int left, int right) { return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right); }
int left_of(PairKey key) { return static_cast<int>(key >> 32); }
int right_of(PairKey key) { return static_cast<int>(key & 0xffffffffu); }

struct HeapEntry {
  int64_t count;
  PairKey pair;
  // The top is the highest count, then the smallest pair.
  bool operator<(const HeapEntry& other) const {
    return count != other.count ? count < other.count : pair > other.pair;
  }
};

struct Word {
  std::vector<int> symbols;
  int64_t count;
  int64_t last_merge = -1;  // the merge that last rewrote this word
};

class Trainer {
 public:
  Trainer(std::vector<std::string> tokens, int vocab_size)
      : tokens_(std::move(tokens)), num_initial_(tokens_.size()), vocab_size_(static_cast<size_t>(vocab_size)) {
    for (size_t id = 0; id < tokens_.size(); ++id) ids_[tokens_[id]] = static_cast<int>(id);
  }

  BpeTraining run() {
    add_corpus();
    while (tokens_.size() < vocab_size_ && merge_best_pair()) {
    }
    fill_remaining();
    return {std::move(tokens_), std::move(merges_)};
  }

 private:
  void add_corpus() {
    for (CorpusWord& corpus_word : synth_corpus(static_cast<int>(vocab_size_))) {
      Word word{{}, corpus_word.count};
      for (const char c : corpus_word.text) word.symbols.push_back(static_cast<unsigned char>(c));
      words_.push_back(std::move(word));
    }
    for (size_t w = 0; w < words_.size(); ++w) {
      const std::vector<int>& s = words_[w].symbols;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const PairKey key = pair_key(s[i], s[i + 1]);
        pair_counts_[key] += words_[w].count;
        pair_words_[key].push_back(static_cast<int>(w));
      }
    }
    for (const auto& [key, count] : pair_counts_) heap_.push({count, key});
  }

  // Returns the id of `text`, adding it as a new token if needed.
  int token_id(const std::string& text) {
    const auto [it, inserted] = ids_.emplace(text, static_cast<int>(tokens_.size()));
    if (inserted) tokens_.push_back(text);
    return it->second;
  }

  bool merge_best_pair() {
    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const auto it = pair_counts_.find(top.pair);
      if (it == pair_counts_.end() || it->second != top.count || top.count <= 0) continue;
      apply_merge(top.pair);
      return true;
    }
    return false;
  }

  void apply_merge(PairKey pair) {
    const int left = left_of(pair), right = right_of(pair);
    const int merged = token_id(tokens_[left] + tokens_[right]);
    const auto merge_index = static_cast<int64_t>(merges_.size());
    merges_.emplace_back(left, right);
    std::unordered_map<PairKey, int64_t> deltas;
    const std::vector<int> candidates = std::move(pair_words_[pair]);
    pair_words_.erase(pair);
    for (const int w : candidates) {
      if (words_[w].last_merge == merge_index) continue;
      words_[w].last_merge = merge_index;
      rewrite_word(w, left, right, merged, deltas);
    }
    for (const auto& [key, delta] : deltas) {
      if (delta == 0) continue;
      const int64_t count = pair_counts_[key] += delta;
      if (count > 0) heap_.push({count, key});
    }
  }

  void rewrite_word(int w, int left, int right, int merged, std::unordered_map<PairKey, int64_t>& deltas) {
    Word& word = words_[w];
    std::vector<int> out;
    out.reserve(word.symbols.size());
    for (size_t i = 0; i < word.symbols.size(); ++i) {
      if (i + 1 < word.symbols.size() && word.symbols[i] == left && word.symbols[i + 1] == right) {
        out.push_back(merged);
        ++i;
      } else {
        out.push_back(word.symbols[i]);
      }
    }
    if (out.size() == word.symbols.size()) return;
    for (size_t i = 0; i + 1 < word.symbols.size(); ++i) {
      deltas[pair_key(word.symbols[i], word.symbols[i + 1])] -= word.count;
    }
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      const PairKey key = pair_key(out[i], out[i + 1]);
      deltas[key] += word.count;
      if (out[i] == merged || out[i + 1] == merged) pair_words_[key].push_back(w);
    }
    word.symbols = std::move(out);
  }

  // Deterministic filler once the corpus is exhausted: token + byte, in id order, skipping the
  // initial tokens after the bytes (special tokens).
  void fill_remaining() {
    for (size_t left = 0; tokens_.size() < vocab_size_; ++left) {
      if (left >= 256 && left < num_initial_) continue;
      for (int byte = 0; byte < 256 && tokens_.size() < vocab_size_; ++byte) {
        const std::string text = tokens_[left] + tokens_[byte];
        if (ids_.contains(text)) continue;
        merges_.emplace_back(static_cast<int>(left), byte);
        token_id(text);
      }
    }
  }

  std::vector<std::string> tokens_;
  size_t num_initial_;
  size_t vocab_size_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::pair<int, int>> merges_;
  std::vector<Word> words_;
  std::unordered_map<PairKey, int64_t> pair_counts_;
  std::unordered_map<PairKey, std::vector<int>> pair_words_;
  std::priority_queue<HeapEntry> heap_;
};

}  // namespace

BpeTraining train_synth_bpe(std::vector<std::string> initial_tokens, int vocab_size) {
  return Trainer(std::move(initial_tokens), vocab_size).run();
}

}  // namespace ppd::model
