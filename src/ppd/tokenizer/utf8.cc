#include "ppd/tokenizer/utf8.h"

#include <cstdint>

namespace ppd::tokenizer {
namespace {

enum class SequenceKind { kValid, kTruncated, kInvalid };

struct SequenceCheck {
  SequenceKind kind;
  size_t num_bytes;  // kValid: the sequence; kInvalid: the maximal invalid subpart
};

// Classifies the sequence at s[pos] following the well-formed byte table of Unicode §3.9.
SequenceCheck check_sequence(std::string_view s, size_t pos) {
  const auto lead = static_cast<uint8_t>(s[pos]);
  if (lead < 0x80) return {SequenceKind::kValid, 1};
  size_t length = 0;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {SequenceKind::kInvalid, 1};
  }
  for (size_t i = 1; i < length; ++i) {
    if (pos + i >= s.size()) return {SequenceKind::kTruncated, i};
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if (b < lo || b > hi) return {SequenceKind::kInvalid, i};
    lo = 0x80;
    hi = 0xBF;
  }
  return {SequenceKind::kValid, length};
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const SequenceCheck check = check_sequence(text, pos);
    if (check.kind != SequenceKind::kValid) return pos;
    pos += check.num_bytes;
  }
  return std::nullopt;
}

char32_t next_code_point(std::string_view text, size_t* pos) {
  const auto lead = static_cast<uint8_t>(text[*pos]);
  size_t length = 1;
  char32_t cp = lead;
  if (lead >= 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else if (lead >= 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if (lead >= 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  }
  for (size_t i = 1; i < length; ++i) {
    cp = (cp << 6) | (static_cast<uint8_t>(text[*pos + i]) & 0x3F);
  }
  *pos += length;
  return cp;
}

size_t previous_code_point_start(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t append_utf8_lossy(std::string_view bytes, IncompleteTail tail, std::string* out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    const SequenceCheck check = check_sequence(bytes, pos);
    if (check.kind == SequenceKind::kValid) {
      out->append(bytes.substr(pos, check.num_bytes));
    } else if (check.kind == SequenceKind::kTruncated && tail == IncompleteTail::kHold) {
      return pos;
    } else {
      out->append(kReplacementChar);
    }
    pos += check.num_bytes;
  }
  return pos;
}

}  // namespace ppd::tokenizer
