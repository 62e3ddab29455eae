// `ppd bench engine`: engine throughput against the machine's own limits.
#include <iostream>
#include <memory>

#include "ppd/cli/bench_engine.h"
#include "ppd/cli/bench_interference.h"
#include "ppd/cli/bench_router.h"
#include "ppd/cli/bench_serve.h"
#include "ppd/cli/bench_transfer.h"
#include "ppd/cli/commands.h"
#include "ppd/common/file.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/kernels/kernels.h"

namespace ppd::cli {
namespace {

struct BenchEngineFlags {
  EngineBenchOptions options;
  std::string json_path;
};

Status run_bench_engine(const BenchEngineFlags& f) {
  PPD_ASSIGN_OR_RETURN(const kernels::KernelPath path, kernels::parse_kernel_path(f.options.kernels));
  std::cerr << "ppd bench engine: kernels " << kernels::kernel_path_name(path) << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<EngineBenchRow> rows, run_engine_bench(f.options, std::cerr));
  const std::string machine = kernels::describe_machine_and_blas();
  std::cout << format_engine_bench(rows, machine);
  if (!f.json_path.empty()) PPD_RETURN_IF_ERROR(write_file(f.json_path, engine_bench_json(rows, machine)));
  return Status::Ok();
}

}  // namespace

void register_bench_command(CLI::App& app, int* exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto flags = std::make_shared<BenchEngineFlags>();
  EngineBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand(
      "engine", "Prefill and decode tokens/s next to this machine's memory bandwidth and sgemm GFLOP/s");
  cmd->add_option("--models", o.models, "Model directories or presets (tiny, small, medium)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--threads", o.threads, "Thread counts to run, e.g. 1,2")
      ->delimiter(',')->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--prompt-tokens", o.prompt_tokens, "Prompt length of the prefill test")
      ->check(CLI::Range(16, 65536))->capture_default_str();
  cmd->add_option("--context-tokens", o.context_tokens, "Context length of every sequence in the decode tests")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--batches", o.batches, "Decode batch sizes")
      ->delimiter(',')->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--decode-steps", o.decode_steps, "Timed decode steps per batch size, in windows of 8 each paired with a bandwidth probe")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--repeats", o.repeats, "Timed prefills, each paired with an sgemm probe (medians are reported)")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--kernels", o.kernels, "Kernel path: auto, scalar or avx2")->capture_default_str();
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = run_bench_engine(*flags);
    if (!status.ok()) std::cerr << "ppd bench engine: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
  register_bench_interference(bench, exit_code);
  register_bench_transfer(bench, exit_code);
  register_bench_router(bench, exit_code);
  register_bench_serve(bench, exit_code);
  register_bench_compare(bench, exit_code);
}

}  // namespace ppd::cli
