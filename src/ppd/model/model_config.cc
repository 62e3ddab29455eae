#include "ppd/model/model_config.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ppd/common/file.h"
#include "ppd/model/json_reader.h"

namespace ppd::model {
namespace {

using nlohmann::json;

struct ArchitectureInfo {
  Architecture architecture;
  std::string_view model_type;
  std::string_view class_name;
};

constexpr std::array<ArchitectureInfo, 3> kArchitectures = {{
    {Architecture::kLlama, "llama", "LlamaForCausalLM"},
    {Architecture::kMistral, "mistral", "MistralForCausalLM"},
    {Architecture::kQwen2, "qwen2", "Qwen2ForCausalLM"},
}};

const ArchitectureInfo& info_of(Architecture architecture) {
  for (const ArchitectureInfo& info : kArchitectures) {
    if (info.architecture == architecture) return info;
  }
  return kArchitectures[0];
}

// Upper bounds generous enough for every released Llama-family model.
constexpr int64_t kMaxHiddenSize = 1 << 20;
constexpr int64_t kMaxIntermediateSize = 1 << 22;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxVocabSize = 1 << 24;
constexpr int64_t kMaxPositions = 1 << 30;

Result<Architecture> parse_model_type(const JsonReader& reader) {
  PPD_ASSIGN_OR_RETURN(std::string model_type, reader.required_string("model_type"));
  for (const ArchitectureInfo& info : kArchitectures) {
    if (info.model_type == model_type) return info.architecture;
  }
  return reader.error("model_type", fmt::format("unknown \"{}\"; supported: llama, mistral, qwen2", model_type));
}

// `architectures` is optional; when present, every entry must agree with model_type.
Status check_architectures(const JsonReader& reader, Architecture architecture) {
  const json* list = reader.find("architectures");
  if (list == nullptr) return Status::Ok();
  if (!list->is_array()) return reader.type_error("architectures", "a list of strings");
  for (const json& entry : *list) {
    if (!entry.is_string()) return reader.type_error("architectures", "a list of strings");
    const std::string name = entry.get<std::string>();
    const auto known = std::find_if(kArchitectures.begin(), kArchitectures.end(),
                                    [&](const ArchitectureInfo& i) { return i.class_name == name; });
    if (known == kArchitectures.end()) {
      return reader.error("architectures", fmt::format("unknown \"{}\"; supported: LlamaForCausalLM, "
                                                       "MistralForCausalLM, Qwen2ForCausalLM",
                                                       name));
    }
    if (known->architecture != architecture) {
      return reader.error("architectures", fmt::format("\"{}\" does not match model_type \"{}\"", name,
                                                       info_of(architecture).model_type));
    }
  }
  return Status::Ok();
}

Status parse_shape(const JsonReader& reader, ModelConfig& config) {
  PPD_ASSIGN_OR_RETURN(config.hidden_size, reader.required_int_in("hidden_size", 1, kMaxHiddenSize));
  PPD_ASSIGN_OR_RETURN(config.intermediate_size, reader.required_int_in("intermediate_size", 1, kMaxIntermediateSize));
  PPD_ASSIGN_OR_RETURN(config.num_layers, reader.required_int_in("num_hidden_layers", 1, kMaxLayers));
  PPD_ASSIGN_OR_RETURN(config.num_heads, reader.required_int_in("num_attention_heads", 1, kMaxHeads));
  PPD_ASSIGN_OR_RETURN(config.vocab_size, reader.required_int_in("vocab_size", 1, kMaxVocabSize));
  PPD_ASSIGN_OR_RETURN(config.max_position_embeddings,
                       reader.required_int_in("max_position_embeddings", 1, kMaxPositions));
  PPD_ASSIGN_OR_RETURN(std::optional<int> num_kv_heads, reader.optional_int_in("num_key_value_heads", 1, kMaxHeads));
  config.num_kv_heads = num_kv_heads.value_or(config.num_heads);
  if (config.num_heads % config.num_kv_heads != 0) {
    return reader.error("num_attention_heads", fmt::format("must be a multiple of num_key_value_heads ({}); got {}",
                                                           config.num_kv_heads, config.num_heads));
  }
  PPD_ASSIGN_OR_RETURN(std::optional<int> head_dim, reader.optional_int_in("head_dim", 1, 65536));
  if (!head_dim && config.hidden_size % config.num_heads != 0) {
    return reader.error("hidden_size", fmt::format("must be a multiple of num_attention_heads ({}); got {}",
                                                   config.num_heads, config.hidden_size));
  }
  config.head_dim = head_dim.value_or(config.hidden_size / config.num_heads);
  if (config.head_dim % 2 != 0) {
    return reader.error(head_dim ? "head_dim" : "hidden_size / num_attention_heads",
                        fmt::format("must be even for rotary embeddings; got {}", config.head_dim));
  }
  return Status::Ok();
}

Result<double> positive_number(const JsonReader& reader, std::string_view key, std::optional<double> default_value) {
  PPD_ASSIGN_OR_RETURN(std::optional<double> value, reader.optional_number(key));
  if (!value && !default_value) return reader.error(key, "missing");
  const double v = value ? *value : *default_value;
  if (!(v > 0) || !std::isfinite(v)) return reader.error(key, fmt::format("must be > 0; got {}", v));
  return v;
}

Result<RopeScaling> parse_llama3_rope(const JsonReader& reader) {
  RopeScaling scaling;
  scaling.kind = RopeScalingKind::kLlama3;
  PPD_ASSIGN_OR_RETURN(scaling.factor, positive_number(reader, "factor", std::nullopt));
  PPD_ASSIGN_OR_RETURN(scaling.low_freq_factor, positive_number(reader, "low_freq_factor", std::nullopt));
  PPD_ASSIGN_OR_RETURN(scaling.high_freq_factor, positive_number(reader, "high_freq_factor", std::nullopt));
  if (scaling.high_freq_factor <= scaling.low_freq_factor) {
    return reader.error("high_freq_factor", fmt::format("must be > low_freq_factor ({}); got {}",
                                                        scaling.low_freq_factor, scaling.high_freq_factor));
  }
  PPD_ASSIGN_OR_RETURN(scaling.original_max_position_embeddings,
                       reader.required_int_in("original_max_position_embeddings", 1, kMaxPositions));
  return scaling;
}

Result<RopeScaling> parse_rope_scaling(const JsonReader& reader) {
  const json* object = reader.find("rope_scaling");
  if (object == nullptr) return RopeScaling{};
  if (!object->is_object()) return reader.type_error("rope_scaling", "null or an object");
  const JsonReader rope(*object, reader.prefix() + "rope_scaling.");
  const std::string_view type_key = rope.has("rope_type") ? "rope_type" : "type";
  PPD_ASSIGN_OR_RETURN(std::string type, rope.required_string(type_key));
  if (type == "llama3") return parse_llama3_rope(rope);
  if (type == "linear") {
    RopeScaling scaling;
    scaling.kind = RopeScalingKind::kLinear;
    PPD_ASSIGN_OR_RETURN(scaling.factor, positive_number(rope, "factor", std::nullopt));
    return scaling;
  }
  if (type == "default") return RopeScaling{};
  return rope.error(type_key, fmt::format("unsupported \"{}\"; supported: llama3, linear, default", type));
}

Status parse_features(const JsonReader& reader, ModelConfig& config) {
  PPD_ASSIGN_OR_RETURN(std::optional<std::string> act, reader.optional_string("hidden_act"));
  if (act && *act != "silu") {
    return reader.error("hidden_act", fmt::format("unsupported \"{}\"; supported: silu", *act));
  }
  PPD_ASSIGN_OR_RETURN(std::optional<bool> mlp_bias, reader.optional_bool("mlp_bias"));
  if (mlp_bias.value_or(false)) {
    return Status(StatusCode::kUnimplemented, reader.prefix() + "mlp_bias: true is not implemented");
  }
  PPD_ASSIGN_OR_RETURN(std::optional<bool> attention_bias, reader.optional_bool("attention_bias"));
  // Qwen2 always has q/k/v biases; Mistral never has them (HF ignores the field there).
  config.attention_bias = config.architecture == Architecture::kQwen2 ||
                          (config.architecture == Architecture::kLlama && attention_bias.value_or(false));
  PPD_ASSIGN_OR_RETURN(std::optional<bool> tied, reader.optional_bool("tie_word_embeddings"));
  config.tie_word_embeddings = tied.value_or(false);
  PPD_ASSIGN_OR_RETURN(config.rms_norm_eps, positive_number(reader, "rms_norm_eps", 1e-6));
  PPD_ASSIGN_OR_RETURN(config.rope_theta, positive_number(reader, "rope_theta", 10000.0));
  PPD_ASSIGN_OR_RETURN(config.rope_scaling, parse_rope_scaling(reader));
  PPD_ASSIGN_OR_RETURN(std::optional<int> window, reader.optional_int_in("sliding_window", 1, kMaxPositions));
  PPD_ASSIGN_OR_RETURN(std::optional<bool> use_window, reader.optional_bool("use_sliding_window"));
  const bool applies = config.architecture == Architecture::kMistral ||
                       (config.architecture == Architecture::kQwen2 && use_window.value_or(false));
  config.sliding_window = applies ? window.value_or(0) : 0;
  return Status::Ok();
}

Result<TokenId> token_id(const JsonReader& reader, std::string_view key, const json& value, int vocab_size) {
  if (!value.is_number_integer()) {
    return reader.error(key, fmt::format("expected an integer or a list of integers; got {}", json_excerpt(value)));
  }
  const int64_t id = value.is_number_unsigned()
                         ? static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), INT64_MAX))
                         : value.get<int64_t>();
  if (id < 0 || id >= vocab_size) {
    return reader.error(key, fmt::format("must be in [0, {}); got {}", vocab_size, json_excerpt(value)));
  }
  return static_cast<TokenId>(id);
}

