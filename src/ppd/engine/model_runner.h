// ModelRunner: the Llama forward pass on CPU in F32 over one flattened batch that mixes
// prefill chunks (with or without a cached prefix) and decode tokens. Writes each row's
// K/V into the block pool, attends through block tables, and returns logits only for the
// rows that sample. Owns its scratch buffers; one step at a time (not thread-safe), using
// the thread pool it was given.
#pragma once

#include <span>
#include <vector>

#include "ppd/common/thread_pool.h"
#include "ppd/engine/forward_batch.h"
#include "ppd/engine/rope_table.h"
#include "ppd/kernels/kernels.h"
#include "ppd/kv/kv_storage.h"
#include "ppd/model/model_config.h"
#include "ppd/model/weights.h"

namespace ppd::engine {

struct ModelRunnerOptions {
  const model::ModelConfig* config = nullptr;    // must outlive the runner
  const model::ModelWeights* weights = nullptr;  // must outlive the runner
  kv::KvStorage* kv = nullptr;                   // must outlive the runner
  ThreadPool* pool = nullptr;                    // must outlive the runner
  kernels::KernelPath path = kernels::KernelPath::kScalar;
  int max_model_len = 0;  // positions the RoPE table covers
};

class ModelRunner {
 public:
  explicit ModelRunner(const ModelRunnerOptions& options);

  // Runs the batch; returns logits [batch.logit_rows.size()][vocab], valid until the next
  // call. REQUIRES: positions < max_model_len; token ids inside the vocabulary.
  std::span<const float> forward(const ForwardBatch& batch);

 private:
  void embed(const ForwardBatch& batch);
  void attention_block(int layer, const ForwardBatch& batch);
  void mlp_block(int layer, int num_rows);
  void compute_logits(const ForwardBatch& batch);
  void ensure_capacity(int num_rows, int num_logit_rows);
  // Calls fn(row) for every row, across the pool when there are enough rows.
  template <typename Fn>
  void for_rows(int num_rows, Fn&& fn);

  const model::ModelConfig& config_;
  const model::ModelWeights& weights_;
  kv::KvStorage* kv_;
  ThreadPool* pool_;
  kernels::KernelPath path_;
  RopeTable rope_;
  int qkv_dim_;  // (num_heads + 2 * num_kv_heads) * head_dim

  int capacity_rows_ = 0;
  std::vector<float> x_;        // [rows][hidden] residual stream
  std::vector<float> xb_;       // [rows][hidden] normed input of a sub-block
  std::vector<float> qkv_;      // [rows][qkv_dim]
  std::vector<float> attn_;     // [rows][num_heads * head_dim]
  std::vector<float> proj_;     // [rows][hidden] output of wo / w_down
  std::vector<float> gate_up_;  // [rows][2 * intermediate]
  std::vector<float> act_;      // [rows][intermediate]
  std::vector<float> last_;     // [logit rows][hidden]
  std::vector<float> logits_;   // [logit rows][vocab]
};

}  // namespace ppd::engine
