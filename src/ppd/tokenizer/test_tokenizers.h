// Test support: small tokenizer.json texts built in code (a full byte-level alphabet or
// byte-fallback tokens plus a few merges), shaped like the files of GPT-2, Llama 3, Qwen 2,
// Llama 2 and Mistral, and helpers shared by the tokenizer tests. Test-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer::testing {

inline constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

enum class ByteLevelStyle {
  kGpt2,    // ByteLevel pre-tokenizer with GPT-2's regex; <|endoftext|>
  kLlama3,  // Split(Llama 3 regex) + ByteLevel; ignore_merges; Llama 3 special tokens
  kQwen2,   // NFC + Split(Qwen 2 regex) + ByteLevel; ChatML special tokens
};

// Vocabulary: ids 0..255 are the 256 byte-level characters in byte order, then the merges
// "H e", "He l", "Hel l", "Hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", then (Llama 3
// only) "Ġxyz" without a merge path, then the added tokens. Merges use the ["a", "b"] form
// for kQwen2 and the "a b" form otherwise.
std::string byte_level_tokenizer_json(ByteLevelStyle style);

enum class SentencePieceStyle {
  kLlama2,            // normalizer Prepend+Replace; decoder Replace, ByteFallback, Fuse, Strip
  kMistral,           // Metaspace pre-tokenizer (prepend_scheme first, split false); same decoder
  kMetaspaceDecoder,  // Metaspace pre-tokenizer and decoder (legacy add_prefix_space)
};

// Vocabulary: <unk> 0, <s> 1, </s> 2 (added, special, normalized false), <0x00>..<0xFF>
// 3..258, then "▁", printable ASCII letters, digits and punctuation, then merges
// "▁ t", "h e", "▁t he", "▁ a", "i s", "▁ is".
std::string sentencepiece_tokenizer_json(SentencePieceStyle style);

// Loads one of the above, failing the calling test on error.
Tokenizer must_load(std::string_view tokenizer_json, std::string_view config_json = "");

// Returns the token strings of `ids` ("?" for unknown ids).
std::vector<std::string> tokens_of(const Tokenizer& tokenizer, const std::vector<TokenId>& ids);

// Returns a random string of `length` code points drawn from ASCII, Latin-1, CJK, emoji and
// combining marks (deterministic for a seed). Never contains '<' (no added-token matches).
std::string random_unicode(uint32_t seed, int length);

// Returns true when `text` is valid UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace ppd::tokenizer::testing
