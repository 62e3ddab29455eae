#include "ppd/tokenizer/text_pattern.h"

#include <unicode/regex.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {

struct TextPattern::CompiledRegex {
  std::unique_ptr<icu::RegexPattern> pattern;
};

namespace {

// Oniguruma's \s is Unicode White_Space; ICU's omits U+000B and U+0085. Rewrites \s and \S
// outside of escapes so that both engines split the same way.
std::string rewrite_space_classes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '\\' || i + 1 == pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    const char next = pattern[++i];
    if (next == 's') {
      out += "\\p{White_Space}";
    } else if (next == 'S') {
      out += "\\P{White_Space}";
    } else {
      out.push_back('\\');
      out.push_back(next);
    }
  }
  return out;
}

// UTF-16 text of a UTF-8 string, with the UTF-8 offset of every UTF-16 index.
struct Utf16Text {
  icu::UnicodeString text;
  std::vector<size_t> utf8_offsets;  // [text.length() + 1]
};

Utf16Text to_utf16(std::string_view utf8) {
  Utf16Text out;
  out.utf8_offsets.reserve(utf8.size() + 1);
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t start = pos;
    const char32_t cp = next_code_point(utf8, &pos);
    out.text.append(static_cast<UChar32>(cp));
    out.utf8_offsets.push_back(start);
    if (cp > 0xFFFF) out.utf8_offsets.push_back(start);  // the low surrogate
  }
  out.utf8_offsets.push_back(utf8.size());
  return out;
}

std::vector<ByteRange> find_literal(std::string_view literal, std::string_view text) {
  std::vector<ByteRange> matches;
  if (literal.empty()) return matches;
  size_t pos = text.find(literal);
  while (pos != std::string_view::npos) {
    matches.push_back({pos, pos + literal.size()});
    pos = text.find(literal, pos + literal.size());
  }
  return matches;
}

}  // namespace

Result<TextPattern> TextPattern::parse(const Json& value, std::string_view path) {
  PPD_RETURN_IF_ERROR(require_object(value, path));
  if (value.contains("String")) {
    PPD_ASSIGN_OR_RETURN(std::string text, get_string(value, "String", path));
    return literal(std::move(text));
  }
  if (value.contains("Regex")) {
    PPD_ASSIGN_OR_RETURN(std::string text, get_string(value, "Regex", path));
    return regex(text, field_path(path, "Regex"));
  }
  return invalid_argument("{}: must hold \"String\" or \"Regex\"; got {}", path, describe_json(value));
}

Result<TextPattern> TextPattern::regex(std::string_view pattern, std::string_view path) {
  if (find_invalid_utf8(pattern)) return invalid_argument("{}: invalid UTF-8", path);
  const std::string rewritten = rewrite_space_classes(pattern);
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error{};
  auto compiled = std::make_shared<CompiledRegex>();
  compiled->pattern.reset(icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(rewritten), 0, parse_error, status));
  if (U_FAILURE(status) || compiled->pattern == nullptr) {
    return invalid_argument("{}: invalid regex ({} at offset {}): {}", path, u_errorName(status), parse_error.offset,
                            pattern);
  }
  TextPattern out;
  out.regex_ = std::move(compiled);
  return out;
}

TextPattern TextPattern::literal(std::string text) {
  TextPattern out;
  out.literal_ = std::move(text);
  return out;
}

Result<std::vector<ByteRange>> TextPattern::find_all(std::string_view text) const {
  if (regex_ == nullptr) return find_literal(literal_, text);
  const Utf16Text utf16 = to_utf16(text);
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(regex_->pattern->matcher(utf16.text, status));
  std::vector<ByteRange> matches;
  while (U_SUCCESS(status) && matcher->find(status)) {
    const int32_t begin = matcher->start(status);
    const int32_t end = matcher->end(status);
    if (U_FAILURE(status) || begin == end) continue;
    matches.push_back({utf16.utf8_offsets[begin], utf16.utf8_offsets[end]});
  }
  if (U_FAILURE(status)) return internal_error("regex match failed: {}", u_errorName(status));
  return matches;
}

Result<std::string> replace_all(const TextPattern& pattern, std::string_view text, std::string_view content) {
  PPD_ASSIGN_OR_RETURN(const std::vector<ByteRange> matches, pattern.find_all(text));
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const ByteRange& match : matches) {
    out.append(text.substr(pos, match.begin - pos));
    out.append(content);
    pos = match.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace ppd::tokenizer
