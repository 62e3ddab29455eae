#include "ppd/tokenizer/bpe_model.h"

#include <queue>

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {

// One symbol of a word being merged: a doubly linked list over a vector.
struct BpeModel::Symbol {
  TokenId id = 0;
  int32_t prev = -1;
  int32_t next = -1;
  bool alive = true;
};

namespace {

constexpr int64_t kMaxTokenId = int64_t{1} << 24;

uint64_t pair_key(TokenId left, TokenId right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

Status check_absent_option(const Json& value, std::string_view key, std::string_view path) {
  const auto it = value.find(key);
  if (it == value.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
    return Status::Ok();
  }
  return invalid_argument("{}: not supported; got {}", field_path(path, key), describe_json(*it));
}

}  // namespace

// Returns `ids` as a doubly linked list of live symbols.
std::vector<BpeModel::Symbol> BpeModel::link_symbols(const std::vector<TokenId>& ids) {
  std::vector<Symbol> symbols(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    symbols[i] = {ids[i], static_cast<int32_t>(i) - 1, i + 1 < ids.size() ? static_cast<int32_t>(i + 1) : -1, true};
  }
  return symbols;
}

Result<BpeModel> BpeModel::parse(const Json& value, std::string_view path) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  PPD_ASSIGN_OR_RETURN(const std::string type, get_string(value, "type", path, "BPE"));
  if (type != "BPE") return unknown_type(path, type, "BPE");
  PPD_RETURN_IF_ERROR(check_absent_option(value, "continuing_subword_prefix", path));
  PPD_RETURN_IF_ERROR(check_absent_option(value, "end_of_word_suffix", path));
  BpeModel model;
  PPD_ASSIGN_OR_RETURN(model.byte_fallback_, get_bool(value, "byte_fallback", path, false));
  PPD_ASSIGN_OR_RETURN(model.fuse_unk_, get_bool(value, "fuse_unk", path, false));
  PPD_ASSIGN_OR_RETURN(model.ignore_merges_, get_bool(value, "ignore_merges", path, false));
  if (!value.contains("vocab")) return invalid_argument("{}: missing", field_path(path, "vocab"));
  PPD_RETURN_IF_ERROR(model.parse_vocab(value["vocab"], field_path(path, "vocab")));
  PPD_ASSIGN_OR_RETURN(const Json* merges, get_array(value, "merges", path));
  PPD_RETURN_IF_ERROR(model.parse_merges(*merges, field_path(path, "merges")));
  PPD_ASSIGN_OR_RETURN(const std::string unk_token, get_string(value, "unk_token", path, ""));
  // Like HF, an unk_token outside the vocabulary only matters when a character needs it;
  // such characters are then dropped.
  if (!unk_token.empty()) model.unk_id_ = model.token_to_id(unk_token);
  for (int b = 0; b < 256; ++b) {
    model.byte_ids_[b] = model.token_to_id(fmt::format("<0x{:02X}>", b)).value_or(-1);
  }
  return model;
}

Status BpeModel::parse_vocab(const Json& vocab, std::string_view path) {
  PPD_RETURN_IF_ERROR(require_object(vocab, path));
  for (const auto& [token, id_json] : vocab.items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() >= kMaxTokenId) {
      return invalid_argument("{}[\"{}\"]: must be an integer in [0, {}); got {}", path, token, kMaxTokenId,
                              describe_json(id_json));
    }
    const auto id = static_cast<TokenId>(id_json.get<int64_t>());
    if (find_invalid_utf8(token)) return invalid_argument("{}: a token is invalid UTF-8", path);
    if (static_cast<size_t>(id) >= id_to_token_.size()) {
      id_to_token_.resize(id + 1);
      has_token_.resize(id + 1, 0);
    }
    id_to_token_[id] = token;
    has_token_[id] = 1;
    vocab_.emplace(token, id);
  }
  return Status::Ok();
}

