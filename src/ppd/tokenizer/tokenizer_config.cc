#include "ppd/tokenizer/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "ppd/tokenizer/json_fields.h"

namespace ppd::tokenizer {
namespace {

// Reads a special token given as "text", {"content": "text", ...} or null.
Result<std::optional<std::string>> parse_special_token(const Json& config, std::string_view key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object()) {
    PPD_ASSIGN_OR_RETURN(std::string content, get_string(*it, "content", key));
    return std::optional<std::string>(std::move(content));
  }
  return invalid_argument("{}: must be a string or an object with \"content\"; got {}", key, describe_json(*it));
}

// Reads chat_template given as a string or as a list of {"name", "template"} objects, of
// which the one named "default" (else the first) counts.
Result<std::string> parse_chat_template(const Json& config) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) {
    return invalid_argument("chat_template: must be a string or a list; got {}", describe_json(*it));
  }
  std::string chosen;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& entry = (*it)[i];
    const std::string path = index_path("chat_template", i);
    PPD_RETURN_IF_ERROR(require_object(entry, path));
    PPD_ASSIGN_OR_RETURN(const std::string name, get_string(entry, "name", path, ""));
    PPD_ASSIGN_OR_RETURN(std::string source, get_string(entry, "template", path));
    if (name == "default" || i == 0) chosen = std::move(source);
    if (name == "default") break;
  }
  return chosen;
}

Result<TokenizerConfig> parse_config_object(const Json& config) {
  PPD_RETURN_IF_ERROR(require_object(config, ""));
  TokenizerConfig out;
  PPD_ASSIGN_OR_RETURN(out.bos_token, parse_special_token(config, "bos_token"));
  PPD_ASSIGN_OR_RETURN(out.eos_token, parse_special_token(config, "eos_token"));
  PPD_ASSIGN_OR_RETURN(out.add_bos_token, get_bool(config, "add_bos_token", "", false));
  PPD_ASSIGN_OR_RETURN(out.chat_template, parse_chat_template(config));
  return out;
}

}  // namespace

Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text) {
  if (json_text.empty()) return TokenizerConfig{};
  PPD_ASSIGN_OR_RETURN(const Json config, parse_json(json_text, "tokenizer_config.json"));
  Result<TokenizerConfig> parsed = parse_config_object(config);
  if (!parsed.ok()) return parsed.status().with_context("tokenizer_config.json");
  return parsed;
}

}  // namespace ppd::tokenizer
