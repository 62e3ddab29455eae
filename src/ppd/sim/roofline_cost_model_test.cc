#include "ppd/sim/roofline_cost_model.h"

#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ppd::sim {
namespace {

RooflineCostModel h100_llama8b() {
  return RooflineCostModel(*hardware_preset("h100-80gb"), *model_shape_preset("llama-3.1-8b"));
}

TEST(ModelShapeTest, Llama8bCountsMatchItsConfig) {
  const ModelShape m = *model_shape_preset("llama-3.1-8b");
  // Per layer: q 4096x4096, k and v 4096x1024 each, o 4096x4096, gate/up/down 3 x 4096x14336.
  EXPECT_EQ(m.layer_weights(), 218'103'808);
  EXPECT_EQ(m.linear_weights(), 32 * 218'103'808LL + 4096LL * 128'256);  // 7.50e9 with the LM head
  EXPECT_EQ(m.kv_bytes_per_token(), 32 * 2 * 8 * 128 * 2);               // 128 KiB
  EXPECT_EQ(model_shape_preset("gpt-5").status().message(),
            "model: unknown preset \"gpt-5\"; presets: llama-3.1-8b, qwen2.5-14b, llama-3.1-70b, tiny, small, medium");
  EXPECT_EQ(with_tensor_parallel(m, 3).status().message(),
            "tensor_parallel: must be >= 1 and divide 32 heads and 8 KV heads; got 3");
}

// One request decoding on an idle node: the step is the weight read (memory-bound), the KV
// read of its context, and the overhead, exactly as the spec's numbers give them.
TEST(RooflineCostModelTest, OneDecodeOnAnIdleNodeIsTheClosedForm) {
  const RooflineCostModel model = h100_llama8b();
  const StepShape shape{.decode_context_tokens = {1000}};
  const StepCostBreakdown b = model.breakdown(shape);
  const double weight_bytes = 7'504'658'432.0 * 2;
  const double memory_bytes_per_s = 3.35e12 * 0.8;
  EXPECT_EQ(b.linear_ns, static_cast<int64_t>(std::ceil(weight_bytes / memory_bytes_per_s * 1e9)));
  const double kv_bytes = 131'072.0 * (1000 + 1);  // the context read, the new token written
  EXPECT_EQ(b.attention_ns, static_cast<int64_t>(std::ceil(kv_bytes / memory_bytes_per_s * 1e9)));
  EXPECT_EQ(b.allreduce_ns, 0);
  EXPECT_EQ(model.step_time_ns(shape), b.linear_ns + b.attention_ns + 300'000);
  EXPECT_NEAR(model.step_time_ns(shape) / 1e6, 5.95, 0.01);  // about 5.6 ms of weights
  EXPECT_EQ(model.step_time_ns({}), 0);
}

// A long prefill is compute-bound: 2 FLOPs per weight per token over 60% of peak.
TEST(RooflineCostModelTest, ALongPrefillIsComputeBound) {
  const RooflineCostModel model = h100_llama8b();
  const StepCostBreakdown b = model.breakdown({.prefill_chunks = {{.num_tokens = 4096, .samples = true}}});
  const double flops = 2.0 * 32 * 218'103'808 * 4096 + 2.0 * 4096 * 128'256;
  EXPECT_DOUBLE_EQ(b.linear_flops, flops);
  EXPECT_EQ(b.linear_ns, static_cast<int64_t>(std::ceil(flops / (989e12 * 0.6) * 1e9)));
}

TEST(RooflineCostModelTest, TensorParallelSplitsTheWorkAndAddsAllReduces) {
  const ModelShape tp4 = *with_tensor_parallel(*model_shape_preset("llama-3.1-70b"), 4);
  const RooflineCostModel model(*hardware_preset("h100-80gb"), tp4);
  const StepCostBreakdown b = model.breakdown({.decode_context_tokens = {2048, 2048}});
  EXPECT_DOUBLE_EQ(b.linear_bytes, static_cast<double>(tp4.linear_weights()) * 2 / 4);
  // 2 all-reduces x 80 layers, each 8 us + 2 tokens x 8192 x 2 bytes x 2 x 3/4 over 450 GB/s.
  const int64_t per_op = 8'000 + static_cast<int64_t>(std::ceil(2.0 * 3 / 4 * 2 * 8192 * 2 / 450e9 * 1e9));
  EXPECT_EQ(b.allreduce_ns, 160 * per_op);
}

// The PPD paper's interference setting on the H100 profile: a decode batch of 200 alone, with
// a 1,024-token full prefill, and with an append-prefill of 1,024 tokens on 2,048 cached ones.
// The roofline puts a full prefill's slowdown at tens of percent to a few times the decode
// step, depending on the decode contexts, and the append's 2,048 cached tokens add only
// attention reads on top of the same linear work. (Matching the paper's published figures is
// open: its decode contexts are not stated here.)
TEST(RooflineCostModelTest, PaperInterferenceOnTheH100Profile) {
  const RooflineCostModel model = h100_llama8b();
  for (const int64_t context : {1024, 4096}) {
    StepShape decode{.decode_context_tokens = std::vector<int64_t>(200, context)};
    StepShape full = decode, append = decode;
    full.prefill_chunks = {{.num_tokens = 1024, .num_context_tokens = 0, .samples = true}};
    append.prefill_chunks = {{.num_tokens = 1024, .num_context_tokens = 2048, .samples = true}};
    const double base = static_cast<double>(model.step_time_ns(decode));
    const double with_full = static_cast<double>(model.step_time_ns(full)) / base - 1;
    const double with_append = static_cast<double>(model.step_time_ns(append)) / base - 1;
    std::cout << fmt::format(
        "H100, Llama-3.1-8B, decode batch 200 at {} tokens of context: step {:.2f} ms; "
        "+ full prefill 1024: +{:.1f}%; + append-prefill 1024 on 2048 cached: +{:.1f}%\n",
        context, base / 1e6, 100 * with_full, 100 * with_append);
    EXPECT_GT(with_full, 0.10);
    EXPECT_GT(with_append, with_full);
    EXPECT_LT(with_append - with_full, 0.05) << "2,048 cached tokens cost only attention reads";
  }
}

TEST(RooflineCostModelTest, BadHardwareNamesTheField) {
  HardwareSpec h = *hardware_preset("a100-80gb");
  h.compute_efficiency = 1.5;
  EXPECT_EQ(validate_hardware(h).message(), "hardware.compute_efficiency: must be in (0, 1]; got 1.5");
  EXPECT_EQ(hardware_preset("tpu").status().message(),
            "hardware: unknown preset \"tpu\"; presets: h100-80gb, a100-80gb, h200");
}

}  // namespace
}  // namespace ppd::sim
