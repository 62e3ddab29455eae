// The flags of a simulated cluster (`ppd sim`, `ppd sim sweep`).
#include "ppd/cli/sim_flags.h"

#include <CLI/CLI.hpp>

namespace ppd::cli {

void add_template_tokens_flag(CLI::App* cmd, int* template_tokens) {
  cmd->add_option("--template-tokens", *template_tokens,
                  "Tokens a chat template adds to every user message (role "
                  "markers, the assistant prefix), as a real server's prompts have")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_sim_cluster_flags(CLI::App* cmd, experiment::SimClusterFlags* f) {
  cmd->add_option("--model", f->model, "Model shape: llama-3.1-8b, qwen2.5-14b, llama-3.1-70b, tiny, small, medium")
      ->capture_default_str();
  cmd->add_option("--tensor-parallel", f->tensor_parallel, "GPUs per node (one model replica)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--hardware", f->hardware, "Roofline profile: h100-80gb, a100-80gb, h200")->capture_default_str();
  cmd->add_option("--profile", f->profile, "Calibrated step profile (ppd sim calibrate) in place of the roofline");
  cmd->add_option("--prefill", f->num_prefill, "Prefill nodes")->check(CLI::Range(0, 63))->capture_default_str();
  cmd->add_option("--decode", f->num_decode, "Decode nodes")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--kv-blocks", f->kv_blocks,
                  "KV blocks per node (0: from --kv-cache-mib, else from the GPUs' "
                  "memory at 90% less the weights: the roofline preset's, or the one a "
                  "GPU profile records)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--kv-cache-mib", f->kv_cache_mib,
                  "KV pool per node in MiB, as ppd node --kv-cache-mib (0: from the "
                  "device memory; required with a profile that records none, such "
                  "as a CPU calibration)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--block-size", f->block_size, "Tokens per KV block")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-num-batched-tokens", f->max_batched_tokens, "Tokens per step")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-prefill-tokens", f->max_prefill_tokens, "Prefill tokens per step (chunk size)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-num-running", f->max_running, "Requests holding KV at once per node")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--link-bytes-per-s", f->link_bytes_per_s,
                  "Each decode node's KV ingress bandwidth, shared by its "
                  "concurrent pulls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency-us", f->link_latency_us, "Latency added to every pull")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_policy_flags(cmd, &f->policy, "--guard");
  cmd->add_option("--load-report-ms", f->load_report_ms, "Period of every node's load report")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--message-delay-ms", f->message_delay_ms, "Delay of KV events and load reports to the router")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

}  // namespace ppd::cli
