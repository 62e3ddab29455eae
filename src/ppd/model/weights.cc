#include "ppd/model/weights.h"

#include <algorithm>
#include <cmath>

#include "ppd/common/check.h"
#include "ppd/model/checkpoint_files.h"

namespace ppd::model {
namespace {

// One HF tensor and where its values go: an F32 vector at `offset` floats, or rows of a
// matrix from row `offset` (a slice of a fused buffer). Slots are planned before any buffer is
// allocated, so that every shape is checked against the files first: a config that claims a
// huge model fails on its first tensor instead of allocating memory it does not need.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  AlignedBuffer* vector = nullptr;
  WeightMatrix* matrix = nullptr;
  int64_t offset = 0;
};

Slot vector_slot(std::string name, int64_t size, AlignedBuffer* buffer, int64_t offset = 0) {
  return {std::move(name), {size}, buffer, nullptr, offset};
}

Slot matrix_slot(std::string name, int64_t rows, int64_t cols, WeightMatrix* matrix, int64_t first_row = 0) {
  return {std::move(name), {rows, cols}, nullptr, matrix, first_row};
}

Status check_slot(const CheckpointFiles& files, const Slot& slot, WeightFormat format) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located found, files.find(slot.name));
  if (found.tensor->shape != slot.shape) {
    return invalid_argument("{}: tensor \"{}\": shape {} does not match config.json: expected {}",
                            found.file->file_name(), slot.name, format_shape(found.tensor->shape),
                            format_shape(slot.shape));
  }
  if (slot.matrix != nullptr && format == WeightFormat::kQ8_0 && slot.shape[1] % kQ8BlockValues != 0) {
    return invalid_argument("format q8_0: tensor \"{}\" has rows of {} values; q8_0 needs a multiple of {}", slot.name,
                            slot.shape[1], kQ8BlockValues);
  }
  return Status::Ok();
}

// Copies a checked tensor into its slot, one row at a time through floats; a NaN or infinity
// in the weights is an error here rather than garbage tokens later.
Status copy_slot(const CheckpointFiles& files, const Slot& slot) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located found, files.find(slot.name));
  const TensorView& tensor = *found.tensor;
  const int64_t cols = slot.shape.back();
  const int64_t rows = tensor.num_elements() / std::max<int64_t>(cols, 1);
  const size_t src_row_bytes = static_cast<size_t>(cols) * dtype_size_bytes(tensor.dtype);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = slot.vector != nullptr ? slot.vector->data() + slot.offset + r * cols : row.data();
    convert_to_f32(tensor.dtype, tensor.bytes.data() + static_cast<size_t>(r) * src_row_bytes,
                   static_cast<size_t>(cols), dst);
    for (int64_t i = 0; i < cols; ++i) {
      if (!std::isfinite(dst[i])) {
        return invalid_argument("{}: tensor \"{}\": element {} is {}; weights must be finite", found.file->file_name(),
                                slot.name, r * cols + i, dst[i]);
      }
    }
    if (slot.matrix != nullptr) {
      WeightMatrix& m = *slot.matrix;
      encode_weight_row(m.format(), dst, cols, m.bytes() + static_cast<size_t>(slot.offset + r) * m.row_bytes());
    }
  }
  return Status::Ok();
}

struct LayerDims {
  int64_t hidden, ffn, q_rows, kv_rows;
};

LayerDims layer_dims(const ModelConfig& config) {
  return {config.hidden_size, config.intermediate_size, int64_t{config.num_heads} * config.head_dim,
          int64_t{config.num_kv_heads} * config.head_dim};
}

// A matrix to place in ModelWeights::matrix_memory.
struct MatrixShape {
  WeightMatrix* matrix;
  int64_t rows, cols;
};

void allocate_layer(const LayerDims& d, bool attention_bias, LayerWeights& w, std::vector<MatrixShape>* matrices) {
  w.attn_norm = AlignedBuffer(d.hidden);
  if (attention_bias) w.bqkv = AlignedBuffer(d.q_rows + 2 * d.kv_rows);
  w.ffn_norm = AlignedBuffer(d.hidden);
  matrices->push_back({&w.wqkv, d.q_rows + 2 * d.kv_rows, d.hidden});
  matrices->push_back({&w.wo, d.hidden, d.q_rows});
  matrices->push_back({&w.w_gate_up, 2 * d.ffn, d.hidden});
  matrices->push_back({&w.w_down, d.hidden, d.ffn});
}

constexpr size_t kMatrixAlignment = 64;

size_t aligned_bytes(WeightFormat f, const MatrixShape& m) {
  const size_t bytes = weight_row_bytes(f, m.cols) * static_cast<size_t>(m.rows);
  return (bytes + kMatrixAlignment - 1) / kMatrixAlignment * kMatrixAlignment;
}