// Reads bos_token_id (an integer) and eos_token_id (an integer or a list) where present.
Status parse_special_tokens(const JsonReader& reader, ModelConfig& config) {
  if (const json* bos = reader.find("bos_token_id")) {
    if (!bos->is_number_integer()) return reader.type_error("bos_token_id", "an integer");
    PPD_ASSIGN_OR_RETURN(config.bos_token_id, token_id(reader, "bos_token_id", *bos, config.vocab_size));
  }
  const json* eos = reader.find("eos_token_id");
  if (eos == nullptr) return Status::Ok();
  config.eos_token_ids.clear();
  if (!eos->is_array()) {
    PPD_ASSIGN_OR_RETURN(TokenId id, token_id(reader, "eos_token_id", *eos, config.vocab_size));
    config.eos_token_ids.push_back(id);
    return Status::Ok();
  }
  for (const json& entry : *eos) {
    PPD_ASSIGN_OR_RETURN(TokenId id, token_id(reader, "eos_token_id", entry, config.vocab_size));
    config.eos_token_ids.push_back(id);
  }
  return Status::Ok();
}

Result<JsonReader> object_reader(const json& root, std::string_view source) {
  if (!root.is_object()) {
    return invalid_argument("{}: expected a JSON object; got {}", source, json_excerpt(root));
  }
  return JsonReader(root, fmt::format("{}: ", source));
}

}  // namespace

