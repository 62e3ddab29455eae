#include "ppd/tokenizer/tokenizer.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/tokenizer/tokenizer_config.h"
#include "ppd/tokenizer/tokenizer_impl.h"
#include "ppd/tokenizer/utf8.h"

namespace ppd::tokenizer {
namespace {

using Impl = Tokenizer::Impl;

Status parse_components(const Json& root, Impl* impl) {
  PPD_RETURN_IF_ERROR(require_object(root, ""));
  const Json null_json;
  const auto field = [&](const char* key) -> const Json& {
    const auto it = root.find(key);
    return it == root.end() ? null_json : *it;
  };
  if (!root.contains("model")) return invalid_argument("model: missing");
  PPD_ASSIGN_OR_RETURN(impl->model, BpeModel::parse(root["model"], "model"));
  PPD_ASSIGN_OR_RETURN(impl->normalizer, Normalizer::parse(field("normalizer"), "normalizer"));
  PPD_ASSIGN_OR_RETURN(impl->pre_tokenizer, PreTokenizer::parse(field("pre_tokenizer"), "pre_tokenizer"));
  PPD_ASSIGN_OR_RETURN(impl->decoder, Decoder::parse(field("decoder"), "decoder"));
  PPD_ASSIGN_OR_RETURN(impl->added_tokens, parse_added_tokens(field("added_tokens"), "added_tokens"));
  return Status::Ok();
}

// Sizes the id space and builds the two added-token matchers.
Status index_added_tokens(Impl* impl) {
  impl->vocab_size = impl->model.num_ids();
  for (const AddedToken& token : impl->added_tokens) {
    impl->vocab_size = std::max(impl->vocab_size, token.id + 1);
  }
  impl->added_index.assign(impl->vocab_size, -1);
  std::vector<AddedTokenMatcher::Pattern> raw_patterns;
  std::vector<AddedTokenMatcher::Pattern> normalized_patterns;
  for (size_t i = 0; i < impl->added_tokens.size(); ++i) {
    const AddedToken& token = impl->added_tokens[i];
    impl->added_index[token.id] = static_cast<int32_t>(i);
    if (!token.normalized) {
      raw_patterns.push_back({token.content, &token});
      continue;
    }
    PPD_ASSIGN_OR_RETURN(std::string pattern, impl->normalizer.normalize(token.content));
    if (!pattern.empty()) normalized_patterns.push_back({std::move(pattern), &token});
  }
  impl->raw_matcher = AddedTokenMatcher(std::move(raw_patterns));
  impl->normalized_matcher = AddedTokenMatcher(std::move(normalized_patterns));
  return Status::Ok();
}

// Tokenizer::max_input_bytes_per_token(): an unknown character (up to 4 bytes) may be one token.
int64_t input_bytes_per_token_bound(const Impl& impl) {
  const double ratio = impl.normalizer.min_length_ratio();
  if (!(ratio > 0) || !impl.pre_tokenizer.keeps_every_byte() || impl.model.may_fuse_unknown()) return 0;
  size_t longest = 4;
  for (TokenId id = 0; id < impl.vocab_size; ++id) {
    if (const std::string* text = impl.token_text(id)) longest = std::max(longest, text->size());
  }
  return static_cast<int64_t>(std::ceil(static_cast<double>(longest) / ratio));
}

Result<std::optional<TokenId>> resolve_special(const Tokenizer& tokenizer, const std::optional<std::string>& token,
                                               std::string_view key) {
  if (!token) return std::optional<TokenId>();
  const std::optional<TokenId> id = tokenizer.token_to_id(*token);
  if (!id) {
    return invalid_argument("tokenizer_config.json: {}: \"{}\" is not in the vocabulary", key, *token);
  }
  return id;
}

Status apply_config(const TokenizerConfig& config, const Tokenizer& tokenizer, Impl* impl) {
  PPD_ASSIGN_OR_RETURN(impl->bos_id, resolve_special(tokenizer, config.bos_token, "bos_token"));
  PPD_ASSIGN_OR_RETURN(impl->eos_id, resolve_special(tokenizer, config.eos_token, "eos_token"));
  impl->bos_token = config.bos_token.value_or("");
  impl->eos_token = config.eos_token.value_or("");
  impl->add_bos_token = config.add_bos_token;
  impl->chat_template = config.chat_template;
  return Status::Ok();
}

// Pre-tokenizes normalized text and appends the BPE ids of each word.
Status encode_normalized(const Impl& impl, PreToken text, std::vector<TokenId>* ids) {
  PPD_ASSIGN_OR_RETURN(const std::vector<PreToken> words, impl.pre_tokenizer.split(std::move(text)));
  for (const PreToken& word : words) impl.model.encode_word(word.text, ids);
  return Status::Ok();
}

// Encodes raw text between non-normalized added tokens: normalize, then split on the
// normalized added tokens, then the rest through pre-tokenizer and model.
Status encode_raw_text(const Impl& impl, std::string_view text, bool at_origin, std::vector<TokenId>* ids) {
  PPD_ASSIGN_OR_RETURN(const std::string normalized, impl.normalizer.normalize(text));
  for (const TextSegment& segment : impl.normalized_matcher.split(normalized)) {
    if (segment.id) {
      ids->push_back(*segment.id);
      continue;
    }
    PreToken piece{normalized.substr(segment.begin, segment.end - segment.begin), at_origin && segment.begin == 0};
    PPD_RETURN_IF_ERROR(encode_normalized(impl, std::move(piece), ids));
  }
  return Status::Ok();
}

}  // namespace

const std::string* Tokenizer::Impl::token_text(TokenId id) const {
  if (added_index[id] >= 0) return &added_tokens[added_index[id]].content;
  return model.id_to_token(id);
}

bool Tokenizer::Impl::is_special(TokenId id) const {
  return id >= 0 && id < vocab_size && added_index[id] >= 0 && added_tokens[added_index[id]].special;
}

Result<Tokenizer> Tokenizer::load(const std::string& dir) {
  const std::string json_path = dir + "/tokenizer.json";
  const std::string config_path = dir + "/tokenizer_config.json";
  PPD_ASSIGN_OR_RETURN(const std::string tokenizer_json, read_file(json_path));
  std::string config_json;
  if (file_exists(config_path)) {
    PPD_ASSIGN_OR_RETURN(config_json, read_file(config_path));
  }
  Result<Tokenizer> tokenizer = from_json(tokenizer_json, config_json);
  if (!tokenizer.ok()) return tokenizer.status().with_context(dir);
  return tokenizer;
}

Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json) {
  PPD_ASSIGN_OR_RETURN(const TokenizerConfig config, parse_tokenizer_config(tokenizer_config_json));
  PPD_ASSIGN_OR_RETURN(const Json root, parse_json(tokenizer_json, "tokenizer.json"));
  auto impl = std::make_shared<Impl>();
  Status status = parse_components(root, impl.get());
  if (status.ok()) status = index_added_tokens(impl.get());
  if (!status.ok()) return status.with_context("tokenizer.json");
  impl->max_input_bytes_per_token = input_bytes_per_token_bound(*impl);
  const Tokenizer unconfigured(impl);
  PPD_RETURN_IF_ERROR(apply_config(config, unconfigured, impl.get()));
  return Tokenizer(std::move(impl));
}

