// Exact-text tests of the errors a user can cause: bad input text, bad ids, bad or missing
// files, unsupported tokenizer.json types.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/tokenizer/test_tokenizers.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::tokenizer {
namespace {

using testing::SentencePieceStyle;

std::string llama2_json() { return testing::sentencepiece_tokenizer_json(SentencePieceStyle::kLlama2); }

// Returns the error message of loading llama2_json() with `edit` applied.
template <typename Edit>
std::string load_error(Edit edit, std::string_view config = "") {
  nlohmann::json root = nlohmann::json::parse(llama2_json());
  edit(root);
  Result<Tokenizer> tokenizer = Tokenizer::from_json(root.dump(), config);
  EXPECT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), StatusCode::kInvalidArgument);
  return tokenizer.status().message();
}

TEST(TokenizerErrorsTest, InvalidUtf8Text) {
  const Tokenizer tokenizer = testing::must_load(llama2_json());
  Result<std::vector<TokenId>> ids = tokenizer.encode(
      "ab\xFF"
      "cd");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().to_string(), "INVALID_ARGUMENT: text: invalid UTF-8 at byte offset 2");
  EXPECT_EQ(tokenizer.encode("ok \xE2\x82").status().message(), "text: invalid UTF-8 at byte offset 3");
}

TEST(TokenizerErrorsTest, IdOutOfRange) {
  const Tokenizer tokenizer = testing::must_load(llama2_json());
  const std::vector<TokenId> ids = {5, tokenizer.vocab_size() + 10};
  Result<std::string> text = tokenizer.decode(ids);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().to_string(), fmt::format("INVALID_ARGUMENT: ids[1]: must be in [0, vocab size {}); got {}",
                                                   tokenizer.vocab_size(), tokenizer.vocab_size() + 10));
  const std::vector<TokenId> negative = {-3};
  EXPECT_EQ(tokenizer.decode(negative).status().message(),
            fmt::format("ids[0]: must be in [0, vocab size {}); got -3", tokenizer.vocab_size()));
}

TEST(TokenizerErrorsTest, UnknownTypes) {
  EXPECT_EQ(load_error([](auto& j) {
              j["pre_tokenizer"] = {{"type", "Whitespace"}};
            }),
            "tokenizer.json: pre_tokenizer.type: unknown \"Whitespace\"; supported: ByteLevel, "
            "Metaspace, Split, Sequence");
  EXPECT_EQ(
      load_error([](auto& j) {
        j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Metaspace"}}, {{"type", "Digits"}}}}};
      }),
      "tokenizer.json: pre_tokenizer.pretokenizers[1].type: unknown \"Digits\"; supported: "
      "ByteLevel, Metaspace, Split, Sequence");
  EXPECT_EQ(load_error([](auto& j) {
              j["normalizer"]["normalizers"][0] = {{"type", "Lowercase"}};
            }),
            "tokenizer.json: normalizer.normalizers[0].type: unknown \"Lowercase\"; supported: "
            "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD");
  EXPECT_EQ(load_error([](auto& j) {
              j["decoder"] = {{"type", "WordPiece"}};
            }),
            "tokenizer.json: decoder.type: unknown \"WordPiece\"; supported: ByteFallback, "
            "ByteLevel, Fuse, Metaspace, Replace, Sequence, Strip");
  EXPECT_EQ(load_error([](auto& j) { j["model"]["type"] = "Unigram"; }),
            "tokenizer.json: model.type: unknown \"Unigram\"; supported: BPE");
}

TEST(TokenizerErrorsTest, MalformedFields) {
  EXPECT_EQ(load_error([](auto& j) { j["model"]["byte_fallback"] = "yes"; }),
            "tokenizer.json: model.byte_fallback: must be a boolean; got \"yes\"");
  EXPECT_EQ(load_error([](auto& j) { j["model"]["merges"][0] = "▁ zz"; }),
            "tokenizer.json: model.merges[0]: token \"zz\" is not in the vocabulary");
  EXPECT_EQ(load_error([](auto& j) { j["model"]["merges"][1] = 7; }),
            "tokenizer.json: model.merges[1]: must be \"<left> <right>\" or [left, right]; got 7");
  EXPECT_EQ(load_error([](auto& j) {
              j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}};
            }),
            "tokenizer.json: pre_tokenizer.pattern.Regex: invalid regex "
            "(U_REGEX_MISMATCHED_PAREN at offset 2): (a");
  EXPECT_EQ(load_error([](auto& j) { j.erase("model"); }), "tokenizer.json: model: missing");
}