std::string_view architecture_name(Architecture arch) { return info_of(arch).model_type; }

std::string_view architecture_class_name(Architecture arch) { return info_of(arch).class_name; }

int ModelConfig::max_model_len() const {
  return sliding_window > 0 ? std::min(max_position_embeddings, sliding_window) : max_position_embeddings;
}

int64_t ModelConfig::num_parameters() const {
  const int64_t hidden = hidden_size;
  const int64_t q_dim = int64_t{num_heads} * head_dim;
  const int64_t kv_dim = int64_t{num_kv_heads} * head_dim;
  int64_t per_layer = 2 * hidden;                               // two RMSNorm weights
  per_layer += hidden * (q_dim + 2 * kv_dim) + q_dim * hidden;  // q, k, v, o
  if (attention_bias) per_layer += q_dim + 2 * kv_dim;
  per_layer += 3 * hidden * intermediate_size;  // gate, up, down
  const int64_t embeddings = int64_t{vocab_size} * hidden * (tie_word_embeddings ? 1 : 2);
  return embeddings + num_layers * per_layer + hidden;
}

Result<ModelConfig> parse_model_config(std::string_view json_text, std::string_view source) {
  PPD_ASSIGN_OR_RETURN(json root, parse_json(json_text, source));
  PPD_ASSIGN_OR_RETURN(JsonReader reader, object_reader(root, source));
  ModelConfig config;
  PPD_ASSIGN_OR_RETURN(config.architecture, parse_model_type(reader));
  PPD_RETURN_IF_ERROR(check_architectures(reader, config.architecture));
  PPD_RETURN_IF_ERROR(parse_shape(reader, config));
  PPD_RETURN_IF_ERROR(parse_features(reader, config));
  PPD_RETURN_IF_ERROR(parse_special_tokens(reader, config));
  return config;
}