Result<std::vector<TokenId>> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (const std::optional<size_t> offset = find_invalid_utf8(text)) {
    return invalid_argument("text: invalid UTF-8 at byte offset {}", *offset);
  }
  std::vector<TokenId> ids;
  if (options.add_bos) {
    if (!impl_->bos_id) return invalid_argument("add_bos: the tokenizer has no bos_token");
    ids.push_back(*impl_->bos_id);
  }
  for (const TextSegment& segment : impl_->raw_matcher.split(text)) {
    if (segment.id) {
      ids.push_back(*segment.id);
      continue;
    }
    PPD_RETURN_IF_ERROR(
        encode_raw_text(*impl_, text.substr(segment.begin, segment.end - segment.begin), segment.begin == 0, &ids));
  }
  return ids;
}

Result<std::string> Tokenizer::decode(std::span<const TokenId> ids, const DecodeOptions& options) const {
  std::string text;
  DecodeStream stream(&impl_->decoder);
  for (size_t i = 0; i < ids.size(); ++i) {
    const TokenId id = ids[i];
    if (id < 0 || id >= impl_->vocab_size) {
      return invalid_argument("ids[{}]: must be in [0, vocab size {}); got {}", i, impl_->vocab_size, id);
    }
    if (options.skip_special_tokens && impl_->is_special(id)) continue;
    if (const std::string* token = impl_->token_text(id)) stream.push(*token, &text);
  }
  stream.flush(&text);
  return text;
}

int Tokenizer::vocab_size() const { return impl_->vocab_size; }

int64_t Tokenizer::max_input_bytes_per_token() const { return impl_->max_input_bytes_per_token; }

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& added : impl_->added_tokens) {
    if (added.content == token) return added.id;
  }
  return impl_->model.token_to_id(token);
}

std::optional<std::string_view> Tokenizer::id_to_token(TokenId id) const {
  if (id < 0 || id >= impl_->vocab_size) return std::nullopt;
  const std::string* token = impl_->token_text(id);
  if (token == nullptr) return std::nullopt;
  return std::string_view(*token);
}

std::optional<TokenId> Tokenizer::bos_id() const { return impl_->bos_id; }
std::optional<TokenId> Tokenizer::eos_id() const { return impl_->eos_id; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }
bool Tokenizer::add_bos_token() const { return impl_->add_bos_token; }
bool Tokenizer::is_special(TokenId id) const { return impl_->is_special(id); }
const std::string& Tokenizer::chat_template_source() const { return impl_->chat_template; }

}  // namespace ppd::tokenizer
