#include "ppd/tokenizer/byte_level.h"

#include <array>

#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {
namespace {

constexpr bool maps_to_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<char32_t, 256> make_byte_table() {
  std::array<char32_t, 256> table{};
  char32_t next_shifted = 0x100;
  for (int b = 0; b < 256; ++b) {
    table[b] = maps_to_itself(b) ? static_cast<char32_t>(b) : next_shifted++;
  }
  return table;
}

constexpr std::array<char32_t, 256> kByteToCodePoint = make_byte_table();
constexpr char32_t kNumMappedCodePoints = 0x100 + 68;

constexpr std::array<int16_t, kNumMappedCodePoints> make_reverse_table() {
  std::array<int16_t, kNumMappedCodePoints> table{};
  for (auto& entry : table) entry = -1;
  for (int b = 0; b < 256; ++b) table[kByteToCodePoint[b]] = static_cast<int16_t>(b);
  return table;
}

constexpr std::array<int16_t, kNumMappedCodePoints> kCodePointToByte = make_reverse_table();

}  // namespace

char32_t byte_to_code_point(uint8_t b) { return kByteToCodePoint[b]; }

std::optional<uint8_t> code_point_to_byte(char32_t code_point) {
  if (code_point >= kNumMappedCodePoints || kCodePointToByte[code_point] < 0) return std::nullopt;
  return static_cast<uint8_t>(kCodePointToByte[code_point]);
}

void append_byte_level_text(std::string_view bytes, std::string* out) {
  for (const char c : bytes) append_utf8(byte_to_code_point(static_cast<uint8_t>(c)), out);
}

bool append_bytes_of_byte_level_text(std::string_view text, std::string* out) {
  const size_t old_size = out->size();
  size_t pos = 0;
  while (pos < text.size()) {
    const std::optional<uint8_t> b = code_point_to_byte(next_code_point(text, &pos));
    if (!b) {
      out->resize(old_size);
      return false;
    }
    out->push_back(static_cast<char>(*b));
  }
  return true;
}

}  // namespace ppd::tokenizer
