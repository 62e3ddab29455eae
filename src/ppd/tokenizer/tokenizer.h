// Tokenizer: a Hugging Face tokenizer.json (BPE, SentencePiece-style or byte-level) plus
// the special tokens of tokenizer_config.json, written by hand. encode: added-token split
// -> normalizer -> pre-tokenizer -> BPE; decode: the decoder chain. The post-processor is
// not applied: callers ask for BOS through EncodeOptions.
// Immutable after load; safe to use const from several threads; copies and moves are cheap
// (they share the immutable state).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::tokenizer {

struct EncodeOptions {
  // Prepend bos_id(). INVALID_ARGUMENT when set and the tokenizer has no BOS token.
  bool add_bos = false;
};

struct DecodeOptions {
  // Drop added tokens marked special (BOS, EOS, <|im_end|>, ...) from the text.
  bool skip_special_tokens = false;
};

class Tokenizer {
 public:
  // Reads <dir>/tokenizer.json and, if present, <dir>/tokenizer_config.json. Returns
  // NOT_FOUND naming the path when tokenizer.json is missing, INVALID_ARGUMENT naming the
  // file and JSON path when a file is malformed or uses an unsupported type.
  static Result<Tokenizer> load(const std::string& dir);
  // Same from the files' text; `tokenizer_config_json` may be empty.
  static Result<Tokenizer> from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json);

  // Returns the ids of `text`, or INVALID_ARGUMENT "text: invalid UTF-8 at byte offset N".
  Result<std::vector<TokenId>> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Returns the text of `ids`; INVALID_ARGUMENT naming the index, the id and the vocab size
  // when an id is outside [0, vocab_size()). Invalid UTF-8 from byte tokens becomes U+FFFD.
  Result<std::string> decode(std::span<const TokenId> ids, const DecodeOptions& options = {}) const;

  // Returns the number of ids: max id + 1 over the vocabulary and the added tokens.
  int vocab_size() const;
  // An upper bound on the bytes of input text one token can stand for, so that encoding `text`
  // gives at least ceil(text.size() / bound) tokens: the longest token text, over the
  // normalizer's least length ratio. 0 when the tokenizer can drop or fuse text without bound
  // (then no bound holds). Lets a caller refuse an over-long text before encoding it.
  int64_t max_input_bytes_per_token() const;
  // Returns the id of an added token or vocabulary entry (exact string, e.g. "▁the").
  std::optional<TokenId> token_to_id(std::string_view token) const;
  // Returns the token string of `id`, or nullopt when no token has that id.
  std::optional<std::string_view> id_to_token(TokenId id) const;

  // BOS/EOS from tokenizer_config.json; nullopt / "" when it names none.
  std::optional<TokenId> bos_id() const;
  std::optional<TokenId> eos_id() const;
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  // tokenizer_config.json's add_bos_token (false when absent).
  bool add_bos_token() const;
  // True for added tokens marked special.
  bool is_special(TokenId id) const;
  // tokenizer_config.json's chat_template source; "" if none.
  const std::string& chat_template_source() const;

  struct Impl;  // the parsed components; internal to the library (tokenizer_impl.h)

 private:
  friend class IncrementalDetokenizer;

  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace ppd::tokenizer
