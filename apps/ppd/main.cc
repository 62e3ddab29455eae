// ppd: one binary, one subcommand per job. main() only wires the subcommands together and
// sets up logging (stderr, key=value lines; --log-level or PPD_LOG_LEVEL, default warn),
// after restarting itself once where OpenBLAS fell back to kernels below the CPU's
// (kernels/blas_core.h).
#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "ppd/cli/commands.h"
#include "ppd/kernels/blas_core.h"

int main(int argc, char** argv) {
  ppd::kernels::restart_with_preferred_blas_core(argv);
  CLI::App app{"ppd: prefill/decode-disaggregated serving for multi-turn LLM traffic"};
  app.require_subcommand(1);
  const char* env_level = std::getenv("PPD_LOG_LEVEL");
  std::string log_level = env_level != nullptr ? env_level : "warn";
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.parse_complete_callback([&] {
    auto logger = spdlog::stderr_logger_mt("ppd");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    logger->set_level(spdlog::level::from_str(log_level));
    spdlog::set_default_logger(logger);
  });
  int exit_code = 0;
  ppd::cli::register_generate_command(app, &exit_code);
  ppd::cli::register_tokenize_command(app, &exit_code);
  ppd::cli::register_model_command(app, &exit_code);
  ppd::cli::register_bench_command(app, &exit_code);
  ppd::cli::register_node_command(app, &exit_code);
  ppd::cli::register_router_command(app, &exit_code);
  ppd::cli::register_up_command(app, &exit_code);
  ppd::cli::register_sim_command(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
