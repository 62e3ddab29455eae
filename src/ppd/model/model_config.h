// ModelConfig: the shape and numerics of a Llama-family model, parsed strictly from a
// Hugging Face config.json (llama; mistral and qwen2 where they differ only by config).
// Immutable after parsing; validated once here so downstream code may assume it is sane.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"

namespace ppd::model {

enum class Architecture { kLlama, kMistral, kQwen2 };
std::string_view architecture_name(Architecture arch);        // HF model_type: "llama"
std::string_view architecture_class_name(Architecture arch);  // "LlamaForCausalLM"

enum class RopeScalingKind { kNone, kLlama3, kLinear };

struct RopeScaling {
  RopeScalingKind kind = RopeScalingKind::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;                 // llama3 only
  double high_freq_factor = 4.0;                // llama3 only
  int original_max_position_embeddings = 8192;  // llama3 only

  friend bool operator==(const RopeScaling&, const RopeScaling&) = default;
};

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // hidden_size / num_heads unless config.json says otherwise
  int vocab_size = 0;
  int max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // bias on q/k/v projections (always true for qwen2)
  int sliding_window = 0;       // 0: none. Mistral's window caps the usable context.
  std::optional<TokenId> bos_token_id;
  std::vector<TokenId> eos_token_ids;

  // Context length the engine may use: max_position_embeddings, capped by sliding_window.
  int max_model_len() const;
  int64_t num_parameters() const;

  friend bool operator==(const ModelConfig&, const ModelConfig&) = default;
};

// Parses config.json text. `source` names the file in error messages.
// Errors: unknown architecture (listing the supported ones), missing or mistyped fields,
// inconsistent shapes (e.g. num_heads not a multiple of num_kv_heads).
Result<ModelConfig> parse_model_config(std::string_view json_text, std::string_view source);

// Overrides bos_token_id / eos_token_ids (mutates `config`) with those present in a
// generation_config.json text; other keys are ignored. `source` names the file in errors.
Status apply_generation_config(std::string_view json_text, std::string_view source, ModelConfig& config);

// Reads <dir>/config.json, and eos/bos overrides from <dir>/generation_config.json if present.
// Error messages name the files by their full paths.
Result<ModelConfig> load_model_config(const std::string& dir);

// Serializes to HF config.json text (used by `ppd model synth`).
std::string model_config_to_json(const ModelConfig& config);

}  // namespace ppd::model
