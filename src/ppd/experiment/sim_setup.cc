#include "ppd/experiment/sim_setup.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "ppd/sim/profile_cost_model.h"
#include "ppd/sim/roofline_cost_model.h"

namespace ppd::experiment {
namespace {

int64_t ms_to_ns(double ms) { return static_cast<int64_t>(std::llround(ms * 1e6)); }

// A node's KV pool: --kv-blocks; else --kv-cache-mib; else the device's memory (the roofline
// preset's, or the one a GPU profile records) less the weights. A profile that records no
// device (a CPU calibration) needs one of the two flags: no pool size is guessed.
struct ProfileDevice {
  std::string profile_name;
  int64_t memory_bytes = 0;  // 0: not recorded
};

Result<int64_t> kv_blocks(const SimClusterFlags& f, const sim::ModelShape& shape, const sim::HardwareSpec* hw,
                          const ProfileDevice& profile) {
  if (f.kv_blocks > 0) return f.kv_blocks;
  std::string source;
  int64_t blocks = 0;
  if (f.kv_cache_mib > 0) {
    source = fmt::format("--kv-cache-mib {}", f.kv_cache_mib);
    blocks = (f.kv_cache_mib << 20) / (shape.kv_bytes_per_token() * f.block_size);
  } else if (hw) {
    source = hw->name;
    blocks = sim::kv_blocks_for(*hw, shape, f.block_size);
  } else if (profile.memory_bytes > 0) {
    source = fmt::format("the profile's device memory ({} bytes)", profile.memory_bytes);
    blocks = sim::kv_blocks_for_memory(static_cast<double>(profile.memory_bytes), shape, f.block_size);
  } else {
    return invalid_argument(
        "--kv-cache-mib: the profile \"{}\" records no device memory to size the KV pool from; "
        "give --kv-cache-mib (as ppd node --kv-cache-mib) or --kv-blocks",
        profile.profile_name);
  }
  if (blocks < 1) {
    return invalid_argument("--kv-blocks: {} leaves no room for KV blocks; give --kv-blocks or a larger memory",
                            source);
  }
  return std::min<int64_t>(blocks, INT32_MAX);
}

}  // namespace

Result<SimSetup> make_sim_setup(const SimClusterFlags& f) {
  SimSetup s;
  PPD_ASSIGN_OR_RETURN(sim::ModelShape shape, sim::model_shape_preset(f.model));
  PPD_ASSIGN_OR_RETURN(shape, sim::with_tensor_parallel(shape, f.tensor_parallel));
  std::optional<sim::HardwareSpec> hw;
  ProfileDevice device;
  if (f.profile.empty()) {
    PPD_ASSIGN_OR_RETURN(hw, sim::hardware_preset(f.hardware));
    s.cost = std::make_unique<sim::RooflineCostModel>(*hw, shape);
    s.cost_name = fmt::format("roofline {} x{}", hw->name, f.tensor_parallel);
  } else {
    Result<sim::StepProfile> profile = sim::read_profile(f.profile);
    if (!profile.ok()) return invalid_argument("--profile: {}", profile.status().message());
    s.cost_name = fmt::format("profile {}", profile->name);
    device = {.profile_name = profile->name, .memory_bytes = profile->device_memory_bytes};
    s.cost = std::make_unique<sim::ProfileCostModel>(std::move(*profile));
  }
  PPD_ASSIGN_OR_RETURN(const int64_t blocks, kv_blocks(f, shape, hw ? &*hw : nullptr, device));
  sim::ClusterOptions& c = s.cluster;
  c.num_prefill = f.num_prefill;
  c.num_decode = f.num_decode;
  c.node.scheduler = {.max_num_batched_tokens = f.max_batched_tokens,
                      .max_prefill_tokens = f.max_prefill_tokens,
                      .max_num_running = f.max_running,
                      .model_identity = uint64_t{0x5eed0000} + static_cast<uint64_t>(shape.vocab_size)};
  c.node.kv_cache = {.num_blocks = static_cast<int>(blocks), .block_size = f.block_size};
  c.node.vocab_size = shape.vocab_size;
  c.link = {.bytes_per_s = f.link_bytes_per_s,
            .latency_ns = static_cast<int64_t>(std::llround(f.link_latency_us * 1e3))};
  c.block_bytes = shape.kv_bytes_per_token() * f.block_size;
  c.policy = resolve_policy_flags(f.policy);
  c.load_report_ns = std::max<int64_t>(1, ms_to_ns(f.load_report_ms));
  c.message_delay_ns = ms_to_ns(f.message_delay_ms);
  if (c.policy.name == "table" && c.policy.table_file.empty()) {
    return invalid_argument("--table: the table policy needs its lookup table file");
  }
  PPD_RETURN_IF_ERROR(sim::validate_cluster_options(c));
  return s;
}

nlohmann::json sim_flags_json(const SimClusterFlags& f) {
  const PolicyFlags& p = f.policy;
  return {{"model", f.model},
          {"tensor_parallel", f.tensor_parallel},
          {"hardware", f.profile.empty() ? f.hardware : ""},
          {"profile", f.profile},
          {"prefill", f.num_prefill},
          {"decode", f.num_decode},
          {"kv_blocks", f.kv_blocks},
          {"kv_cache_mib", f.kv_cache_mib},
          {"block_size", f.block_size},
          {"max_num_batched_tokens", f.max_batched_tokens},
          {"max_prefill_tokens", f.max_prefill_tokens},
          {"max_num_running", f.max_running},
          {"link_bytes_per_s", f.link_bytes_per_s},
          {"link_latency_us", f.link_latency_us},
          {"policy", p.policy.name},
          {"transfer", p.transfer},
          {"w_ttft", p.policy.ppd.w_ttft},
          {"w_tpot", p.policy.ppd.w_tpot},
          {"guard_ttft_ms", p.guard_ttft_ms},
          {"guard_tpot_ms", p.guard_tpot_ms},
          {"table", p.policy.table_file},
          {"load_report_ms", f.load_report_ms},
          {"message_delay_ms", f.message_delay_ms}};
}

}  // namespace ppd::experiment