// HF tensors -> fused buffers: q, k, v rows stacked in wqkv (and bqkv); gate, up in w_gate_up.
void add_layer_slots(const LayerDims& d, int layer, bool attention_bias, LayerWeights& w, std::vector<Slot>* slots) {
  const std::string p = fmt::format("model.layers.{}.", layer);
  const std::vector<Slot> layer_slots = {
      vector_slot(p + "input_layernorm.weight", d.hidden, &w.attn_norm),
      matrix_slot(p + "self_attn.q_proj.weight", d.q_rows, d.hidden, &w.wqkv),
      matrix_slot(p + "self_attn.k_proj.weight", d.kv_rows, d.hidden, &w.wqkv, d.q_rows),
      matrix_slot(p + "self_attn.v_proj.weight", d.kv_rows, d.hidden, &w.wqkv, d.q_rows + d.kv_rows),
      matrix_slot(p + "self_attn.o_proj.weight", d.hidden, d.q_rows, &w.wo),
      vector_slot(p + "post_attention_layernorm.weight", d.hidden, &w.ffn_norm),
      matrix_slot(p + "mlp.gate_proj.weight", d.ffn, d.hidden, &w.w_gate_up),
      matrix_slot(p + "mlp.up_proj.weight", d.ffn, d.hidden, &w.w_gate_up, d.ffn),
      matrix_slot(p + "mlp.down_proj.weight", d.hidden, d.ffn, &w.w_down),
  };
  slots->insert(slots->end(), layer_slots.begin(), layer_slots.end());
  if (attention_bias) {
    slots->push_back(vector_slot(p + "self_attn.q_proj.bias", d.q_rows, &w.bqkv));
    slots->push_back(vector_slot(p + "self_attn.k_proj.bias", d.kv_rows, &w.bqkv, d.q_rows));
    slots->push_back(vector_slot(p + "self_attn.v_proj.bias", d.kv_rows, &w.bqkv, d.q_rows + d.kv_rows));
  }
}

// With tied embeddings a checkpoint may store either table (TinyStories stores only lm_head).
std::string embedding_tensor_name(const CheckpointFiles& files, const ModelConfig& config) {
  if (config.tie_word_embeddings && !files.contains("model.embed_tokens.weight") && files.contains("lm_head.weight")) {
    return "lm_head.weight";
  }
  return "model.embed_tokens.weight";
}

std::vector<Slot> plan_slots(const CheckpointFiles& files, const ModelConfig& config, ModelWeights& w) {
  const int64_t hidden = config.hidden_size;
  const int64_t vocab = config.vocab_size;
  std::vector<Slot> slots = {
      matrix_slot(embedding_tensor_name(files, config), vocab, hidden, &w.embed),
      vector_slot("model.norm.weight", hidden, &w.final_norm),
  };
  if (!config.tie_word_embeddings) slots.push_back(matrix_slot("lm_head.weight", vocab, hidden, &w.lm_head));
  w.layers.resize(static_cast<size_t>(config.num_layers));
  for (int layer = 0; layer < config.num_layers; ++layer) {
    add_layer_slots(layer_dims(config), layer, config.attention_bias, w.layers[static_cast<size_t>(layer)], &slots);
  }
  return slots;
}

void allocate_all(const ModelConfig& config, WeightFormat f, ModelWeights& w) {
  const int64_t hidden = config.hidden_size;
  std::vector<MatrixShape> matrices = {{&w.embed, config.vocab_size, hidden}};
  w.final_norm = AlignedBuffer(hidden);
  if (!config.tie_word_embeddings) matrices.push_back({&w.lm_head, config.vocab_size, hidden});
  for (LayerWeights& layer : w.layers) allocate_layer(layer_dims(config), config.attention_bias, layer, &matrices);
  size_t total = 0;
  for (const MatrixShape& m : matrices) total += aligned_bytes(f, m);
  w.matrix_memory = AlignedBuffer((total + sizeof(float) - 1) / sizeof(float));
  auto* next = reinterpret_cast<uint8_t*>(w.matrix_memory.data());
  for (const MatrixShape& m : matrices) {
    *m.matrix = WeightMatrix(next, f, m.rows, m.cols);
    next += aligned_bytes(f, m);
  }
}

int64_t vector_bytes(const AlignedBuffer& buffer) { return static_cast<int64_t>(buffer.size() * sizeof(float)); }

int64_t layer_bytes(const LayerWeights& layer) {
  int64_t bytes = 0;
  for (const WeightMatrix* m : {&layer.wqkv, &layer.wo, &layer.w_gate_up, &layer.w_down}) {
    bytes += static_cast<int64_t>(m->num_bytes());
  }
  for (const AlignedBuffer* v : {&layer.attn_norm, &layer.bqkv, &layer.ffn_norm}) bytes += vector_bytes(*v);
  return bytes;
}

}  // namespace

const float* WeightMatrix::f32() const {
  PPD_CHECK(format_ == WeightFormat::kF32);
  return reinterpret_cast<const float*>(data_);
}

void WeightMatrix::row_to_f32(int64_t r, float* dst) const { decode_weight_row(format_, row(r), cols_, dst); }

int64_t ModelWeights::streamed_bytes_per_step() const {
  int64_t bytes = vector_bytes(final_norm) + static_cast<int64_t>(lm_head_matrix().num_bytes());
  for (const LayerWeights& layer : layers) bytes += layer_bytes(layer);
  return bytes;
}

int64_t ModelWeights::resident_bytes() const {
  int64_t bytes = vector_bytes(final_norm) + static_cast<int64_t>(embed.num_bytes() + lm_head.num_bytes());
  for (const LayerWeights& layer : layers) bytes += layer_bytes(layer);
  return bytes;
}

Result<ModelWeights> load_weights(const std::string& dir, const ModelConfig& config, const LoadOptions& options) {
  PPD_ASSIGN_OR_RETURN(CheckpointFiles files, CheckpointFiles::open(dir));
  ModelWeights weights;
  const std::vector<Slot> slots = plan_slots(files, config, weights);
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located embedding, files.find(slots.front().name));
  weights.checkpoint_format = weight_format_of(embedding.tensor->dtype);
  const WeightFormat format = options.format.value_or(weights.checkpoint_format);
  for (const Slot& slot : slots) PPD_RETURN_IF_ERROR(check_slot(files, slot, format));
  allocate_all(config, format, weights);
  for (const Slot& slot : slots) PPD_RETURN_IF_ERROR(copy_slot(files, slot));
  return weights;
}

}  // namespace ppd::model
