// The `ppd bench engine|interference|transfer|router` commands once their flags are parsed:
// each runs its benchmark, prints the table on stdout and, when `json_path` is not empty,
// writes the JSON there. Errors: the benchmark's, or the write's.
#pragma once

#include <string>

#include "ppd/common/status.h"
#include "ppd/microbench/bench_engine.h"
#include "ppd/microbench/bench_interference.h"
#include "ppd/microbench/bench_router.h"
#include "ppd/microbench/bench_transfer.h"

namespace ppd::microbench {

Status run_engine_bench_command(const EngineBenchOptions& options, const std::string& json_path);
Status run_interference_bench_command(const InterferenceBenchOptions& options, const std::string& json_path);
Status run_transfer_bench_command(const TransferBenchOptions& options, const std::string& json_path);
Status run_router_bench_command(const RouterBenchOptions& options, const std::string& json_path);

}  // namespace ppd::microbench
