// A simulated cluster as `ppd sim` and `ppd sim sweep` describe it (model, cost profile, P:D split,
// node limits, KV link and routing policy), and the cost model and cluster options it builds.
// The flags that fill it are in cli/sim_flags.h.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "ppd/common/status.h"
#include "ppd/experiment/policy_spec.h"
#include "ppd/sim/cluster.h"

namespace ppd::experiment {

struct SimClusterFlags {
  std::string model = "llama-3.1-8b";  // model shape preset
  int tensor_parallel = 1;
  std::string hardware = "h100-80gb";  // roofline profile, unless --profile is given
  std::string profile;                 // a calibrated profile file (ppd sim calibrate)
  int num_prefill = 1;
  int num_decode = 3;
  int64_t kv_blocks = 0;     // per node; 0: from the GPUs' memory, or --kv-cache-mib with --profile
  int64_t kv_cache_mib = 0;  // per node, as `ppd node --kv-cache-mib`; 0: from the device memory
  int block_size = 16;
  int max_batched_tokens = 2048;
  int max_prefill_tokens = 2048;
  int max_running = 256;
  double link_bytes_per_s = 25e9;  // each decode node's ingress
  double link_latency_us = 10;
  PolicyFlags policy;  // --policy etc., with --guard-ttft-ms / --guard-tpot-ms
  double load_report_ms = 100;
  double message_delay_ms = 1;
};

struct SimSetup {
  std::unique_ptr<sim::StepCostModel> cost;
  std::string cost_name;  // "roofline h100-80gb" or "profile <name>"
  sim::ClusterOptions cluster;
};

// Builds the cost model and cluster options. Errors name the flag ("--policy: unknown
// \"x\"; supported: ...", "--profile f.json: coefficients_us: ...").
Result<SimSetup> make_sim_setup(const SimClusterFlags& f);

// The flags as a JSON object, for result files.
nlohmann::json sim_flags_json(const SimClusterFlags& f);

}  // namespace ppd::experiment
