// `ppd sim calibrate`: measures this machine's CPU engine on a grid of batch shapes and fits
// the simulator's step profile to them. At each context length: steady decode-only steps and a
// lone prefill (the engine benchmark), and decode + full prefill and decode + append-prefill
// steps (the interference benchmark). The interference benchmark's own decode-only steps are
// not used: each follows a large mixed step and runs slower than steady decoding. With
// --from-node-log it measures nothing and fits the steps real nodes logged instead.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "ppd/cli/sim_commands.h"
#include "ppd/experiment/calibration.h"

namespace ppd::cli {

void register_sim_calibrate(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<experiment::CalibrationOptions>();
  CLI::App* cmd = sim->add_subcommand("calibrate",
                                      "Measure the CPU engine's step times on a grid of batches and write "
                                      "the simulator's step profile (use with ppd sim --profile)");
  cmd->add_option("--model", f->model, "Model directory or preset (tiny, small, medium)")->capture_default_str();
  cmd->add_option("--threads", f->threads, "Engine compute threads, as the nodes to be simulated run")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--batches", f->batches, "Decode batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--contexts", f->contexts,
                  "Context lengths: each sets the decode context and the full prefill; the "
                  "append-prefill is a quarter of it on it. Span the shapes of the workload "
                  "you will simulate: the linear fit compromises across the grid")
      ->delimiter(',')
      ->check(CLI::Range(16, 32768))
      ->capture_default_str();
  cmd->add_option("--repeats", f->repeats, "Timed steps per shape (medians)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--out", f->out_path, "Profile file to write")->capture_default_str();
  CLI::Option* from_logs = cmd->add_option("--from-node-log", f->node_logs,
                                           "Measure nothing: fit the steps these node "
                                           "logs hold (PPD_LOG_LEVEL=debug), decode-only "
                                           "steps and lone prefills");
  cmd->add_option("--refit", f->refit,
                  "Measure nothing: fit the steps these profiles keep together (e.g. "
                  "calibrations before and after a measurement)")
      ->excludes(from_logs);
  cmd->callback([f, exit_code] {
    const Status status = experiment::run_calibration(*f, std::cout);
    if (!status.ok()) std::cerr << "ppd sim calibrate: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
