// `ppd sim validate`: a simulated run against a measured one, metric by metric. Both files
// are in the benchmark's JSON format (`ppd bench serve|compare`, `ppd sim --json`); runs pair
// up by (label, rate). With --profile and --node-log, also the step profile against the steps
// the measured run's nodes logged, which tells the simulator's own error from the machine's
// drift since calibration. With --profile and --roofline, a GPU roofline against the steps a
// measured profile keeps (scripts/gpu_step_profile.py): how far the spec sheet is from the
// card. Exits 1 when any compared figure is off by more than the tolerance.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "ppd/cli/sim_commands.h"
#include "ppd/experiment/sim_validation.h"

namespace ppd::cli {

void register_sim_validate(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<experiment::ValidationOptions>();
  CLI::App* cmd = sim->add_subcommand("validate",
                                      "Compare a simulated run with a measured one: turn 1 and turn 2+ "
                                      "mean TTFT and TPOT, per (label, rate); and a step profile with "
                                      "the steps real nodes logged");
  cmd->add_option("--measured", f->measured_path, "JSON of ppd bench serve or ppd bench compare");
  cmd->add_option("--simulated", f->simulated_path, "JSON of ppd sim");
  cmd->add_option("--profile", f->profile_path,
                  "Step profile (ppd sim calibrate, scripts/gpu_step_profile.py) to check "
                  "against --node-log, or whose measured steps --roofline is checked "
                  "against");
  cmd->add_option("--node-log", f->node_logs,
                  "Log of a measured node run with PPD_LOG_LEVEL=debug (its step lines); "
                  "repeat for several nodes");
  cmd->add_option("--roofline", f->roofline,
                  "GPU roofline preset (h100-80gb, a100-80gb, h200) to check against the "
                  "steps --profile keeps, on the profile's model");
  cmd->add_option("--tolerance", f->tolerance, "Largest relative error accepted")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    const Status status = experiment::run_validation(*f, std::cout);
    if (!status.ok()) std::cerr << "ppd sim validate: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
