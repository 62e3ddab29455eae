#include "ppd/model/synth.h"

#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "ppd/common/file.h"
#include "ppd/model/safetensors.h"
#include "ppd/model/synth_rng.h"
#include "ppd/model/synth_tokenizer.h"

namespace ppd::model {
namespace {

namespace fs = std::filesystem;

struct Preset {
  std::string_view name;
  int hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads, vocab_size, context;
  Dtype dtype = Dtype::kF32;
};

// All tied; parameter counts 1.05M, 27.8M and 213.2M; the -bf16 ones store the same shapes
// in BF16, as real checkpoints ship.
constexpr Preset kPresets[] = {
    {"tiny", 128, 384, 4, 4, 2, 2048, 1024},
    {"small", 512, 1408, 8, 8, 4, 8192, 4096},
    {"medium", 1024, 2816, 16, 16, 4, 32000, 8192},
    {"small-bf16", 512, 1408, 8, 8, 4, 8192, 4096, Dtype::kBF16},
    {"medium-bf16", 1024, 2816, 16, 16, 4, 32000, 8192, Dtype::kBF16},
};

enum class Init { kNormal, kOnes, kZeros };

struct SynthTensor {
  TensorSpec spec;
  Init init;
  double stddev;  // kNormal only
};

// A [rows][fan_in] matrix ~ N(0, stddev), by default 1/sqrt(fan_in).
SynthTensor normal(std::string name, Dtype dtype, int64_t rows, int64_t fan_in, double stddev = 0) {
  if (stddev == 0) stddev = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return SynthTensor{{std::move(name), dtype, {rows, fan_in}}, Init::kNormal, stddev};
}

SynthTensor constant(std::string name, Dtype dtype, int64_t size, Init init) {
  return SynthTensor{{std::move(name), dtype, {size}}, init, 0.0};
}

void add_layer_tensors(const ModelConfig& c, int layer, Dtype dtype, std::vector<SynthTensor>& out) {
  const int64_t hidden = c.hidden_size, ffn = c.intermediate_size;
  const int64_t q_dim = int64_t{c.num_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.num_kv_heads} * c.head_dim;
  const std::string p = fmt::format("model.layers.{}.", layer);
  out.push_back(constant(p + "input_layernorm.weight", dtype, hidden, Init::kOnes));
  out.push_back(normal(p + "self_attn.q_proj.weight", dtype, q_dim, hidden));
  out.push_back(normal(p + "self_attn.k_proj.weight", dtype, kv_dim, hidden));
  out.push_back(normal(p + "self_attn.v_proj.weight", dtype, kv_dim, hidden));
  if (c.attention_bias) {
    out.push_back(constant(p + "self_attn.q_proj.bias", dtype, q_dim, Init::kZeros));
    out.push_back(constant(p + "self_attn.k_proj.bias", dtype, kv_dim, Init::kZeros));
    out.push_back(constant(p + "self_attn.v_proj.bias", dtype, kv_dim, Init::kZeros));
  }
  out.push_back(normal(p + "self_attn.o_proj.weight", dtype, hidden, q_dim));
  out.push_back(constant(p + "post_attention_layernorm.weight", dtype, hidden, Init::kOnes));
  out.push_back(normal(p + "mlp.gate_proj.weight", dtype, ffn, hidden));
  out.push_back(normal(p + "mlp.up_proj.weight", dtype, ffn, hidden));
  out.push_back(normal(p + "mlp.down_proj.weight", dtype, hidden, ffn));
}

// The tensors an HF Llama checkpoint stores, in file order. Embeddings get std 3/sqrt(hidden)
// so that tied logits (a dot product with a unit-RMS hidden state) have std ~3.
std::vector<SynthTensor> synth_tensors(const ModelConfig& c, Dtype dtype) {
  const double embed_std = 3.0 / std::sqrt(static_cast<double>(c.hidden_size));
  std::vector<SynthTensor> out = {normal("model.embed_tokens.weight", dtype, c.vocab_size, c.hidden_size, embed_std)};
  for (int layer = 0; layer < c.num_layers; ++layer) add_layer_tensors(c, layer, dtype, out);
  out.push_back(constant("model.norm.weight", dtype, c.hidden_size, Init::kOnes));
  if (!c.tie_word_embeddings) {
    out.push_back(normal("lm_head.weight", dtype, c.vocab_size, c.hidden_size, embed_std));
  }
  return out;
}

// Each tensor's stream key depends on the seed and its name only, so sharding or reordering
// never changes its values.
void fill_values(const SynthTensor& tensor, uint64_t seed, std::vector<float>& values) {
  values.resize(static_cast<size_t>(tensor.spec.num_elements()));
  if (tensor.init != Init::kNormal) {
    std::fill(values.begin(), values.end(), tensor.init == Init::kOnes ? 1.0f : 0.0f);
    return;
  }
  const CounterRng rng(XXH3_64bits_withSeed(tensor.spec.name.data(), tensor.spec.name.size(), seed));
  const double scale = tensor.stddev / CounterRng::irwin_hall_sigma();
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(static_cast<double>(rng.centered_irwin_hall(i)) * scale);
  }
}

Result<int64_t> write_text(const std::string& path, std::string_view text) {
  PPD_RETURN_IF_ERROR(write_file(path, text));
  return static_cast<int64_t>(text.size());
}

Result<int64_t> write_shard(const std::string& path, std::span<const SynthTensor> tensors, uint64_t seed) {
  std::vector<TensorSpec> specs;
  for (const SynthTensor& tensor : tensors) specs.push_back(tensor.spec);
  PPD_ASSIGN_OR_RETURN(SafetensorsWriter writer, SafetensorsWriter::create(path, std::move(specs), {{"format", "pt"}}));
  std::vector<float> values;
  for (const SynthTensor& tensor : tensors) {
    fill_values(tensor, seed, values);
    PPD_RETURN_IF_ERROR(writer.append(values));
  }
  return writer.finish();
}

// Writes model.safetensors, or `num_shards` shards plus the index. Returns bytes written.
Result<int64_t> write_weights(const std::string& dir, const std::vector<SynthTensor>& tensors, uint64_t seed,
                              int num_shards) {
  if (num_shards == 1) return write_shard(dir + "/model.safetensors", tensors, seed);
  nlohmann::json weight_map = nlohmann::json::object();
  int64_t num_bytes = 0, total_size = 0;
  const size_t n = tensors.size();
  for (size_t shard = 0, begin = 0; shard < static_cast<size_t>(num_shards); ++shard) {
    const size_t end = (shard + 1) * n / static_cast<size_t>(num_shards);
    const std::string name = fmt::format("model-{:05d}-of-{:05d}.safetensors", shard + 1, num_shards);
    const std::span<const SynthTensor> part(tensors.data() + begin, end - begin);
    PPD_ASSIGN_OR_RETURN(const int64_t shard_bytes, write_shard(dir + "/" + name, part, seed));
    num_bytes += shard_bytes;
    for (const SynthTensor& tensor : part) {
      weight_map[tensor.spec.name] = name;
      total_size += tensor.spec.size_bytes();
    }
    begin = end;
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
  PPD_ASSIGN_OR_RETURN(const int64_t index_bytes,
                       write_text(dir + "/model.safetensors.index.json", index.dump(2) + "\n"));
  return num_bytes + index_bytes;
}

Result<ModelConfig> validated_config(const SynthOptions& options) {
  ModelConfig config = options.config;
  if (config.vocab_size < kMinSynthVocabSize || config.vocab_size > kMaxSynthVocabSize) {
    return invalid_argument("vocab_size: must be in [{}, {}] for the synthetic tokenizer; got {}", kMinSynthVocabSize,
                            kMaxSynthVocabSize, config.vocab_size);
  }
  config.bos_token_id = kSynthBosId;
  config.eos_token_ids = {kSynthEosId};
  // Validates the shape exactly as a loaded config.json would be.
  return parse_model_config(model_config_to_json(config), "synth config");
}

std::string config_json(const ModelConfig& config, Dtype dtype) {
  auto hf_config = nlohmann::ordered_json::parse(model_config_to_json(config));
  hf_config["torch_dtype"] = dtype == Dtype::kF32 ? "float32" : dtype == Dtype::kF16 ? "float16" : "bfloat16";
  return hf_config.dump(2) + "\n";
}

Result<int64_t> write_metadata_files(const std::string& dir, const ModelConfig& config, Dtype dtype) {
  PPD_ASSIGN_OR_RETURN(const SynthTokenizer tokenizer, synthesize_tokenizer(config.vocab_size, config.max_model_len()));
  const nlohmann::ordered_json generation = {{"bos_token_id", kSynthBosId},
                                             {"eos_token_id", {kSynthEosId, kSynthImEndId}}};
  int64_t num_bytes = 0;
  for (const auto& [name, text] : {std::pair<std::string, std::string>{"config.json", config_json(config, dtype)},
                                   {"generation_config.json", generation.dump(2) + "\n"},
                                   {"tokenizer.json", tokenizer.tokenizer_json},
                                   {"tokenizer_config.json", tokenizer.tokenizer_config_json}}) {
    PPD_ASSIGN_OR_RETURN(const int64_t file_bytes, write_text(dir + "/" + name, text));
    num_bytes += file_bytes;
  }
  return num_bytes;
}

// A name no other process or thread uses at the same time.
std::string unique_temp_dir(const std::string& cache_dir, const std::string& preset) {
  return fmt::format("{}/.{}-seed0.tmp-{}-{:x}-{}", cache_dir, preset, ::getpid(),
                     std::hash<std::thread::id>{}(std::this_thread::get_id()),
                     std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

std::vector<std::string_view> preset_names() {
  std::vector<std::string_view> names;
  for (const Preset& preset : kPresets) names.push_back(preset.name);
  return names;
}

Result<ModelConfig> preset_config(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name != name) continue;
    ModelConfig config;
    config.hidden_size = p.hidden_size;
    config.intermediate_size = p.intermediate_size;
    config.num_layers = p.num_layers;
    config.num_heads = p.num_heads;
    config.num_kv_heads = p.num_kv_heads;
    config.head_dim = p.hidden_size / p.num_heads;
    config.vocab_size = p.vocab_size;
    config.max_position_embeddings = p.context;
    config.tie_word_embeddings = true;
    return config;
  }
  return invalid_argument("preset: unknown \"{}\"; supported: {}", name, fmt::join(preset_names(), ", "));
}

Dtype preset_dtype(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) return p.dtype;
  }
  return Dtype::kF32;
}

