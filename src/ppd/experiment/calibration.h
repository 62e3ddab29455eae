// The simulator's step profile fitted on this machine (`ppd sim calibrate`): measured with the
// engine and interference micro-benchmarks on a grid of batches and contexts, or fitted to the
// steps node logs hold, or refitted from the samples other profiles keep. Measuring progress goes
// to stderr; the fit's table to `out`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::experiment {

struct CalibrationOptions {
  std::string model = "small";
  int threads = 1;
  std::vector<int> batches = {1, 4, 16, 32};
  std::vector<int> contexts = {256, 768};  // each grid point's decode context and full-prefill length
  int repeats = 3;
  std::string out_path = "profile.json";
  std::vector<std::string> node_logs;  // fit these logged steps instead of measuring
  std::vector<std::string> refit;      // fit the samples these profiles keep instead of measuring
};

// Measures (or reads) the steps, fits the profile, prints the fit and writes options.out_path.
// Errors name the flag and the file; a failed benchmark or write is returned as is.
Status run_calibration(const CalibrationOptions& options, std::ostream& out);

}  // namespace ppd::experiment
