#include "ppd/tokenizer/incremental_detokenizer.h"

#include "ppd/tokenizer/tokenizer_impl.h"

namespace ppd::tokenizer {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(tokenizer), options_(options), stream_(&tokenizer_.impl_->decoder) {}

std::string IncrementalDetokenizer::push(TokenId id) {
  std::string text;
  const Tokenizer::Impl& impl = *tokenizer_.impl_;
  if (id < 0 || id >= impl.vocab_size) return text;
  if (options_.skip_special_tokens && impl.is_special(id)) return text;
  if (const std::string* token = impl.token_text(id)) stream_.push(*token, &text);
  return text;
}

std::string IncrementalDetokenizer::flush() {
  std::string text;
  stream_.flush(&text);
  return text;
}

}  // namespace ppd::tokenizer
