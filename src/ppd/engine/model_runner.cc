#include "ppd/engine/model_runner.h"

#include <algorithm>
#include <cmath>

namespace ppd::engine {
namespace {

// Below this many rows a loop of per-row kernels runs inline: waking the pool costs more.
constexpr int kMinRowsForPool = 8;

size_t at(int row, int width) { return static_cast<size_t>(row) * static_cast<size_t>(width); }

kernels::WeightRef ref(const model::WeightMatrix& m) { return {m.bytes(), m.format()}; }

}  // namespace

ModelRunner::ModelRunner(const ModelRunnerOptions& o)
    : config_(*o.config),
      weights_(*o.weights),
      kv_(o.kv),
      pool_(o.pool),
      path_(o.path),
      rope_(*o.config, o.max_model_len),
      qkv_dim_((o.config->num_heads + 2 * o.config->num_kv_heads) * o.config->head_dim) {}

template <typename Fn>
void ModelRunner::for_rows(int num_rows, Fn&& fn) {
  if (num_rows < kMinRowsForPool || pool_->num_threads() == 1) {
    for (int r = 0; r < num_rows; ++r) fn(r);
    return;
  }
  pool_->parallel_for(num_rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) fn(static_cast<int>(r));
  });
}

void ModelRunner::ensure_capacity(int num_rows, int num_logit_rows) {
  if (num_rows > capacity_rows_) {
    capacity_rows_ = num_rows;
    const int hidden = config_.hidden_size;
    x_.resize(at(num_rows, hidden));
    xb_.resize(at(num_rows, hidden));
    qkv_.resize(at(num_rows, qkv_dim_));
    attn_.resize(at(num_rows, config_.num_heads * config_.head_dim));
    proj_.resize(at(num_rows, hidden));
    gate_up_.resize(at(num_rows, 2 * config_.intermediate_size));
    act_.resize(at(num_rows, config_.intermediate_size));
  }
  last_.resize(at(num_logit_rows, config_.hidden_size));
  logits_.resize(at(num_logit_rows, config_.vocab_size));
}

std::span<const float> ModelRunner::forward(const ForwardBatch& batch) {
  const int num_rows = batch.num_rows();
  ensure_capacity(num_rows, static_cast<int>(batch.logit_rows.size()));
  embed(batch);
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    attention_block(layer, batch);
    mlp_block(layer, num_rows);
  }
  compute_logits(batch);
  return {logits_.data(), logits_.size()};
}

void ModelRunner::embed(const ForwardBatch& batch) {
  const int hidden = config_.hidden_size;
  for_rows(batch.num_rows(),
           [&](int r) { weights_.embed.row_to_f32(batch.tokens[static_cast<size_t>(r)], &x_[at(r, hidden)]); });
}

void ModelRunner::attention_block(int layer, const ForwardBatch& batch) {
  const model::LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int hidden = config_.hidden_size;
  const int num_rows = batch.num_rows();
  const int head_dim = config_.head_dim;
  const int q_dim = config_.num_heads * head_dim;
  const int kv_dim = config_.num_kv_heads * head_dim;
  const float eps = static_cast<float>(config_.rms_norm_eps);

  for_rows(num_rows, [&](int r) {
    kernels::rmsnorm(path_, &x_[at(r, hidden)], w.attn_norm.data(), eps, hidden, &xb_[at(r, hidden)]);
  });
  kernels::matmul(path_,
                  {.x = xb_.data(),
                   .w = ref(w.wqkv),
                   .bias = w.bqkv.size() ? w.bqkv.data() : nullptr,
                   .y = qkv_.data(),
                   .m = num_rows,
                   .n = qkv_dim_,
                   .k = hidden},
                  *pool_);
  for_rows(num_rows, [&](int r) {
    float* q = &qkv_[at(r, qkv_dim_)];
    const float* cos_sin = rope_.row(batch.positions[static_cast<size_t>(r)]);
    kernels::rope(path_, q, config_.num_heads, head_dim, cos_sin);
    kernels::rope(path_, q + q_dim, config_.num_kv_heads, head_dim, cos_sin);
    kernels::write_kv(kv_->layout(), kv_->base(), batch.kv_block[static_cast<size_t>(r)],
                      batch.kv_slot[static_cast<size_t>(r)], layer, q + q_dim, q + q_dim + kv_dim);
  });
  kernels::attention(path_,
                     {.layout = kv_->layout(),
                      .kv_base = kv_->base(),
                      .layer = layer,
                      .q = qkv_.data(),
                      .q_row_stride = qkv_dim_,
                      .out = attn_.data(),
                      .scale = 1.0f / std::sqrt(static_cast<float>(head_dim)),
                      .sequences = batch.sequences},
                     *pool_);
  kernels::matmul(path_, {.x = attn_.data(), .w = ref(w.wo), .y = proj_.data(), .m = num_rows, .n = hidden, .k = q_dim},
                  *pool_);
  for_rows(num_rows, [&](int r) { kernels::add_inplace(path_, &x_[at(r, hidden)], &proj_[at(r, hidden)], hidden); });
}

void ModelRunner::mlp_block(int layer, int num_rows) {
  const model::LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int hidden = config_.hidden_size;
  const int ffn = config_.intermediate_size;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  for_rows(num_rows, [&](int r) {
    kernels::rmsnorm(path_, &x_[at(r, hidden)], w.ffn_norm.data(), eps, hidden, &xb_[at(r, hidden)]);
  });
  kernels::matmul(
      path_, {.x = xb_.data(), .w = ref(w.w_gate_up), .y = gate_up_.data(), .m = num_rows, .n = 2 * ffn, .k = hidden},
      *pool_);
  for_rows(num_rows, [&](int r) {
    const float* gu = &gate_up_[at(r, 2 * ffn)];
    kernels::silu_mul(path_, gu, gu + ffn, ffn, &act_[at(r, ffn)]);
  });
  kernels::matmul(
      path_, {.x = act_.data(), .w = ref(w.w_down), .y = proj_.data(), .m = num_rows, .n = hidden, .k = ffn}, *pool_);
  for_rows(num_rows, [&](int r) { kernels::add_inplace(path_, &x_[at(r, hidden)], &proj_[at(r, hidden)], hidden); });
}

void ModelRunner::compute_logits(const ForwardBatch& batch) {
  const int hidden = config_.hidden_size;
  const int num_logit_rows = static_cast<int>(batch.logit_rows.size());
  if (num_logit_rows == 0) return;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  for (int i = 0; i < num_logit_rows; ++i) {
    kernels::rmsnorm(path_, &x_[at(batch.logit_rows[static_cast<size_t>(i)], hidden)], weights_.final_norm.data(), eps,
                     hidden, &last_[at(i, hidden)]);
  }
  kernels::matmul(path_,
                  {.x = last_.data(),
                   .w = ref(weights_.lm_head_matrix()),
                   .y = logits_.data(),
                   .m = num_logit_rows,
                   .n = config_.vocab_size,
                   .k = hidden},
                  *pool_);
}

}  // namespace ppd::engine
