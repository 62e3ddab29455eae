#include "ppd/tokenizer/added_tokens.h"

#include <unicode/uchar.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {
namespace {

Result<AddedToken> parse_added_token(const Json& value, std::string_view path) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  AddedToken token;
  PPD_ASSIGN_OR_RETURN(const int64_t id, get_int(value, "id", path));
  if (id < 0 || id >= (int64_t{1} << 24)) {
    return invalid_argument("{}: must be in [0, 16777216); got {}", field_path(path, "id"), id);
  }
  token.id = static_cast<TokenId>(id);
  PPD_ASSIGN_OR_RETURN(token.content, get_string(value, "content", path));
  if (token.content.empty()) return invalid_argument("{}: must not be empty", field_path(path, "content"));
  PPD_ASSIGN_OR_RETURN(token.special, get_bool(value, "special", path, false));
  PPD_ASSIGN_OR_RETURN(token.lstrip, get_bool(value, "lstrip", path, false));
  PPD_ASSIGN_OR_RETURN(token.rstrip, get_bool(value, "rstrip", path, false));
  PPD_ASSIGN_OR_RETURN(token.normalized, get_bool(value, "normalized", path, !token.special));
  PPD_ASSIGN_OR_RETURN(token.single_word, get_bool(value, "single_word", path, false));
  return token;
}

bool is_whitespace(char32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)); }
bool is_word_char(char32_t cp) { return cp == '_' || u_isalnum(static_cast<UChar32>(cp)); }

// Returns the start of the run of whitespace that ends at text[end], not before `floor`.
size_t whitespace_start_before(std::string_view text, size_t end, size_t floor) {
  while (end > floor) {
    const size_t start = previous_code_point_start(text, end);
    size_t pos = start;
    if (!is_whitespace(next_code_point(text, &pos))) break;
    end = start;
  }
  return std::max(end, floor);
}

size_t whitespace_end_after(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t pos = begin;
    if (!is_whitespace(next_code_point(text, &pos))) break;
    begin = pos;
  }
  return begin;
}

bool is_inside_word(std::string_view text, size_t begin, size_t end) {
  if (begin > 0) {
    size_t pos = previous_code_point_start(text, begin);
    if (is_word_char(next_code_point(text, &pos))) return true;
  }
  size_t pos = end;
  return end < text.size() && is_word_char(next_code_point(text, &pos));
}

}  // namespace

Result<std::vector<AddedToken>> parse_added_tokens(const Json& value, std::string_view path) {
  std::vector<AddedToken> tokens;
  if (value.is_null()) return tokens;
  if (!value.is_array()) return invalid_argument("{}: must be an array; got {}", path, describe_json(value));
  for (size_t i = 0; i < value.size(); ++i) {
    PPD_ASSIGN_OR_RETURN(AddedToken token, parse_added_token(value[i], index_path(path, i)));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

AddedTokenMatcher::AddedTokenMatcher(std::vector<Pattern> patterns) : patterns_(std::move(patterns)) {
  std::stable_sort(patterns_.begin(), patterns_.end(), [](const Pattern& a, const Pattern& b) {
    const auto a0 = static_cast<uint8_t>(a.text[0]);
    const auto b0 = static_cast<uint8_t>(b.text[0]);
    return a0 != b0 ? a0 < b0 : a.text.size() > b.text.size();
  });
  size_t index = 0;
  for (int b = 0; b < 256; ++b) {
    first_byte_begin_[b] = static_cast<uint32_t>(index);
    while (index < patterns_.size() && static_cast<uint8_t>(patterns_[index].text[0]) == b) ++index;
  }
  first_byte_begin_[256] = static_cast<uint32_t>(patterns_.size());
}

const AddedTokenMatcher::Pattern* AddedTokenMatcher::longest_match_at(std::string_view text, size_t pos) const {
  const auto b = static_cast<uint8_t>(text[pos]);
  for (uint32_t i = first_byte_begin_[b]; i < first_byte_begin_[b + 1]; ++i) {
    if (text.substr(pos).starts_with(patterns_[i].text)) return &patterns_[i];
  }
  return nullptr;
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> segments;
  size_t done = 0;  // end of the last segment
  size_t pos = 0;
  while (pos < text.size()) {
    const Pattern* match = patterns_.empty() ? nullptr : longest_match_at(text, pos);
    size_t end = match ? pos + match->text.size() : 0;
    if (match == nullptr || (match->token->single_word && is_inside_word(text, pos, end))) {
      ++pos;
      continue;
    }
    const size_t begin = match->token->lstrip ? whitespace_start_before(text, pos, done) : pos;
    if (match->token->rstrip) end = whitespace_end_after(text, end);
    if (done < begin) segments.push_back({done, begin, std::nullopt});
    segments.push_back({begin, end, match->token->id});
    done = pos = end;
  }
  if (done < text.size()) segments.push_back({done, text.size(), std::nullopt});
  return segments;
}

}  // namespace ppd::tokenizer
