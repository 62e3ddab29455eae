#include "ppd/cli/precision_flags.h"

#include <CLI/CLI.hpp>

namespace ppd::cli {

void add_precision_flags(CLI::App* cmd, std::string* dtype, std::string* quantize) {
  cmd->add_option("--dtype", *dtype,
                  "Weights in memory: auto (the checkpoint's dtype), f32, f16 or bf16 (converted at load)")
      ->check(CLI::IsMember({"auto", "f32", "f16", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--quantize", *quantize,
                  "none, or q8_0: 8-bit weights quantized at load (blocks of 32 with one scale; needs --dtype auto)")
      ->check(CLI::IsMember({"none", "q8_0"}))
      ->capture_default_str();
}

}  // namespace ppd::cli