Status BpeModel::parse_merges(const Json& merges, std::string_view path) {
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const Json& merge = merges[i];
    const std::string merge_path = index_path(path, i);
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        return invalid_argument("{}: must be \"<left> <right>\"; got {}", merge_path, describe_json(merge));
      }
      PPD_RETURN_IF_ERROR(
          add_merge(std::string_view(text).substr(0, space), std::string_view(text).substr(space + 1), merge_path));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      PPD_RETURN_IF_ERROR(add_merge(merge[0].get<std::string>(), merge[1].get<std::string>(), merge_path));
    } else {
      return invalid_argument("{}: must be \"<left> <right>\" or [left, right]; got {}", merge_path,
                              describe_json(merge));
    }
  }
  return Status::Ok();
}

Status BpeModel::add_merge(std::string_view left, std::string_view right, std::string_view path) {
  const std::string merged = std::string(left) + std::string(right);
  const std::optional<TokenId> left_id = token_to_id(left);
  const std::optional<TokenId> right_id = token_to_id(right);
  const std::optional<TokenId> merged_id = token_to_id(merged);
  for (const auto& [token, id] :
       {std::pair{std::string_view(left), left_id}, std::pair{std::string_view(right), right_id},
        std::pair{std::string_view(merged), merged_id}}) {
    if (!id) return invalid_argument("{}: token \"{}\" is not in the vocabulary", path, token);
  }
  // Like HF, a repeated pair takes its last rank.
  const auto rank = static_cast<int32_t>(merges_.size());
  merges_.insert_or_assign(pair_key(*left_id, *right_id), Merge{rank, *merged_id});
  return Status::Ok();
}

std::optional<TokenId> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(TokenId id) const {
  if (id < 0 || id >= num_ids() || !has_token_[id]) return nullptr;
  return &id_to_token_[id];
}

const BpeModel::Merge* BpeModel::find_merge(TokenId left, TokenId right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<TokenId>* ids) const {
  if (ignore_merges_) {
    if (const std::optional<TokenId> id = token_to_id(word)) {
      ids->push_back(*id);
      return;
    }
  }
  std::vector<Symbol> symbols = initial_symbols(word);
  if (symbols.empty()) return;
  merge_symbols(&symbols);
  for (int32_t i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
}

std::vector<BpeModel::Symbol> BpeModel::initial_symbols(std::string_view word) const {
  std::vector<TokenId> ids;
  ids.reserve(word.size());
  bool pending_unk = false;  // a fused run of unknown characters not yet emitted
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t start = pos;
    next_code_point(word, &pos);
    const std::string_view character = word.substr(start, pos - start);
    if (const std::optional<TokenId> id = token_to_id(character)) {
      if (pending_unk) ids.push_back(*unk_id_);
      pending_unk = false;
      ids.push_back(*id);
      continue;
    }
    bool all_bytes = byte_fallback_;
    for (const char c : character) all_bytes = all_bytes && byte_ids_[static_cast<uint8_t>(c)] >= 0;
    if (all_bytes) {
      for (const char c : character) ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
      continue;
    }
    if (!unk_id_) continue;
    if (pending_unk && !fuse_unk_) ids.push_back(*unk_id_);
    pending_unk = true;
  }
  if (pending_unk) ids.push_back(*unk_id_);
  return link_symbols(ids);
}

void BpeModel::merge_symbols(std::vector<Symbol>* symbols_ptr) const {
  std::vector<Symbol>& symbols = *symbols_ptr;
  struct Candidate {
    int32_t rank;
    int32_t pos;  // index of the left symbol
    TokenId merged_id;
  };
  // Lowest rank first, then leftmost: the order of HF's Word::merge_all.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  const auto push_pair = [&](int32_t left) {
    const int32_t right = symbols[left].next;
    if (right < 0) return;
    if (const Merge* merge = find_merge(symbols[left].id, symbols[right].id)) {
      queue.push({merge->rank, left, merge->merged_id});
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_pair(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* merge = find_merge(left.id, right.id);
    if (merge == nullptr || merge->merged_id != top.merged_id) continue;  // stale entry
    left.id = top.merged_id;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
}

}  // namespace ppd::tokenizer
