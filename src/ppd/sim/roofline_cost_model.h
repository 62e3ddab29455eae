// RooflineCostModel: an analytic step cost from public hardware specs and a model's shape.
// A step is two phases on each GPU: the linear layers (every token through every weight,
// weights read once per step, the LM head for sampling rows only) and attention (each new
// token against its context, each sequence's KV read once), each taking the longer of its
// compute time and its memory time at the spec's peak scaled by efficiency factors; plus two
// all-reduces per layer under tensor parallelism and a fixed per-step overhead. Pure;
// immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ppd/common/status.h"
#include "ppd/sim/model_shape.h"
#include "ppd/sim/step_cost.h"

namespace ppd::sim {

struct HardwareSpec {
  std::string name;
  double peak_flops = 0;                // dense, at the model's weight type, per GPU
  double memory_bytes_per_s = 0;        // HBM bandwidth per GPU
  double compute_efficiency = 0.6;      // share of peak_flops large GEMMs reach, (0, 1]
  double memory_efficiency = 0.8;       // share of memory bandwidth streaming reads reach, (0, 1]
  double interconnect_bytes_per_s = 0;  // per GPU, one direction (NVLink), for all-reduces
  int64_t allreduce_latency_ns = 0;
  int64_t step_overhead_ns = 0;      // launch and scheduling cost of a step
  double memory_capacity_bytes = 0;  // HBM per GPU
};

// Presets from public datasheets (SXM parts, dense BF16): h100-80gb, a100-80gb, h200.
// NOT_FOUND listing them otherwise.
Result<HardwareSpec> hardware_preset(std::string_view name);

// Checks every field's range; the message names the field.
Status validate_hardware(const HardwareSpec& h);

// KV blocks one model replica holds: `utilization` of its GPUs' memory, less the weights
// (a 5% activation reserve aside), divided by a block's bytes. At least 0.
int64_t kv_blocks_for(const HardwareSpec& h, const ModelShape& model, int block_size, double utilization = 0.9);
// The same for a replica whose GPUs hold `memory_bytes` each (a measured profile's device).
int64_t kv_blocks_for_memory(double memory_bytes, const ModelShape& model, int block_size, double utilization = 0.9);

// The phases of one step, for reports and tests.
struct StepCostBreakdown {
  double linear_flops = 0, linear_bytes = 0, attention_flops = 0, attention_bytes = 0, allreduce_bytes = 0;
  int64_t linear_ns = 0, attention_ns = 0, allreduce_ns = 0, overhead_ns = 0;
  int64_t total_ns() const { return linear_ns + attention_ns + allreduce_ns + overhead_ns; }
};

class RooflineCostModel final : public StepCostModel {
 public:
  // REQUIRES: validate_hardware(hardware).ok(), a shape from model_shape_preset or equivalent.
  RooflineCostModel(HardwareSpec hardware, ModelShape model) : hw_(std::move(hardware)), model_(std::move(model)) {}

  int64_t step_time_ns(const StepShape& shape) const override { return breakdown(shape).total_ns(); }
  StepCostBreakdown breakdown(const StepShape& shape) const;

  const HardwareSpec& hardware() const { return hw_; }
  const ModelShape& model() const { return model_; }

 private:
  int64_t phase_ns(double flops, double bytes) const;

  HardwareSpec hw_;
  ModelShape model_;
};

}  // namespace ppd::sim
