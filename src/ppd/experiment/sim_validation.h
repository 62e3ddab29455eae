// What `ppd sim validate` checks: a simulated run against a measured one, metric by metric. Both files
// are in the benchmark's JSON format (`ppd bench serve|compare`, `ppd sim --json`); runs pair
// up by (label, rate). With --profile and --node-log, also the step profile against the steps
// the measured run's nodes logged, which tells the simulator's own error from the machine's
// drift since calibration. With --profile and --roofline, a GPU roofline against the steps a
// measured profile keeps (scripts/gpu_step_profile.py): how far the spec sheet is from the
// card. Pure apart from reading the files.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::experiment {

struct ValidationOptions {
  std::string measured_path;
  std::string simulated_path;
  std::string profile_path;
  std::vector<std::string> node_logs;
  std::string roofline;  // hardware preset to compare with the profile's measured steps
  double tolerance = 0.15;
};

// Runs the comparisons the options ask for and prints their tables to `out`. Returns
// invalid_argument for unusable options or files, failed_precondition when a compared figure is
// off by more than the tolerance, OK otherwise.
Status run_validation(const ValidationOptions& options, std::ostream& out);

}  // namespace ppd::experiment