Status apply_generation_config(std::string_view json_text, std::string_view source, ModelConfig& config) {
  PPD_ASSIGN_OR_RETURN(json root, parse_json(json_text, source));
  PPD_ASSIGN_OR_RETURN(JsonReader reader, object_reader(root, source));
  return parse_special_tokens(reader, config);
}

Result<ModelConfig> load_model_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  PPD_ASSIGN_OR_RETURN(std::string text, read_file(path));
  PPD_ASSIGN_OR_RETURN(ModelConfig config, parse_model_config(text, path));
  const std::string generation_path = dir + "/generation_config.json";
  if (file_exists(generation_path)) {
    PPD_ASSIGN_OR_RETURN(std::string generation_text, read_file(generation_path));
    PPD_RETURN_IF_ERROR(apply_generation_config(generation_text, generation_path, config));
  }
  return config;
}

namespace {

nlohmann::ordered_json rope_scaling_json(const RopeScaling& scaling) {
  nlohmann::ordered_json rope;
  switch (scaling.kind) {
    case RopeScalingKind::kNone:
      return nullptr;
    case RopeScalingKind::kLinear:
      rope["rope_type"] = "linear";
      rope["factor"] = scaling.factor;
      return rope;
    case RopeScalingKind::kLlama3:
      rope["rope_type"] = "llama3";
      rope["factor"] = scaling.factor;
      rope["low_freq_factor"] = scaling.low_freq_factor;
      rope["high_freq_factor"] = scaling.high_freq_factor;
      rope["original_max_position_embeddings"] = scaling.original_max_position_embeddings;
      return rope;
  }
  return nullptr;
}

void add_window_and_tokens(const ModelConfig& config, nlohmann::ordered_json& out) {
  const nlohmann::ordered_json window =
      config.sliding_window > 0 ? nlohmann::ordered_json(config.sliding_window) : nullptr;
  if (config.architecture == Architecture::kMistral) out["sliding_window"] = window;
  if (config.architecture == Architecture::kQwen2) {
    out["use_sliding_window"] = config.sliding_window > 0;
    out["sliding_window"] = window;
  }
  if (config.bos_token_id) out["bos_token_id"] = *config.bos_token_id;
  if (config.eos_token_ids.size() == 1) out["eos_token_id"] = config.eos_token_ids[0];
  if (config.eos_token_ids.size() > 1) out["eos_token_id"] = config.eos_token_ids;
}

}  // namespace

std::string model_config_to_json(const ModelConfig& config) {
  nlohmann::ordered_json out;
  out["architectures"] = {architecture_class_name(config.architecture)};
  out["model_type"] = architecture_name(config.architecture);
  out["hidden_size"] = config.hidden_size;
  out["intermediate_size"] = config.intermediate_size;
  out["num_hidden_layers"] = config.num_layers;
  out["num_attention_heads"] = config.num_heads;
  out["num_key_value_heads"] = config.num_kv_heads;
  out["head_dim"] = config.head_dim;
  out["vocab_size"] = config.vocab_size;
  out["max_position_embeddings"] = config.max_position_embeddings;
  out["rms_norm_eps"] = config.rms_norm_eps;
  out["rope_theta"] = config.rope_theta;
  out["rope_scaling"] = rope_scaling_json(config.rope_scaling);
  out["hidden_act"] = "silu";
  out["attention_bias"] = config.attention_bias;
  out["mlp_bias"] = false;
  out["tie_word_embeddings"] = config.tie_word_embeddings;
  add_window_and_tokens(config, out);
  return out.dump(2) + "\n";
}

}  // namespace ppd::model
