#include "ppd/model/synth_tokenizer.h"

#include <nlohmann/json.hpp>

#include "ppd/model/synth_bpe.h"

namespace ppd::model {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

const std::vector<std::string> kSpecialTokens = {"<|bos|>", "<|eos|>", "<|im_start|>", "<|im_end|>"};

constexpr const char* kChatTemplate =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

ordered_json added_token(const std::string& content, int id) {
  return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", true}};
}

ordered_json byte_level(bool add_prefix_space) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", true}};
}

// Prepends <|bos|> to every encoding, matching add_bos_token.
ordered_json bos_post_processor() {
  const ordered_json bos = {{"SpecialToken", {{"id", kSpecialTokens[0]}, {"type_id", 0}}}};
  const auto sequence = [](const char* id) { return ordered_json{{"Sequence", {{"id", id}, {"type_id", 0}}}}; };
  return {
      {"type", "TemplateProcessing"},
      {"single", {bos, sequence("A")}},
      {"pair", {bos, sequence("A"), bos, sequence("B")}},
      {"special_tokens",
       {{kSpecialTokens[0], {{"id", kSpecialTokens[0]}, {"ids", {kSynthBosId}}, {"tokens", {kSpecialTokens[0]}}}}}}};
}

ordered_json bpe_model(const BpeTraining& training) {
  json vocab = json::object();  // sorted by token text; ids say the order
  for (size_t id = 0; id < training.tokens.size(); ++id) {
    const bool special = id >= 256 && id < 256 + kSpecialTokens.size();
    vocab[special ? training.tokens[id] : to_byte_level(training.tokens[id])] = id;
  }
  json merges = json::array();
  for (const auto& [left, right] : training.merges) {
    merges.push_back(to_byte_level(training.tokens[left]) + " " + to_byte_level(training.tokens[right]));
  }
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

std::string tokenizer_json(const BpeTraining& training) {
  ordered_json added = ordered_json::array();
  for (size_t i = 0; i < kSpecialTokens.size(); ++i) {
    added.push_back(added_token(kSpecialTokens[i], static_cast<int>(256 + i)));
  }
  ordered_json out = {{"version", "1.0"},
                      {"truncation", nullptr},
                      {"padding", nullptr},
                      {"added_tokens", std::move(added)},
                      {"normalizer", nullptr},
                      {"pre_tokenizer", byte_level(false)},
                      {"post_processor", bos_post_processor()},
                      {"decoder", byte_level(true)},
                      {"model", bpe_model(training)}};
  return out.dump(1) + "\n";
}

std::string tokenizer_config_json(int max_model_len) {
  ordered_json decoder = ordered_json::object();
  for (size_t i = 0; i < kSpecialTokens.size(); ++i) {
    ordered_json entry = added_token(kSpecialTokens[i], 0);
    entry.erase("id");
    decoder[std::to_string(256 + i)] = std::move(entry);
  }
  ordered_json out = {{"add_bos_token", true},
                      {"add_eos_token", false},
                      {"added_tokens_decoder", std::move(decoder)},
                      {"bos_token", kSpecialTokens[0]},
                      {"eos_token", kSpecialTokens[1]},
                      {"pad_token", kSpecialTokens[1]},
                      {"chat_template", kChatTemplate},
                      {"clean_up_tokenization_spaces", false},
                      {"model_max_length", max_model_len},
                      {"tokenizer_class", "PreTrainedTokenizerFast"}};
  return out.dump(2) + "\n";
}

}  // namespace

Result<SynthTokenizer> synthesize_tokenizer(int vocab_size, int max_model_len) {
  if (vocab_size < kMinSynthVocabSize || vocab_size > kMaxSynthVocabSize) {
    return invalid_argument("vocab_size: must be in [{}, {}] for the synthetic tokenizer; got {}", kMinSynthVocabSize,
                            kMaxSynthVocabSize, vocab_size);
  }
  std::vector<std::string> initial(256);
  for (int b = 0; b < 256; ++b) initial[b] = std::string(1, static_cast<char>(b));
  initial.insert(initial.end(), kSpecialTokens.begin(), kSpecialTokens.end());
  const BpeTraining training = train_synth_bpe(std::move(initial), vocab_size);
  return SynthTokenizer{tokenizer_json(training), tokenizer_config_json(max_model_len)};
}

}  // namespace ppd::model
