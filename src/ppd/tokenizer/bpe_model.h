// BpeModel: the `model` of tokenizer.json (type "BPE"): a vocabulary, ranked merges and the
// fallbacks for characters outside the vocabulary (byte_fallback to <0xNN> tokens, then
// unk_token, fused when fuse_unk). A word merges in O(n log n) with a priority queue of
// adjacent pairs by rank, so that a SentencePiece-style input (one long word) stays fast.
// Immutable after parse; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"

namespace ppd::tokenizer {

class BpeModel {
 public:
  // Parses the model object at `path`.
  static Result<BpeModel> parse(const Json& value, std::string_view path);

  // Appends the ids of `word` to *ids. REQUIRES: `word` is non-empty valid UTF-8.
  void encode_word(std::string_view word, std::vector<TokenId>* ids) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  // Returns the token of `id`, or null when no vocabulary entry has that id.
  const std::string* id_to_token(TokenId id) const;
  // Returns max id + 1 over the vocabulary.
  int num_ids() const { return static_cast<int>(id_to_token_.size()); }
  // True when a run of characters outside the vocabulary may become one unknown token
  // (fuse_unk without byte_fallback), so a token's text says nothing about the input it covers.
  bool may_fuse_unknown() const { return fuse_unk_ && unk_id_.has_value() && !byte_fallback_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Merge {
    int32_t rank = 0;
    TokenId merged_id = 0;
  };
  struct Symbol;

  Status parse_vocab(const Json& vocab, std::string_view path);
  Status parse_merges(const Json& merges, std::string_view path);
  Status add_merge(std::string_view left, std::string_view right, std::string_view path);
  static std::vector<Symbol> link_symbols(const std::vector<TokenId>& ids);
  // Returns one symbol per character of `word` (or per byte under byte_fallback, or a
  // possibly fused <unk>).
  std::vector<Symbol> initial_symbols(std::string_view word) const;
  void merge_symbols(std::vector<Symbol>* symbols) const;
  const Merge* find_merge(TokenId left, TokenId right) const;

  std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> id_to_token_;        // [num_ids]; "" where no token has the id
  std::vector<uint8_t> has_token_;              // [num_ids]
  std::unordered_map<uint64_t, Merge> merges_;  // key: left id << 32 | right id
  std::array<TokenId, 256> byte_ids_{};         // <0xNN> token ids, -1 when absent
  std::optional<TokenId> unk_id_;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace ppd::tokenizer
