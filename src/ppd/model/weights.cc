#include "ppd/model/weights.h"

#include "ppd/model/checkpoint_files.h"

namespace ppd::model {
namespace {


// One HF tensor and where its floats go (possibly a slice of a fused buffer).
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  float* dst;
};

Status load_slot(const CheckpointFiles& files, const Slot& slot) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located found, files.find(slot.name));
  if (found.tensor->shape != slot.shape) {
    return invalid_argument("{}: tensor \"{}\": shape {} does not match config.json: expected {}",
                            found.file->file_name(), slot.name, format_shape(found.tensor->shape),
                            format_shape(slot.shape));
  }
  found.tensor->copy_to_f32(slot.dst);
  return Status::Ok();
}

Status load_slots(const CheckpointFiles& files, const std::vector<Slot>& slots) {
  for (const Slot& slot : slots) PPD_RETURN_IF_ERROR(load_slot(files, slot));
  return Status::Ok();
}

struct LayerDims {
  int64_t hidden, ffn, q_rows, kv_rows;
};

LayerDims layer_dims(const ModelConfig& config) {
  return {config.hidden_size, config.intermediate_size, int64_t{config.num_heads} * config.head_dim,
          int64_t{config.num_kv_heads} * config.head_dim};
}

LayerWeights allocate_layer(const LayerDims& d, bool attention_bias) {
  LayerWeights w;
  w.attn_norm = AlignedBuffer(d.hidden);
  w.wqkv = AlignedBuffer((d.q_rows + 2 * d.kv_rows) * d.hidden);
  if (attention_bias) w.bqkv = AlignedBuffer(d.q_rows + 2 * d.kv_rows);
  w.wo = AlignedBuffer(d.hidden * d.q_rows);
  w.ffn_norm = AlignedBuffer(d.hidden);
  w.w_gate_up = AlignedBuffer(2 * d.ffn * d.hidden);
  w.w_down = AlignedBuffer(d.hidden * d.ffn);
  return w;
}

// HF tensors -> fused buffers: q, k, v rows stacked in wqkv (and bqkv); gate, up in w_gate_up.
std::vector<Slot> layer_slots(const LayerDims& d, int layer, LayerWeights& w) {
  const std::string p = fmt::format("model.layers.{}.", layer);
  float* const qkv = w.wqkv.data();
  float* const gate_up = w.w_gate_up.data();
  std::vector<Slot> slots = {
      {p + "input_layernorm.weight", {d.hidden}, w.attn_norm.data()},
      {p + "self_attn.q_proj.weight", {d.q_rows, d.hidden}, qkv},
      {p + "self_attn.k_proj.weight", {d.kv_rows, d.hidden}, qkv + d.q_rows * d.hidden},
      {p + "self_attn.v_proj.weight",
       {d.kv_rows, d.hidden},
       qkv + (d.q_rows + d.kv_rows) * d.hidden},
      {p + "self_attn.o_proj.weight", {d.hidden, d.q_rows}, w.wo.data()},
      {p + "post_attention_layernorm.weight", {d.hidden}, w.ffn_norm.data()},
      {p + "mlp.gate_proj.weight", {d.ffn, d.hidden}, gate_up},
      {p + "mlp.up_proj.weight", {d.ffn, d.hidden}, gate_up + d.ffn * d.hidden},
      {p + "mlp.down_proj.weight", {d.hidden, d.ffn}, w.w_down.data()},
  };
  if (w.bqkv.size() > 0) {
    float* const bias = w.bqkv.data();
    slots.push_back({p + "self_attn.q_proj.bias", {d.q_rows}, bias});
    slots.push_back({p + "self_attn.k_proj.bias", {d.kv_rows}, bias + d.q_rows});
    slots.push_back({p + "self_attn.v_proj.bias", {d.kv_rows}, bias + d.q_rows + d.kv_rows});
  }
  return slots;
}

Result<LayerWeights> load_layer(const CheckpointFiles& files, const ModelConfig& config,
                                int layer) {
  const LayerDims dims = layer_dims(config);
  LayerWeights weights = allocate_layer(dims, config.attention_bias);
  PPD_RETURN_IF_ERROR(load_slots(files, layer_slots(dims, layer, weights)));
  return weights;
}

// With tied embeddings a checkpoint may store either table (TinyStories stores only lm_head).
std::string embedding_tensor_name(const CheckpointFiles& files, const ModelConfig& config) {
  if (config.tie_word_embeddings && !files.contains("model.embed_tokens.weight") &&
      files.contains("lm_head.weight")) {
    return "lm_head.weight";
  }
  return "model.embed_tokens.weight";
}

Status load_outer(const CheckpointFiles& files, const ModelConfig& config, ModelWeights& weights) {
  const int64_t hidden = config.hidden_size;
  const int64_t vocab = config.vocab_size;
  weights.embed = AlignedBuffer(vocab * hidden);
  weights.final_norm = AlignedBuffer(hidden);
  std::vector<Slot> slots = {
      {embedding_tensor_name(files, config), {vocab, hidden}, weights.embed.data()},
      {"model.norm.weight", {hidden}, weights.final_norm.data()},
  };
  if (!config.tie_word_embeddings) {
    weights.lm_head = AlignedBuffer(vocab * hidden);
    slots.push_back({"lm_head.weight", {vocab, hidden}, weights.lm_head.data()});
  }
  return load_slots(files, slots);
}

}  // namespace

int64_t ModelWeights::streamed_bytes_per_step(const ModelConfig& config) const {
  int64_t num_floats = static_cast<int64_t>(final_norm.size());
  for (const LayerWeights& layer : layers) {
    for (const AlignedBuffer* buffer : {&layer.attn_norm, &layer.wqkv, &layer.bqkv, &layer.wo,
                                        &layer.ffn_norm, &layer.w_gate_up, &layer.w_down}) {
      num_floats += static_cast<int64_t>(buffer->size());
    }
  }
  num_floats += int64_t{config.vocab_size} * config.hidden_size;  // the LM head, tied or not
  return num_floats * static_cast<int64_t>(sizeof(float));
}

Result<ModelWeights> load_weights(const std::string& dir, const ModelConfig& config) {
  PPD_ASSIGN_OR_RETURN(CheckpointFiles files, CheckpointFiles::open(dir));
  ModelWeights weights;
  PPD_RETURN_IF_ERROR(load_outer(files, config, weights));
  weights.layers.reserve(static_cast<size_t>(config.num_layers));
  for (int layer = 0; layer < config.num_layers; ++layer) {
    PPD_ASSIGN_OR_RETURN(LayerWeights layer_weights, load_layer(files, config, layer));
    weights.layers.push_back(std::move(layer_weights));
  }
  return weights;
}

}  // namespace ppd::model
