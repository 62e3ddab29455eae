#include "ppd/cli/precision_flags.h"

#include <CLI/CLI.hpp>

namespace ppd::cli {

void add_precision_flags(CLI::App* cmd, const PrecisionFlags& flags) {
  cmd->add_option("--dtype", *flags.dtype,
                  "Weights in memory: auto (the checkpoint's dtype), f32, f16 or bf16 (converted at load)")
      ->check(CLI::IsMember({"auto", "f32", "f16", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--quantize", *flags.quantize,
                  "none, or q8_0: 8-bit weights quantized at load (blocks of 32 with one scale; needs --dtype auto)")
      ->check(CLI::IsMember({"none", "q8_0"}))
      ->capture_default_str();
  cmd->add_option("--kv-dtype", *flags.kv_dtype,
                  "KV cache values: auto (the weights' f16/bf16, else the checkpoint's dtype), f32, f16 or bf16. "
                  "Nodes that share KV must use the same")
      ->check(CLI::IsMember({"auto", "f32", "f16", "bf16"}))
      ->capture_default_str();
}

}  // namespace ppd::cli
