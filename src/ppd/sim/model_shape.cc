#include "ppd/sim/model_shape.h"

#include <array>

namespace ppd::sim {
namespace {

// Public configs: Llama 3.1 8B / 70B and Qwen2.5 14B (config.json of each release); the
// synthetic presets match ppd::model's synth.cc.
const std::array<ModelShape, 6> kPresets = {{
    {"llama-3.1-8b", 32, 4096, 32, 8, 128, 14336, 128256, 2, 2, 1},
    {"qwen2.5-14b", 48, 5120, 40, 8, 128, 13824, 152064, 2, 2, 1},
    {"llama-3.1-70b", 80, 8192, 64, 8, 128, 28672, 128256, 2, 2, 1},
    {"tiny", 4, 128, 4, 2, 32, 384, 2048, 4, 4, 1},
    {"small", 8, 512, 8, 4, 64, 1408, 8192, 4, 4, 1},
    {"medium", 16, 1024, 16, 4, 64, 2816, 32000, 4, 4, 1},
}};

}  // namespace

int64_t ModelShape::layer_weights() const {
  const int64_t h = hidden_size, q = int64_t{num_heads} * head_dim, kv = int64_t{num_kv_heads} * head_dim;
  return h * (q + 2 * kv) + q * h + 3 * h * int64_t{intermediate_size};
}

int64_t ModelShape::linear_weights() const {
  return int64_t{num_layers} * layer_weights() + int64_t{hidden_size} * vocab_size;
}

int64_t ModelShape::kv_bytes_per_token() const {
  return int64_t{num_layers} * 2 * num_kv_heads * head_dim * bytes_per_kv_value;
}

Result<ModelShape> model_shape_preset(std::string_view name) {
  for (const ModelShape& s : kPresets) {
    if (s.name == name) return s;
  }
  std::string names;
  for (const ModelShape& s : kPresets) names += (names.empty() ? "" : ", ") + s.name;
  return not_found("model: unknown preset \"{}\"; presets: {}", name, names);
}

Result<ModelShape> with_tensor_parallel(ModelShape shape, int tp) {
  if (tp < 1 || shape.num_heads % tp != 0 || shape.num_kv_heads % tp != 0) {
    return invalid_argument("tensor_parallel: must be >= 1 and divide {} heads and {} KV heads; got {}",
                            shape.num_heads, shape.num_kv_heads, tp);
  }
  shape.tensor_parallel = tp;
  return shape;
}

}  // namespace ppd::sim
