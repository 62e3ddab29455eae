// TokenizerConfig: the fields of a Hugging Face tokenizer_config.json that ppd uses: the
// BOS/EOS token strings (plain strings or {"content": ...} objects), add_bos_token and the
// chat_template source. Other keys are ignored: the file carries many library-specific
// ones. A plain value type; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd::tokenizer {

struct TokenizerConfig {
  std::optional<std::string> bos_token;  // nullopt when absent or null
  std::optional<std::string> eos_token;
  bool add_bos_token = false;  // false when absent
  std::string chat_template;   // "" when absent; the "default" one of a list
};

// Parses the text of tokenizer_config.json; an empty text gives the defaults. Errors are
// INVALID_ARGUMENT starting "tokenizer_config.json: ".
Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text);

}  // namespace ppd::tokenizer
