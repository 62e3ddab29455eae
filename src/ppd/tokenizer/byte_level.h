// GPT-2's reversible byte <-> unicode map used by byte-level BPE (GPT-2, Llama 3, Qwen):
// every byte stands for one printable code point, so that a vocabulary of "characters"
// covers all byte strings. Printable Latin-1 bytes map to themselves; the other 68 bytes
// map to U+0100.. in byte order. Pure functions on constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ppd::tokenizer {

// Returns the code point that stands for byte `b`.
char32_t byte_to_code_point(uint8_t b);

// Returns the byte that `code_point` stands for, or nullopt outside the map.
std::optional<uint8_t> code_point_to_byte(char32_t code_point);

// Appends the byte-level text of `bytes`: each byte as its code point, UTF-8 encoded.
void append_byte_level_text(std::string_view bytes, std::string* out);

// Appends the bytes that byte-level `text` stands for. Returns false, appending nothing,
// when some code point of `text` is outside the map. REQUIRES: `text` is valid UTF-8.
bool append_bytes_of_byte_level_text(std::string_view text, std::string* out);

}  // namespace ppd::tokenizer