Result<SynthSummary> synthesize_model(const SynthOptions& options, const std::string& out_dir) {
  PPD_ASSIGN_OR_RETURN(const ModelConfig config, validated_config(options));
  const std::vector<SynthTensor> tensors = synth_tensors(config, options.dtype);
  if (options.num_shards < 1 || options.num_shards > static_cast<int>(tensors.size())) {
    return invalid_argument("num_shards: must be in [1, {}]; got {}", tensors.size(), options.num_shards);
  }
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) return unavailable("{}: cannot create: {}", out_dir, error.message());
  SynthSummary summary{out_dir, config.num_parameters(), 0};
  PPD_ASSIGN_OR_RETURN(const int64_t metadata_bytes, write_metadata_files(out_dir, config, options.dtype));
  PPD_ASSIGN_OR_RETURN(const int64_t weight_bytes, write_weights(out_dir, tensors, options.seed, options.num_shards));
  summary.num_bytes_written = metadata_bytes + weight_bytes;
  return summary;
}

Result<std::string> resolve_model(const std::string& model_or_preset, const std::string& cache_dir) {
  std::error_code error;
  if (fs::is_directory(model_or_preset, error)) return model_or_preset;
  Result<ModelConfig> preset = preset_config(model_or_preset);
  if (!preset.ok()) {
    return not_found("model: \"{}\" is neither a directory nor a preset; presets: {}", model_or_preset,
                     fmt::join(preset_names(), ", "));
  }
  const std::string final_dir = fmt::format("{}/{}-seed0", cache_dir, model_or_preset);
  if (fs::is_directory(final_dir, error)) return final_dir;
  const std::string temp_dir = unique_temp_dir(cache_dir, model_or_preset);
  Result<SynthSummary> written =
      synthesize_model(SynthOptions{.config = *preset, .dtype = preset_dtype(model_or_preset)}, temp_dir);
  if (!written.ok()) {
    fs::remove_all(temp_dir, error);
    return written.status();
  }
  fs::rename(temp_dir, final_dir, error);
  if (error) {
    fs::remove_all(temp_dir, error);
    // Another process may have renamed its own copy into place first.
    if (fs::is_directory(final_dir, error)) return final_dir;
    return unavailable("{}: cannot rename {} into place", final_dir, temp_dir);
  }
  return final_dir;
}

}  // namespace ppd::model
