// Synthetic models: `ppd model synth` writes a random-weight Llama model in Hugging Face
// layout (config.json, generation_config.json, model.safetensors or an index and shards,
// tokenizer.json, tokenizer_config.json), byte-identical for a given seed on every platform,
// for performance work where no real checkpoint of the wanted size is at hand. Presets live in
// a registry; resolve_model() turns a preset name into a cached model directory.
// Functions are thread-compatible: concurrent calls must use different output directories
// (resolve_model itself is safe across processes: it writes a temp dir, then renames).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/dtype.h"
#include "ppd/common/status.h"
#include "ppd/model/model_config.h"

namespace ppd::model {

struct SynthOptions {
  // The shape: usually preset_config(name) with some fields overridden. Validated like a
  // parsed config.json; vocab_size must also fit the synthetic tokenizer ([261, 2^20]).
  // bos/eos ids are set from the tokenizer.
  ModelConfig config;
  uint64_t seed = 0;          // the same seed gives byte-identical files
  Dtype dtype = Dtype::kF32;  // storage dtype of the weights
  int num_shards = 1;         // [1, number of tensors]; > 1 writes an index and shards
};

struct SynthSummary {
  std::string dir;
  int64_t num_parameters = 0;
  int64_t num_bytes_written = 0;  // all files
};

// "tiny" (~1M parameters), "small" (~28M), "medium" (~213M), then "small-bf16" and
// "medium-bf16" (the same shapes stored in BF16), in that order.
std::vector<std::string_view> preset_names();
// Returns the preset's shape; INVALID_ARGUMENT `preset: unknown "x"; supported: tiny, ...`.
Result<ModelConfig> preset_config(std::string_view name);
// The preset's storage dtype (F32 for an unknown name).
Dtype preset_dtype(std::string_view name);

// Writes the model into `out_dir` (created if missing; existing files of the same names are
// replaced). Weights: projections ~ N(0, 1/sqrt(fan_in)), embeddings ~ N(0, 3/sqrt(hidden))
// (with tied embeddings the logits then have std ~3: a peaked distribution), norms 1, biases 0.
Result<SynthSummary> synthesize_model(const SynthOptions& options, const std::string& out_dir);

// If `model_or_preset` is an existing directory, returns it. If it is a preset name, returns
// <cache_dir>/<preset>-seed0, synthesizing it first (seed 0, the preset's dtype) unless already there; the
// model is written to a temporary directory and renamed into place, so a half-written model is
// never used. Otherwise NOT_FOUND
// `model: "x" is neither a directory nor a preset; presets: tiny, small, medium`.
Result<std::string> resolve_model(const std::string& model_or_preset, const std::string& cache_dir);

}  // namespace ppd::model
