// ModelShape: what a step's cost depends on in a transformer (layer count and widths, vocab,
// bytes per weight and per KV element, tensor parallelism), with presets for the models the
// simulator studies. Pure data; presets are immutable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd::sim {

struct ModelShape {
  std::string name;
  int num_layers = 0;
  int hidden_size = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  int bytes_per_weight = 2;    // 2: BF16, 4: F32
  int bytes_per_kv_value = 2;  // KV cache element size
  int tensor_parallel = 1;     // GPUs sharing each layer; weights and KV split evenly

  // Weights of one layer's projections (q, k, v, o, gate, up, down).
  int64_t layer_weights() const;
  // Linear weights a token passes through: all layers plus the LM head.
  int64_t linear_weights() const;
  // KV bytes one token adds to the cache over all layers (all GPUs together).
  int64_t kv_bytes_per_token() const;
};

// Presets: llama-3.1-8b, qwen2.5-14b, llama-3.1-70b (tp 1; see with_tensor_parallel), and the
// CPU engine's synthetic presets tiny, small, medium (F32). NOT_FOUND listing them otherwise.
Result<ModelShape> model_shape_preset(std::string_view name);

// The shape split over `tp` GPUs. INVALID_ARGUMENT unless tp divides the head counts.
Result<ModelShape> with_tensor_parallel(ModelShape shape, int tp);

}  // namespace ppd::sim
