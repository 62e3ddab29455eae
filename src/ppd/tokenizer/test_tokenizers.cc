#include "ppd/tokenizer/test_tokenizers.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/tokenizer/byte_level.h"
#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer::testing {
namespace {

using Json = nlohmann::json;

Json added_token(int id, std::string_view content, bool special) {
  return {{"id", id},        {"content", content},     {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", !special}, {"special", special}};
}

Json byte_level_pre_tokenizer(ByteLevelStyle style) {
  if (style == ByteLevelStyle::kGpt2) {
    return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  }
  const std::string_view regex = style == ByteLevelStyle::kLlama3 ? kLlama3Regex : kQwen2Regex;
  return {{"type", "Sequence"},
          {"pretokenizers",
           Json::array(
               {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}})}};
}

std::vector<std::string_view> byte_level_special_tokens(ByteLevelStyle style) {
  switch (style) {
    case ByteLevelStyle::kGpt2:
      return {"<|endoftext|>"};
    case ByteLevelStyle::kLlama3:
      return {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    case ByteLevelStyle::kQwen2:
      return {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  }
  return {};
}

}  // namespace

std::string byte_level_tokenizer_json(ByteLevelStyle style) {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) {
    std::string token;
    append_byte_level_text(std::string(1, static_cast<char>(b)), &token);
    vocab[token] = b;
  }
  const std::vector<std::pair<std::string, std::string>> merges = {{"H", "e"},    {"He", "l"}, {"Hel", "l"},
                                                                   {"Hell", "o"}, {"Ġ", "w"},  {"o", "r"},
                                                                   {"Ġw", "or"},  {"l", "d"},  {"Ġwor", "ld"}};
  Json merge_list = Json::array();
  for (const auto& [left, right] : merges) {
    vocab[left + right] = static_cast<int>(vocab.size());
    if (style == ByteLevelStyle::kQwen2) {
      merge_list.push_back(Json::array({left, right}));
    } else {
      merge_list.push_back(left + " " + right);
    }
  }
  if (style == ByteLevelStyle::kLlama3) vocab["Ġxyz"] = static_cast<int>(vocab.size());
  Json added = Json::array();
  for (const std::string_view content : byte_level_special_tokens(style)) {
    added.push_back(added_token(static_cast<int>(vocab.size() + added.size()), content, true));
  }
  Json root = {{"version", "1.0"},
               {"added_tokens", added},
               {"normalizer", nullptr},
               {"pre_tokenizer", byte_level_pre_tokenizer(style)},
               {"post_processor", nullptr},
               {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}},
               {"model",
                {{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", nullptr},
                 {"fuse_unk", false},
                 {"byte_fallback", false},
                 {"ignore_merges", style == ByteLevelStyle::kLlama3},
                 {"vocab", vocab},
                 {"merges", merge_list}}}};
  if (style == ByteLevelStyle::kQwen2) root["normalizer"] = {{"type", "NFC"}};
  return root.dump();
}

namespace {

Json sentencepiece_decoder(SentencePieceStyle style) {
  if (style == SentencePieceStyle::kMetaspaceDecoder) {
    return {{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true}};
  }
  return {{"type", "Sequence"},
          {"decoders", Json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                                    {{"type", "ByteFallback"}},
                                    {{"type", "Fuse"}},
                                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}};
}

void set_sentencepiece_text_steps(SentencePieceStyle style, Json* root) {
  (*root)["normalizer"] = nullptr;
  if (style == SentencePieceStyle::kLlama2) {
    (*root)["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers", Json::array({{{"type", "Prepend"}, {"prepend", "▁"}},
                                     {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}})}};
    (*root)["pre_tokenizer"] = nullptr;
  } else if (style == SentencePieceStyle::kMistral) {
    (*root)["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  } else {
    (*root)["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true}};
  }
}

}  // namespace

std::string sentencepiece_tokenizer_json(SentencePieceStyle style) {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = 3 + b;
  vocab["▁"] = static_cast<int>(vocab.size());
  for (char c = '!'; c <= '~'; ++c) vocab[std::string(1, c)] = static_cast<int>(vocab.size());
  const std::vector<std::pair<std::string, std::string>> merges = {{"▁", "t"}, {"h", "e"}, {"▁t", "he"},
                                                                   {"▁", "a"}, {"i", "s"}, {"▁", "is"}};
  Json merge_list = Json::array();
  for (const auto& [left, right] : merges) {
    vocab[left + right] = static_cast<int>(vocab.size());
    merge_list.push_back(left + " " + right);
  }
  Json root = {{"version", "1.0"},
               {"added_tokens", Json::array({added_token(0, "<unk>", true), added_token(1, "<s>", true),
                                             added_token(2, "</s>", true)})},
               {"decoder", sentencepiece_decoder(style)},
               {"model",
                {{"type", "BPE"},
                 {"unk_token", "<unk>"},
                 {"fuse_unk", true},
                 {"byte_fallback", true},
                 {"vocab", vocab},
                 {"merges", merge_list}}}};
  set_sentencepiece_text_steps(style, &root);
  return root.dump();
}

Tokenizer must_load(std::string_view tokenizer_json, std::string_view config_json) {
  Result<Tokenizer> tokenizer = Tokenizer::from_json(tokenizer_json, config_json);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().to_string();
  if (!tokenizer.ok()) std::abort();
  return std::move(tokenizer).value();
}

std::vector<std::string> tokens_of(const Tokenizer& tokenizer, const std::vector<TokenId>& ids) {
  std::vector<std::string> tokens;
  for (const TokenId id : ids) tokens.emplace_back(tokenizer.id_to_token(id).value_or("?"));
  return tokens;
}

std::string random_unicode(uint32_t seed, int length) {
  // NFC-stable ranges, so that NFC tokenizers round-trip too.
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {{' ', ';'},       {'=', '~'},         {'\n', '\n'},
                                                              {'\t', '\t'},     {0xA0, 0xFF},       {0x4E00, 0x4FFF},
                                                              {0xAC00, 0xAD00}, {0x1F600, 0x1F64F}, {0x1F680, 0x1F6C5}};
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < length; ++i) {
    const auto& [lo, hi] = kRanges[rng() % std::size(kRanges)];
    append_utf8(lo + static_cast<char32_t>(rng() % (hi - lo + 1)), &out);
  }
  return out;
}

bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text).has_value(); }

}  // namespace ppd::tokenizer::testing
