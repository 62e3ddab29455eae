// ModelWeights: every parameter of a model as owned, 64-byte-aligned arrays, in the layout the
// forward pass wants (q/k/v fused, gate/up fused). The matrices (embedding, projections, LM
// head) stay in one WeightFormat: the checkpoint's dtype unless the load converts them (to
// F32, F16, BF16 or Q8_0); norms and biases are always F32 (they are small, and read as
// floats). Loaded from safetensors (F32, F16 or BF16; one file or sharded with an index).
// Immutable once loaded; safe to read from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ppd/common/aligned_buffer.h"
#include "ppd/common/dtype.h"
#include "ppd/common/status.h"
#include "ppd/model/model_config.h"

namespace ppd::model {

// A [rows][cols] matrix in `format`, rows back to back, weight_row_bytes(format, cols) each: a
// view into the memory its ModelWeights owns.
class WeightMatrix {
 public:
  WeightMatrix() = default;
  WeightMatrix(uint8_t* data, WeightFormat format, int64_t rows, int64_t cols)
      : data_(data), format_(format), rows_(rows), cols_(cols) {}

  WeightFormat format() const { return format_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  size_t row_bytes() const { return weight_row_bytes(format_, cols_); }
  size_t num_bytes() const { return row_bytes() * static_cast<size_t>(rows_); }
  const uint8_t* bytes() const { return data_; }
  uint8_t* bytes() { return data_; }
  const uint8_t* row(int64_t r) const { return bytes() + static_cast<size_t>(r) * row_bytes(); }
  // The values as floats. REQUIRES: format() == kF32.
  const float* f32() const;
  // Decodes row `r` into cols() floats.
  void row_to_f32(int64_t r, float* dst) const;

 private:
  uint8_t* data_ = nullptr;
  WeightFormat format_ = WeightFormat::kF32;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

struct LayerWeights {
  AlignedBuffer attn_norm;  // [hidden]
  WeightMatrix wqkv;        // [(num_heads + 2 * num_kv_heads) * head_dim][hidden]: q rows, then k, then v
  AlignedBuffer bqkv;       // [(num_heads + 2 * num_kv_heads) * head_dim], empty without attention_bias
  WeightMatrix wo;          // [hidden][num_heads * head_dim]
  AlignedBuffer ffn_norm;   // [hidden]
  WeightMatrix w_gate_up;   // [2 * intermediate][hidden]: gate rows, then up rows
  WeightMatrix w_down;      // [hidden][intermediate]
};

struct ModelWeights {
  // Every matrix, each 64-byte aligned, in one allocation: huge pages round one buffer up to
  // 2 MiB, not each matrix. Moving ModelWeights keeps the views valid.
  AlignedBuffer matrix_memory;
  WeightMatrix embed;  // [vocab][hidden]
  std::vector<LayerWeights> layers;
  AlignedBuffer final_norm;                             // [hidden]
  WeightMatrix lm_head;                                 // [vocab][hidden]; empty when tied (use embed)
  WeightFormat checkpoint_format = WeightFormat::kF32;  // the file's dtype (of its embedding table)

  const WeightMatrix& lm_head_matrix() const { return lm_head.empty() ? embed : lm_head; }
  WeightFormat format() const { return embed.format(); }
  // Bytes of parameters read once per decode step (all but the embedding table, which is
  // gathered by row; the LM head counts even when tied), in their stored format.
  int64_t streamed_bytes_per_step() const;
  // Bytes of every parameter as held in memory (the tied table once).
  int64_t resident_bytes() const;
};

struct LoadOptions {
  // The matrices' format; unset keeps the checkpoint's dtype (that of its embedding table).
  // Q8_0 needs every matrix's row length (hidden_size, intermediate_size, num_heads *
  // head_dim) to be a multiple of 32.
  std::optional<WeightFormat> format;
};

// Loads <dir>/model.safetensors or <dir>/model.safetensors.index.json and its shards.
// Errors name the file and tensor: a missing file, a truncated file, an unknown dtype, a
// missing tensor, a shape that does not match `config`, a non-finite value, a row length Q8_0
// cannot hold.
Result<ModelWeights> load_weights(const std::string& dir, const ModelConfig& config, const LoadOptions& options = {});

}  // namespace ppd::model
