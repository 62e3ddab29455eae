// `ppd model synth`: writes a random-weight Llama model in HF layout (see ppd/model/synth.h).
// `ppd model gguf`: converts a model directory or preset to a GGUF file for llama.cpp (see
// ppd/model/gguf_writer.h).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "ppd/cli/commands.h"
#include "ppd/model/gguf_writer.h"
#include "ppd/model/model_source.h"
#include "ppd/model/synth.h"

namespace ppd::cli {
namespace {

struct SynthFlags {
  std::string preset;
  std::string out_dir;
  uint64_t seed = 0;
  std::string dtype = "f32";
  int num_shards = 1;
  model::ModelConfig shape;  // holds the shape flags; copied only where a flag was given
  bool tie_word_embeddings = true;
};

struct IntShapeFlag {
  const char* name;
  int model::ModelConfig::*field;
  const char* help;
};

constexpr IntShapeFlag kIntShapeFlags[] = {
    {"--hidden-size", &model::ModelConfig::hidden_size, "Override the preset's hidden size"},
    {"--intermediate-size", &model::ModelConfig::intermediate_size, "Override the preset's MLP width"},
    {"--num-layers", &model::ModelConfig::num_layers, "Override the preset's number of layers"},
    {"--num-heads", &model::ModelConfig::num_heads, "Override the preset's number of query heads"},
    {"--num-kv-heads", &model::ModelConfig::num_kv_heads, "Override the preset's number of KV heads"},
    {"--vocab-size", &model::ModelConfig::vocab_size, "Override the preset's vocabulary size (>= 261)"},
    {"--max-position-embeddings", &model::ModelConfig::max_position_embeddings,
     "Override the preset's context length in tokens"},
};

// The preset's config with every given shape flag applied; head_dim follows hidden/heads.
Result<model::ModelConfig> synth_config(const SynthFlags& flags, const CLI::App& command) {
  PPD_ASSIGN_OR_RETURN(model::ModelConfig config, model::preset_config(flags.preset));
  for (const IntShapeFlag& flag : kIntShapeFlags) {
    if (command.count(flag.name) > 0) config.*flag.field = flags.shape.*flag.field;
  }
  if (command.count("--rope-theta") > 0) config.rope_theta = flags.shape.rope_theta;
  if (command.count("--tie-word-embeddings") > 0) config.tie_word_embeddings = flags.tie_word_embeddings;
  if (config.num_heads <= 0 || config.hidden_size % config.num_heads != 0) {
    return invalid_argument("--hidden-size: must be a multiple of --num-heads ({}); got {}", config.num_heads,
                            config.hidden_size);
  }
  config.head_dim = config.hidden_size / config.num_heads;
  return config;
}

Result<model::SynthSummary> run_synth(const SynthFlags& flags, const CLI::App& command) {
  // Without --dtype the preset's own storage dtype (F32, or BF16 for the -bf16 presets).
  const std::optional<Dtype> dtype =
      command.count("--dtype") > 0 ? parse_dtype_flag(flags.dtype) : std::optional(model::preset_dtype(flags.preset));
  if (!dtype) return invalid_argument("--dtype: unknown \"{}\"; supported: f32, f16, bf16", flags.dtype);
  PPD_ASSIGN_OR_RETURN(model::ModelConfig config, synth_config(flags, command));
  return model::synthesize_model(model::SynthOptions{config, flags.seed, *dtype, flags.num_shards}, flags.out_dir);
}

void add_synth_flags(CLI::App& synth, SynthFlags& flags) {
  synth
      .add_option("--preset", flags.preset,
                  "Base shape: tiny (~1M params), small (~28M), medium (~213M); small-bf16 and medium-bf16 store "
                  "small and medium in BF16")
      ->required();
  synth.add_option("--out", flags.out_dir, "Directory to write (created if missing)")->required();
  synth.add_option("--seed", flags.seed, "Random seed; the same seed gives byte-identical files (default 0)");
  synth.add_option("--dtype", flags.dtype, "Weight storage dtype: f32, f16 or bf16 (default: the preset's)");
  synth.add_option("--shards", flags.num_shards,
                   "Number of safetensors shards; > 1 also writes model.safetensors.index.json (default 1)");
  for (const IntShapeFlag& flag : kIntShapeFlags) synth.add_option(flag.name, flags.shape.*flag.field, flag.help);
  synth.add_option("--rope-theta", flags.shape.rope_theta, "Override the RoPE base frequency (default 10000)");
  synth.add_option("--tie-word-embeddings", flags.tie_word_embeddings,
                   "Share the embedding table with the LM head: true or false (presets: true)");
}

struct GgufFlags {
  std::string model;
  std::string out_path;
  std::string type = "f16";
};

Result<model::GgufSummary> run_gguf(const GgufFlags& flags) {
  const std::optional<model::GgufType> type = model::parse_gguf_type(flags.type);
  if (!type) return invalid_argument("--type: unknown \"{}\"; supported: f32, f16, q8_0", flags.type);
  PPD_ASSIGN_OR_RETURN(const std::string dir, model::resolve_model_arg(flags.model));
  return model::write_gguf(dir, flags.out_path, *type);
}

void register_gguf_command(CLI::App& model, int* exit_code) {
  CLI::App* gguf = model.add_subcommand("gguf",
                                        "Convert a model to a GGUF file (architecture llama, no tokenizer) "
                                        "that llama.cpp's llama-bench and llama-batched-bench load");
  auto flags = std::make_shared<GgufFlags>();
  gguf->add_option("--model", flags->model, "Model directory (HF layout) or preset (tiny, small, medium)")->required();
  gguf->add_option("--out", flags->out_path, "GGUF file to write (replaced if present)")->required();
  gguf->add_option("--type", flags->type, "Storage of the weight matrices: f32, f16 or q8_0 (default f16)");
  gguf->callback([flags, exit_code] {
    const Result<model::GgufSummary> summary = run_gguf(*flags);
    if (!summary.ok()) {
      fmt::print(stderr, "ppd model gguf: {}\n", summary.status().message());
      *exit_code = 1;
      return;
    }
    fmt::print("{}: {} tensors, {} bytes ({})\n", flags->out_path, summary->num_tensors, summary->num_bytes,
               flags->type);
    *exit_code = 0;
  });
}

}  // namespace

void register_model_command(CLI::App& app, int* exit_code) {
  CLI::App* model = app.add_subcommand("model", "Model directories: synthesize random-weight models, convert to GGUF");
  model->require_subcommand(1);
  CLI::App* synth =
      model->add_subcommand("synth", "Write a random-weight Llama model (config, safetensors, tokenizer) in HF layout");
  auto flags = std::make_shared<SynthFlags>();
  add_synth_flags(*synth, *flags);
  synth->callback([flags, synth, exit_code] {
    const auto start = std::chrono::steady_clock::now();
    const Result<model::SynthSummary> summary = run_synth(*flags, *synth);
    if (!summary.ok()) {
      fmt::print(stderr, "ppd model synth: {}\n", summary.status().message());
      *exit_code = 1;
      return;
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    fmt::print("{}: {} parameters, {} bytes written in {:.1f} s\n", summary->dir, summary->num_parameters,
               summary->num_bytes_written, elapsed.count());
    *exit_code = 0;
  });
  register_gguf_command(*model, exit_code);
}

}  // namespace ppd::cli
