#include "ppd/model/weights.h"

#include <cmath>

#include "ppd/model/checkpoint_files.h"

namespace ppd::model {
namespace {

// One HF tensor and where its floats go: `buffer` at `offset` (a slice of a fused buffer).
// Slots are planned before any buffer is allocated, so that every shape is checked against
// the files first: a config that claims a huge model fails on its first tensor instead of
// allocating memory it does not need.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  AlignedBuffer* buffer;
  int64_t offset = 0;
};

Status check_slot(const CheckpointFiles& files, const Slot& slot) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located found, files.find(slot.name));
  if (found.tensor->shape != slot.shape) {
    return invalid_argument("{}: tensor \"{}\": shape {} does not match config.json: expected {}",
                            found.file->file_name(), slot.name, format_shape(found.tensor->shape),
                            format_shape(slot.shape));
  }
  return Status::Ok();
}

// Copies a checked tensor into its slot; a NaN or infinity in the weights is an error here
// rather than garbage tokens later.
Status copy_slot(const CheckpointFiles& files, const Slot& slot) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located found, files.find(slot.name));
  float* dst = slot.buffer->data() + slot.offset;
  found.tensor->copy_to_f32(dst);
  int64_t n = 1;
  for (int64_t dim : slot.shape) n *= dim;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(dst[i])) {
      return invalid_argument("{}: tensor \"{}\": element {} is {}; weights must be finite", found.file->file_name(),
                              slot.name, i, dst[i]);
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

void allocate_layer(const LayerDims& d, bool attention_bias, LayerWeights& w) {
  w.attn_norm = AlignedBuffer(d.hidden);
  w.wqkv = AlignedBuffer((d.q_rows + 2 * d.kv_rows) * d.hidden);
  if (attention_bias) w.bqkv = AlignedBuffer(d.q_rows + 2 * d.kv_rows);
  w.wo = AlignedBuffer(d.hidden * d.q_rows);
  w.ffn_norm = AlignedBuffer(d.hidden);
  w.w_gate_up = AlignedBuffer(2 * d.ffn * d.hidden);
  w.w_down = AlignedBuffer(d.hidden * d.ffn);
}

// HF tensors -> fused buffers: q, k, v rows stacked in wqkv (and bqkv); gate, up in w_gate_up.
void add_layer_slots(const LayerDims& d, int layer, bool attention_bias, LayerWeights& w, std::vector<Slot>* slots) {
  const std::string p = fmt::format("model.layers.{}.", layer);
  const std::vector<Slot> layer_slots = {
      {p + "input_layernorm.weight", {d.hidden}, &w.attn_norm},
      {p + "self_attn.q_proj.weight", {d.q_rows, d.hidden}, &w.wqkv},
      {p + "self_attn.k_proj.weight", {d.kv_rows, d.hidden}, &w.wqkv, d.q_rows * d.hidden},
      {p + "self_attn.v_proj.weight", {d.kv_rows, d.hidden}, &w.wqkv, (d.q_rows + d.kv_rows) * d.hidden},
      {p + "self_attn.o_proj.weight", {d.hidden, d.q_rows}, &w.wo},
      {p + "post_attention_layernorm.weight", {d.hidden}, &w.ffn_norm},
      {p + "mlp.gate_proj.weight", {d.ffn, d.hidden}, &w.w_gate_up},
      {p + "mlp.up_proj.weight", {d.ffn, d.hidden}, &w.w_gate_up, d.ffn * d.hidden},
      {p + "mlp.down_proj.weight", {d.hidden, d.ffn}, &w.w_down},
  };
  slots->insert(slots->end(), layer_slots.begin(), layer_slots.end());
  if (attention_bias) {
    slots->push_back({p + "self_attn.q_proj.bias", {d.q_rows}, &w.bqkv});
    slots->push_back({p + "self_attn.k_proj.bias", {d.kv_rows}, &w.bqkv, d.q_rows});
    slots->push_back({p + "self_attn.v_proj.bias", {d.kv_rows}, &w.bqkv, d.q_rows + d.kv_rows});
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
      {embedding_tensor_name(files, config), {vocab, hidden}, &w.embed},
      {"model.norm.weight", {hidden}, &w.final_norm},
  };
  if (!config.tie_word_embeddings) slots.push_back({"lm_head.weight", {vocab, hidden}, &w.lm_head});
  w.layers.resize(static_cast<size_t>(config.num_layers));
  for (int layer = 0; layer < config.num_layers; ++layer) {
    add_layer_slots(layer_dims(config), layer, config.attention_bias, w.layers[static_cast<size_t>(layer)], &slots);
  }
  return slots;
}

void allocate_all(const ModelConfig& config, ModelWeights& w) {
  const int64_t hidden = config.hidden_size;
  w.embed = AlignedBuffer(int64_t{config.vocab_size} * hidden);
  w.final_norm = AlignedBuffer(hidden);
  if (!config.tie_word_embeddings) w.lm_head = AlignedBuffer(int64_t{config.vocab_size} * hidden);
  for (LayerWeights& layer : w.layers) allocate_layer(layer_dims(config), config.attention_bias, layer);
}

}  // namespace

int64_t ModelWeights::streamed_bytes_per_step(const ModelConfig& config) const {
  int64_t num_floats = static_cast<int64_t>(final_norm.size());
  for (const LayerWeights& layer : layers) {
    for (const AlignedBuffer* buffer :
         {&layer.attn_norm, &layer.wqkv, &layer.bqkv, &layer.wo, &layer.ffn_norm, &layer.w_gate_up, &layer.w_down}) {
      num_floats += static_cast<int64_t>(buffer->size());
    }
  }
  num_floats += int64_t{config.vocab_size} * config.hidden_size;  // the LM head, tied or not
  return num_floats * static_cast<int64_t>(sizeof(float));
}

Result<ModelWeights> load_weights(const std::string& dir, const ModelConfig& config) {
  PPD_ASSIGN_OR_RETURN(CheckpointFiles files, CheckpointFiles::open(dir));
  ModelWeights weights;
  const std::vector<Slot> slots = plan_slots(files, config, weights);
  for (const Slot& slot : slots) PPD_RETURN_IF_ERROR(check_slot(files, slot));
  allocate_all(config, weights);
  for (const Slot& slot : slots) PPD_RETURN_IF_ERROR(copy_slot(files, slot));
  return weights;
}

}  // namespace ppd::model
