// The flags `ppd bench serve`, `ppd bench compare` and `ppd sim` share: which workload, its shape
// and its arrivals (experiment::WorkloadFlags), the load generator's options and the SLOs. Each
// add_* registers them on a subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include "ppd/experiment/workload_spec.h"
#include "ppd/loadgen/load_generator.h"

namespace ppd::cli {

void add_workload_flags(CLI::App* cmd, experiment::WorkloadFlags* f);
void add_load_flags(CLI::App* cmd, loadgen::LoadOptions* o);
void add_slo_flags(CLI::App* cmd, experiment::SloFlags* f);

}  // namespace ppd::cli
