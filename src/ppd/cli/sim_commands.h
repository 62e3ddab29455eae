// The `ppd sim` family: the simulated run itself (flags on `ppd sim`), and its subcommands.
#pragma once

#include <string>

#include "ppd/common/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

// Sets the flags of `cmd` named in a TOML file (`flag = value`, no dashes) that the command
// line did not give. INVALID_ARGUMENT naming the file and the flag for an unknown flag or a
// bad value.
Status apply_config_file(CLI::App* cmd, const std::string& path);

// `ppd sim [--config FILE] [flags]`: runs the simulator (sim_run_command.cc).
void register_sim_run(CLI::App* sim, int* exit_code);
// `ppd sim interference` (sim_command.cc).
void register_sim_interference(CLI::App* sim, int* exit_code);
// `ppd sim calibrate` (sim_calibrate_command.cc).
void register_sim_calibrate(CLI::App* sim, int* exit_code);
// `ppd sim validate` (sim_validate_command.cc).
void register_sim_validate(CLI::App* sim, int* exit_code);
// `ppd sim sweep` (sim_sweep_command.cc).
void register_sim_sweep(CLI::App* sim, int* exit_code);
// `ppd sim scorecard` (sim_scorecard_command.cc).
void register_sim_scorecard(CLI::App* sim, int* exit_code);

}  // namespace ppd::cli
