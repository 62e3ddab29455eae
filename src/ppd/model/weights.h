// ModelWeights: every parameter of a model as owned, 64-byte-aligned F32 arrays, in the
// layout the forward pass wants (q/k/v fused, gate/up fused). Loaded from safetensors
// (F32, F16 or BF16; one file or sharded with an index). Immutable once loaded; safe to
// read from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ppd/common/aligned_buffer.h"
#include "ppd/common/status.h"
#include "ppd/model/model_config.h"

namespace ppd::model {

struct LayerWeights {
  AlignedBuffer attn_norm;  // [hidden]
  AlignedBuffer wqkv;       // [(num_heads + 2 * num_kv_heads) * head_dim][hidden]: q rows, then k, then v
  AlignedBuffer bqkv;       // [(num_heads + 2 * num_kv_heads) * head_dim], empty without attention_bias
  AlignedBuffer wo;         // [hidden][num_heads * head_dim]
  AlignedBuffer ffn_norm;   // [hidden]
  AlignedBuffer w_gate_up;  // [2 * intermediate][hidden]: gate rows, then up rows
  AlignedBuffer w_down;     // [hidden][intermediate]
};

struct ModelWeights {
  AlignedBuffer embed;  // [vocab][hidden]
  std::vector<LayerWeights> layers;
  AlignedBuffer final_norm;  // [hidden]
  AlignedBuffer lm_head;     // [vocab][hidden]; empty when tied (use embed)

  const float* lm_head_data() const { return lm_head.size() ? lm_head.data() : embed.data(); }
  // Bytes of parameters read once per decode step (all but the embedding table, which is
  // gathered by row; the LM head counts even when tied).
  int64_t streamed_bytes_per_step(const ModelConfig& config) const;
};

// Loads <dir>/model.safetensors or <dir>/model.safetensors.index.json and its shards.
// Errors name the file and tensor: a missing file, a truncated file, an unknown dtype, a
// missing tensor, a shape that does not match `config`.
Result<ModelWeights> load_weights(const std::string& dir, const ModelConfig& config);

}  // namespace ppd::model
