// The synthetic tokenizer written by `ppd model synth`: HF tokenizer.json (byte-level BPE:
// ByteLevel pre-tokenizer with use_regex, ByteLevel decoder, BPE model with "a b" merges) and
// tokenizer_config.json (bos/eos strings, add_bos_token, a ChatML chat_template). Its vocab
// holds exactly vocab_size ids: the 256 byte symbols (id = byte value), the special tokens
// <|bos|>, <|eos|>, <|im_start|>, <|im_end|> (ids 256..259), then BPE merges learned from a
// built-in pseudo-English corpus. Deterministic in vocab_size alone. Pure; thread-safe.
#pragma once

#include <string>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::model {

inline constexpr TokenId kSynthBosId = 256;
inline constexpr TokenId kSynthEosId = 257;
inline constexpr TokenId kSynthImStartId = 258;
inline constexpr TokenId kSynthImEndId = 259;
inline constexpr int kMinSynthVocabSize = 261;  // bytes, specials and at least one merge
inline constexpr int kMaxSynthVocabSize = 1 << 20;

struct SynthTokenizer {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};

// Returns both files' text. `max_model_len` becomes model_max_length.
// Errors: INVALID_ARGUMENT when vocab_size is outside [kMinSynthVocabSize, kMaxSynthVocabSize].
Result<SynthTokenizer> synthesize_tokenizer(int vocab_size, int max_model_len);

}  // namespace ppd::model
