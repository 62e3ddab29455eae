// `ppd bench serve` and `ppd bench compare`: the multi-turn benchmark commands, and the
// file output they share (JSON, gnuplot plots). See docs/architecture.md, "The benchmark".
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ppd/common/status.h"
#include "ppd/loadgen/run_report.h"

namespace ppd::cli {

void register_bench_serve(CLI::App* bench, int* exit_code);
void register_bench_compare(CLI::App* bench, int* exit_code);

// Writes each script to <dir>/<png stem>.gp and runs gnuplot on it. Returns the image names
// drawn; FAILED_PRECONDITION naming gnuplot when it is missing or fails (the scripts stay).
Result<std::vector<std::string>> render_plots(const std::vector<loadgen::PlotScript>& plots, const std::string& dir);

// "--rate": every value > 0; INVALID_ARGUMENT "--rate: must be > 0; got -1" otherwise.
Status check_rates(const std::vector<double>& rates);

}  // namespace ppd::cli
