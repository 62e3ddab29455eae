// Fuzz target: arbitrary bytes through the tokenizer (encode, which must refuse invalid UTF-8
// cleanly) and arbitrary ids back through decode, on a byte-level (Qwen 2 style) and a
// SentencePiece-style (Llama 2) tokenizer.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "ppd/tokenizer/test_tokenizers.h"
#include "ppd/tokenizer/tokenizer.h"

namespace tok = ppd::tokenizer;

namespace {

const std::vector<tok::Tokenizer>& tokenizers() {
  static const std::vector<tok::Tokenizer> all = [] {
    std::vector<tok::Tokenizer> t;
    t.push_back(
        *tok::Tokenizer::from_json(tok::testing::byte_level_tokenizer_json(tok::testing::ByteLevelStyle::kQwen2), ""));
    t.push_back(*tok::Tokenizer::from_json(
        tok::testing::sentencepiece_tokenizer_json(tok::testing::SentencePieceStyle::kLlama2), ""));
    return t;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const tok::Tokenizer& t : tokenizers()) {
    (void)t.encode(text);
    std::vector<ppd::TokenId> ids(size / sizeof(ppd::TokenId));
    if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * sizeof(ppd::TokenId));
    (void)t.decode(ids);
    for (ppd::TokenId& id : ids) id = static_cast<ppd::TokenId>(static_cast<uint32_t>(id) % 600);
    (void)t.decode(ids);
  }
  return 0;
}