TEST(TokenizerErrorsTest, DeepNestingIsRejected) {
  std::string nested = R"({"type": "NFC"})";
  std::string path = "normalizer";
  for (int i = 0; i < 20; ++i) {
    nested = R"({"type": "Sequence", "normalizers": [)" + nested + "]}";
    if (i < 8) path += ".normalizers[0]";
  }
  EXPECT_EQ(load_error([&](auto& j) { j["normalizer"] = nlohmann::json::parse(nested); }),
            "tokenizer.json: " + path + ": Sequence nested deeper than 8");
  const std::string deep_json = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(Tokenizer::from_json(deep_json, "").status().message(),
            "tokenizer.json: (root): must be an object; got [...]");
}

TEST(TokenizerErrorsTest, MalformedJson) {
  Result<Tokenizer> tokenizer = Tokenizer::from_json("{\"model\": ", "");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      tokenizer.status().message().starts_with("tokenizer.json: malformed JSON: parse error at line 1, column 11"))
      << tokenizer.status().message();
  Result<Tokenizer> bad_config = Tokenizer::from_json(llama2_json(), "{,}");
  ASSERT_FALSE(bad_config.ok());
  EXPECT_TRUE(bad_config.status().message().starts_with("tokenizer_config.json: malformed JSON: "))
      << bad_config.status().message();
}

TEST(TokenizerErrorsTest, BadTokenizerConfig) {
  EXPECT_EQ(load_error([](auto&) {}, R"({"bos_token": "<nope>"})"),
            "tokenizer_config.json: bos_token: \"<nope>\" is not in the vocabulary");
  EXPECT_EQ(load_error([](auto&) {}, R"({"eos_token": 5})"),
            "tokenizer_config.json: eos_token: must be a string or an object with \"content\"; got 5");
  EXPECT_EQ(load_error([](auto&) {}, R"({"add_bos_token": "true"})"),
            "tokenizer_config.json: add_bos_token: must be a boolean; got \"true\"");
}

TEST(TokenizerErrorsTest, MissingFiles) {
  Result<Tokenizer> tokenizer = Tokenizer::load("/nonexistent/ppd-model");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().to_string(),
            "NOT_FOUND: /nonexistent/ppd-model/tokenizer.json: cannot open: No such file or directory");
}

TEST(TokenizerErrorsTest, AddBosWithoutBos) {
  const Tokenizer tokenizer = testing::must_load(llama2_json());
  EXPECT_EQ(tokenizer.encode("hi", {.add_bos = true}).status().message(), "add_bos: the tokenizer has no bos_token");
}

TEST(TokenizerConfigTest, ReadsSpecialTokensInBothForms) {
  const Tokenizer tokenizer =
      testing::must_load(llama2_json(), R"({"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
                        "add_bos_token": true, "chat_template": [
                          {"name": "tool_use", "template": "x"},
                          {"name": "default", "template": "{{ '[INST]' }}"}]})");
  EXPECT_EQ(tokenizer.bos_id(), 1);
  EXPECT_EQ(tokenizer.eos_id(), 2);
  EXPECT_EQ(tokenizer.bos_token(), "<s>");
  EXPECT_TRUE(tokenizer.add_bos_token());
  EXPECT_EQ(tokenizer.chat_template_source(), "{{ '[INST]' }}");
  EXPECT_EQ(
      *tokenizer.encode("hi", {.add_bos = true}),
      (std::vector<TokenId>{1, *tokenizer.token_to_id("▁"), *tokenizer.token_to_id("h"), *tokenizer.token_to_id("i")}));
}

}  // namespace
}  // namespace ppd::tokenizer
