#include "ppd/model/synth_tokenizer.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ppd/model/synth_bpe.h"

namespace ppd::model {
namespace {

using nlohmann::json;

// A plain reference BPE encoder over one pre-token (already in byte-level text): repeatedly
// merge the adjacent pair of lowest rank. Returns the number of tokens.
size_t count_tokens(const std::string& raw, const std::map<std::pair<std::string, std::string>, size_t>& ranks) {
  std::vector<std::string> symbols;
  for (const char c : raw) symbols.push_back(to_byte_level(std::string(1, c)));
  while (symbols.size() > 1) {
    size_t best = symbols.size(), best_rank = SIZE_MAX;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = ranks.find({symbols[i], symbols[i + 1]});
      if (it != ranks.end() && it->second < best_rank) best = i, best_rank = it->second;
    }
    if (best == symbols.size()) break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  return symbols.size();
}

void check_tokenizer(int vocab_size) {
  const Result<SynthTokenizer> tokenizer = synthesize_tokenizer(vocab_size, 1024);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().to_string();
  const json doc = json::parse(tokenizer->tokenizer_json);
  const json& vocab = doc["model"]["vocab"];
  ASSERT_EQ(vocab.size(), static_cast<size_t>(vocab_size));
  std::set<int> ids;
  for (const auto& [token, id] : vocab.items()) ids.insert(id.get<int>());
  ASSERT_EQ(ids.size(), static_cast<size_t>(vocab_size));
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), vocab_size - 1);
  EXPECT_EQ(vocab["Ġ"], 32);
  EXPECT_EQ(vocab["a"], 97);
  EXPECT_EQ(vocab["<|im_end|>"], 259);
  for (const json& merge : doc["model"]["merges"]) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    ASSERT_NE(space, std::string::npos) << text;
    const std::string left = text.substr(0, space), right = text.substr(space + 1);
    ASSERT_TRUE(vocab.contains(left)) << text;
    ASSERT_TRUE(vocab.contains(right)) << text;
    ASSERT_TRUE(vocab.contains(left + right)) << text;
  }
  ASSERT_EQ(doc["added_tokens"].size(), 4u);
  EXPECT_EQ(doc["added_tokens"][1]["content"], "<|eos|>");
  EXPECT_EQ(doc["added_tokens"][1]["id"], 257);
  EXPECT_EQ(doc["added_tokens"][1]["special"], true);
  EXPECT_EQ(doc["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(doc["pre_tokenizer"]["use_regex"], true);
  EXPECT_EQ(doc["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(doc["model"]["type"], "BPE");
}

TEST(SynthTokenizerTest, VocabularyIsExactAndMergesAreConsistent) {
  check_tokenizer(2048);
  check_tokenizer(261);
}

TEST(SynthTokenizerTest, LargerVocabularyIsConsistent) { check_tokenizer(8192); }

TEST(SynthTokenizerTest, EnglishEncodesToSeveralCharactersPerToken) {
  const Result<SynthTokenizer> tokenizer = synthesize_tokenizer(8192, 1024);
  ASSERT_TRUE(tokenizer.ok());
  const json doc = json::parse(tokenizer->tokenizer_json);
  EXPECT_TRUE(doc["model"]["vocab"].contains("Ġthe"));
  EXPECT_TRUE(doc["model"]["vocab"].contains("Ġand"));
  std::map<std::pair<std::string, std::string>, size_t> ranks;
  for (const json& merge : doc["model"]["merges"]) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    ranks.emplace(std::pair{text.substr(0, space), text.substr(space + 1)}, ranks.size());
  }
  const std::string text =
      "Once upon a time there was a little girl who lived in a village near the forest. Every "
      "morning she would walk to the river with her mother to bring water for the family, and "
      "on the way home they talked about the animals, the weather and the people of the town.";
  std::istringstream words(text);
  std::string word;
  size_t num_tokens = 0;
  for (bool first = true; words >> word; first = false) {
    num_tokens += count_tokens(first ? word : " " + word, ranks);
  }
  const double chars_per_token = static_cast<double>(text.size()) / num_tokens;
  EXPECT_GT(chars_per_token, 3.0) << num_tokens << " tokens";
}

TEST(SynthTokenizerTest, DeterministicAndValidated) {
  EXPECT_EQ(synthesize_tokenizer(1000, 64)->tokenizer_json, synthesize_tokenizer(1000, 64)->tokenizer_json);
  EXPECT_EQ(synthesize_tokenizer(260, 64).status().message(),
            "vocab_size: must be in [261, 1048576] for the synthetic tokenizer; got 260");
  const json config = json::parse(synthesize_tokenizer(1000, 64)->tokenizer_config_json);
  EXPECT_EQ(config["model_max_length"], 64);
  EXPECT_EQ(config["added_tokens_decoder"]["258"]["content"], "<|im_start|>");
}

TEST(SynthTokenizerTest, ByteLevelAlphabetMatchesGpt2) {
  EXPECT_EQ(to_byte_level(" "), "Ġ");
  EXPECT_EQ(to_byte_level("\n"), "Ċ");
  EXPECT_EQ(to_byte_level("A"), "A");
  EXPECT_EQ(to_byte_level(std::string(1, '\xad')), "Ń");
  std::set<std::string> distinct(byte_level_alphabet().begin(), byte_level_alphabet().end());
  EXPECT_EQ(distinct.size(), 256u);
}

}  // namespace
}  // namespace ppd::model
