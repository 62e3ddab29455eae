// UTF-8 helpers: validation, code point iteration, and lossy decoding that replaces each
// maximal invalid subpart with U+FFFD (the Unicode "substitution of maximal subparts" rule,
// as Rust's from_utf8_lossy and WHATWG do). The lossy decoder can hold an incomplete tail,
// so a byte stream decoded in chunks gives the same text as decoded at once.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ppd::tokenizer {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Returns the byte offset of the first byte that does not start a complete, valid UTF-8
// sequence, or nullopt when all of `text` is valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view text);

// Decodes the code point at text[*pos] and advances *pos past it.
// REQUIRES: `text` is valid UTF-8 and *pos < text.size() is at a code point boundary.
char32_t next_code_point(std::string_view text, size_t* pos);

// Returns the start of the code point that ends just before text[end].
// REQUIRES: `text` is valid UTF-8, 0 < end <= text.size(), end at a code point boundary.
size_t previous_code_point_start(std::string_view text, size_t end);

// Appends the UTF-8 encoding of `code_point` (REQUIRES: a Unicode scalar value).
void append_utf8(char32_t code_point, std::string* out);

// What lossy decoding does with an incomplete but so far valid sequence at the end.
enum class IncompleteTail { kHold, kReplace };

// Appends `bytes` to *out as valid UTF-8, replacing invalid subparts with U+FFFD. Returns
// how many bytes it consumed: all of them, except an incomplete tail under kHold.
size_t append_utf8_lossy(std::string_view bytes, IncompleteTail tail, std::string* out);

}  // namespace ppd::tokenizer
