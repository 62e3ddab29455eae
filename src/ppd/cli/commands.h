// The `ppd` subcommands. Each register_* function adds one subcommand (with its flags and
// --help text) to `app`; when the command line selects it, its callback runs the command
// and stores the process exit code in *exit_code (0 on success, 1 on a reported error,
// 2 on bad usage). Commands print results to stdout and errors, one line each, to stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace ppd::cli {

void register_generate_command(CLI::App& app, int* exit_code);
void register_tokenize_command(CLI::App& app, int* exit_code);
void register_model_command(CLI::App& app, int* exit_code);  // `ppd model synth`
void register_bench_command(CLI::App& app,
                            int* exit_code);  // `ppd bench engine|interference|transfer|router|serve|compare`
void register_node_command(CLI::App& app, int* exit_code);    // `ppd node`
void register_router_command(CLI::App& app, int* exit_code);  // `ppd router`
void register_up_command(CLI::App& app, int* exit_code);      // `ppd up`: nodes + router as child processes
void register_sim_command(CLI::App& app, int* exit_code);     // `ppd sim interference`

}  // namespace ppd::cli
