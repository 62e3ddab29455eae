#include "ppd/sim/roofline_cost_model.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace ppd::sim {
namespace {

// NVIDIA datasheets: H100 SXM5 80GB (989 TFLOP/s dense BF16, 3.35 TB/s HBM3, NVLink 900 GB/s
// both directions), A100 SXM4 80GB (312 TFLOP/s, 2.04 TB/s, 600 GB/s), H200 SXM (989 TFLOP/s,
// 4.8 TB/s, 900 GB/s); memory 80 GiB, 80 GiB and 141 GB. Efficiencies and overheads are starting points that a
// calibrated profile replaces.
const std::array<HardwareSpec, 3> kHardware = {{
    {"h100-80gb", 989e12, 3.35e12, 0.6, 0.8, 450e9, 8'000, 300'000, 80.0 * (1 << 30)},
    {"a100-80gb", 312e12, 2.039e12, 0.6, 0.8, 300e9, 10'000, 300'000, 80.0 * (1 << 30)},
    {"h200", 989e12, 4.8e12, 0.6, 0.8, 450e9, 8'000, 300'000, 141e9},
}};

Status check_share(std::string_view field, double v) {
  if (!(v > 0) || v > 1) return invalid_argument("hardware.{}: must be in (0, 1]; got {}", field, v);
  return Status::Ok();
}

}  // namespace

int64_t StepShape::num_prefill_tokens() const {
  int64_t n = 0;
  for (const PrefillChunk& c : prefill_chunks) n += c.num_tokens;
  return n;
}

int64_t StepShape::total_decode_context_tokens() const {
  int64_t n = 0;
  for (const int64_t c : decode_context_tokens) n += c;
  return n;
}

Result<HardwareSpec> hardware_preset(std::string_view name) {
  for (const HardwareSpec& h : kHardware) {
    if (h.name == name) return h;
  }
  return not_found("hardware: unknown preset \"{}\"; presets: h100-80gb, a100-80gb, h200", name);
}

int64_t kv_blocks_for(const HardwareSpec& h, const ModelShape& model, int block_size, double utilization) {
  return kv_blocks_for_memory(h.memory_capacity_bytes, model, block_size, utilization);
}

int64_t kv_blocks_for_memory(double memory_bytes, const ModelShape& model, int block_size, double utilization) {
  const double weights = static_cast<double>(model.linear_weights() + int64_t{model.hidden_size} * model.vocab_size) *
                         model.bytes_per_weight;
  const double memory = memory_bytes * model.tensor_parallel;
  const double free = memory * (utilization - 0.05) - weights;
  const double block = static_cast<double>(model.kv_bytes_per_token()) * block_size;
  return free > 0 ? static_cast<int64_t>(free / block) : 0;
}

Status validate_hardware(const HardwareSpec& h) {
  if (!(h.peak_flops > 0)) return invalid_argument("hardware.peak_flops: must be > 0; got {}", h.peak_flops);
  if (!(h.memory_bytes_per_s > 0)) {
    return invalid_argument("hardware.memory_bytes_per_s: must be > 0; got {}", h.memory_bytes_per_s);
  }
  PPD_RETURN_IF_ERROR(check_share("compute_efficiency", h.compute_efficiency));
  PPD_RETURN_IF_ERROR(check_share("memory_efficiency", h.memory_efficiency));
  if (h.interconnect_bytes_per_s < 0) {
    return invalid_argument("hardware.interconnect_bytes_per_s: must be >= 0; got {}", h.interconnect_bytes_per_s);
  }
  if (h.allreduce_latency_ns < 0 || h.step_overhead_ns < 0) {
    return invalid_argument("hardware: latencies must be >= 0; got allreduce {} ns, step overhead {} ns",
                            h.allreduce_latency_ns, h.step_overhead_ns);
  }
  return Status::Ok();
}

int64_t RooflineCostModel::phase_ns(double flops, double bytes) const {
  const double compute_s = flops / (hw_.peak_flops * hw_.compute_efficiency);
  const double memory_s = bytes / (hw_.memory_bytes_per_s * hw_.memory_efficiency);
  return static_cast<int64_t>(std::ceil(std::max(compute_s, memory_s) * 1e9));
}

StepCostBreakdown RooflineCostModel::breakdown(const StepShape& shape) const {
  StepCostBreakdown b;
  const int64_t num_tokens = shape.num_decode_sequences() + shape.num_prefill_tokens();
  if (num_tokens == 0) return b;
  const double tp = model_.tensor_parallel;
  int64_t sample_rows = shape.num_decode_sequences();
  // Query-key pairs; KV tokens read. A decode attends once to each token of its context.
  double attended = static_cast<double>(shape.total_decode_context_tokens()), kv_read_tokens = attended;
  for (const PrefillChunk& c : shape.prefill_chunks) {
    const double n = static_cast<double>(c.num_tokens), k = static_cast<double>(c.num_context_tokens);
    attended += n * k + n * (n + 1) / 2;
    kv_read_tokens += k + n;
    sample_rows += c.samples ? 1 : 0;
  }
  const double head = static_cast<double>(model_.hidden_size) * model_.vocab_size;
  const double layers = static_cast<double>(model_.num_layers) * static_cast<double>(model_.layer_weights());
  b.linear_flops = (2 * layers * static_cast<double>(num_tokens) + 2 * head * static_cast<double>(sample_rows)) / tp;
  b.linear_bytes = static_cast<double>(model_.linear_weights()) * model_.bytes_per_weight / tp;
  b.attention_flops = 4.0 * model_.num_layers * model_.num_heads * model_.head_dim * attended / tp;
  const double kv_token = static_cast<double>(model_.kv_bytes_per_token()) / tp;
  b.attention_bytes = kv_token * (kv_read_tokens + static_cast<double>(num_tokens));  // reads + writes
  b.linear_ns = phase_ns(b.linear_flops, b.linear_bytes);
  b.attention_ns = phase_ns(b.attention_flops, b.attention_bytes);
  if (model_.tensor_parallel > 1 && hw_.interconnect_bytes_per_s > 0) {
    // Two all-reduces per layer of the step's activations (ring: 2 (tp - 1) / tp of the bytes).
    const double bytes = static_cast<double>(num_tokens) * model_.hidden_size * model_.bytes_per_weight;
    b.allreduce_bytes = 2.0 * model_.num_layers * bytes;
    const double per_op_s = 2 * (tp - 1) / tp * bytes / hw_.interconnect_bytes_per_s;
    b.allreduce_ns =
        2 * int64_t{model_.num_layers} * (hw_.allreduce_latency_ns + static_cast<int64_t>(std::ceil(per_op_s * 1e9)));
  }
  b.overhead_ns = hw_.step_overhead_ns;
  return b;
}

}  // namespace ppd::sim
