// ppd: one binary, one subcommand per job. main() only wires the subcommands together.
#include <CLI/CLI.hpp>

#include "ppd/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"ppd: prefill/decode-disaggregated serving for multi-turn LLM traffic"};
  app.require_subcommand(1);
  int exit_code = 0;
  ppd::cli::register_generate_command(app, &exit_code);
  ppd::cli::register_tokenize_command(app, &exit_code);
  ppd::cli::register_model_command(app, &exit_code);
  ppd::cli::register_bench_command(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
