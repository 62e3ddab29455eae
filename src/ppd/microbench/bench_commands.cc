// The `ppd bench` micro-benchmark commands: run one, print its table on stdout (progress on
// stderr) and, given a path, write its JSON there.
#include "ppd/microbench/bench_commands.h"

#include <iostream>

#include <fmt/format.h>

#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/kernels/kernels.h"

namespace ppd::microbench {
namespace {

// The machine, and how busy it was at the start: other work on it widens the tails.
std::string machine_text() {
  const Result<std::string> loadavg = read_file("/proc/loadavg");
  if (!loadavg.ok()) return describe_machine();
  std::string_view fields = *loadavg;
  size_t end = 0;
  for (int i = 0; i < 3 && end != std::string_view::npos; ++i) end = fields.find(' ', end + (i > 0));
  return fmt::format("{}; load average {} at start", describe_machine(), fields.substr(0, end));
}

}  // namespace

Status run_engine_bench_command(const EngineBenchOptions& options, const std::string& json_path) {
  PPD_ASSIGN_OR_RETURN(const kernels::KernelPath path, kernels::parse_kernel_path(options.kernels));
  std::cerr << "ppd bench engine: kernels " << kernels::kernel_path_name(path) << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<EngineBenchRow> rows, run_engine_bench(options, std::cerr));
  const std::string machine = kernels::describe_machine_and_blas();
  std::cout << format_engine_bench(rows, machine);
  if (!json_path.empty()) PPD_RETURN_IF_ERROR(write_file(json_path, engine_bench_json(rows, machine)));
  return Status::Ok();
}

Status run_router_bench_command(const RouterBenchOptions& options, const std::string& json_path) {
  const std::string machine = machine_text();
  std::cerr << "ppd bench router: " << machine << "\n";
  PPD_ASSIGN_OR_RETURN(const DecisionReport decision, run_decision_bench(options, std::cerr));
  PPD_ASSIGN_OR_RETURN(const ServingReport serving, run_serving_bench(options, std::cerr));
  std::cout << format_router_bench(decision, serving, options, machine);
  if (!json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(json_path, router_bench_json(decision, serving, options, machine)));
  }
  return Status::Ok();
}

Status run_transfer_bench_command(const TransferBenchOptions& options, const std::string& json_path) {
  const std::string machine = describe_machine();
  std::cerr << "ppd bench transfer: " << machine << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<TransferBenchRow> rows, run_transfer_bench(options, std::cerr));
  std::cout << format_transfer_bench(rows, options, machine);
  if (!json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(json_path, transfer_bench_json(rows, options, machine)));
  }
  return Status::Ok();
}

Status run_interference_bench_command(const InterferenceBenchOptions& options, const std::string& json_path) {
  PPD_ASSIGN_OR_RETURN(const std::vector<InterferenceRow> rows, run_interference_bench(options, std::cerr));
  const std::string machine = kernels::describe_machine_and_blas();
  std::cout << format_interference_bench(rows, options, machine);
  if (!json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(json_path, interference_bench_json(rows, options, machine)));
  }
  return Status::Ok();
}

}  // namespace ppd::microbench
