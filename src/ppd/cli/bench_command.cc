// `ppd bench` and its micro-benchmark subcommands (engine, interference, transfer, router): flags,
// and the report printed and written; the measurements are in src/ppd/microbench.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/commands.h"
#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/kernels/kernels.h"
#include "ppd/microbench/bench_engine.h"
#include "ppd/microbench/bench_interference.h"
#include "ppd/microbench/bench_router.h"
#include "ppd/microbench/bench_transfer.h"

namespace ppd::cli {
namespace {

using microbench::EngineBenchOptions;
using microbench::EngineBenchRow;
using microbench::InterferenceBenchOptions;
using microbench::InterferenceRow;
using microbench::RouterBenchOptions;
using microbench::TransferBenchOptions;
using microbench::TransferBenchRow;

struct BenchEngineFlags {
  microbench::EngineBenchOptions options;
  std::string json_path;
};

Status run_bench_engine(const BenchEngineFlags& f) {
  PPD_ASSIGN_OR_RETURN(const kernels::KernelPath path, kernels::parse_kernel_path(f.options.kernels));
  std::cerr << "ppd bench engine: kernels " << kernels::kernel_path_name(path) << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<microbench::EngineBenchRow> rows,
                       microbench::run_engine_bench(f.options, std::cerr));
  const std::string machine = kernels::describe_machine_and_blas();
  std::cout << microbench::format_engine_bench(rows, machine);
  if (!f.json_path.empty()) PPD_RETURN_IF_ERROR(write_file(f.json_path, microbench::engine_bench_json(rows, machine)));
  return Status::Ok();
}

struct BenchRouterFlags {
  microbench::RouterBenchOptions options;
  std::string json_path;
};

// The machine, and how busy it was at the start: other work on it widens the tails.
std::string machine_text() {
  const Result<std::string> loadavg = read_file("/proc/loadavg");
  if (!loadavg.ok()) return describe_machine();
  std::string_view fields = *loadavg;
  size_t end = 0;
  for (int i = 0; i < 3 && end != std::string_view::npos; ++i) end = fields.find(' ', end + (i > 0));
  return fmt::format("{}; load average {} at start", describe_machine(), fields.substr(0, end));
}

Status run_bench_router(const BenchRouterFlags& f) {
  const std::string machine = machine_text();
  std::cerr << "ppd bench router: " << machine << "\n";
  PPD_ASSIGN_OR_RETURN(const microbench::DecisionReport decision, microbench::run_decision_bench(f.options, std::cerr));
  PPD_ASSIGN_OR_RETURN(const microbench::ServingReport serving, microbench::run_serving_bench(f.options, std::cerr));
  std::cout << microbench::format_router_bench(decision, serving, f.options, machine);
  if (!f.json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(f.json_path, microbench::router_bench_json(decision, serving, f.options, machine)));
  }
  return Status::Ok();
}

struct BenchTransferFlags {
  microbench::TransferBenchOptions options;
  std::string json_path;
};

Status run_bench_transfer(const BenchTransferFlags& f) {
  const std::string machine = describe_machine();
  std::cerr << "ppd bench transfer: " << machine << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<microbench::TransferBenchRow> rows,
                       microbench::run_transfer_bench(f.options, std::cerr));
  std::cout << microbench::format_transfer_bench(rows, f.options, machine);
  if (!f.json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(f.json_path, microbench::transfer_bench_json(rows, f.options, machine)));
  }
  return Status::Ok();
}

struct BenchInterferenceFlags {
  microbench::InterferenceBenchOptions options;
  std::string json_path;
};

Status run_bench_interference(const BenchInterferenceFlags& f) {
  PPD_ASSIGN_OR_RETURN(const std::vector<microbench::InterferenceRow> rows,
                       microbench::run_interference_bench(f.options, std::cerr));
  const std::string machine = kernels::describe_machine_and_blas();
  std::cout << microbench::format_interference_bench(rows, f.options, machine);
  if (!f.json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(f.json_path, microbench::interference_bench_json(rows, f.options, machine)));
  }
  return Status::Ok();
}

void register_bench_router(CLI::App* bench, int* exit_code) {
  auto flags = std::make_shared<BenchRouterFlags>();
  microbench::RouterBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand(
      "router",
      "The router's cost: policy decision time against the prefix lookup, the latency it adds to a "
      "request, and its memory and threads under concurrent streams");
  cmd->add_option("--model", o.model, "Model directory or preset the node and router children serve")
      ->capture_default_str();
  cmd->add_option("--decisions", o.num_decisions, "Decision time: turn-2 requests routed by each policy")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  cmd->add_option("--requests", o.num_requests, "Added latency: A/B pairs (direct to the node, via the router)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--streams", o.num_streams, "Concurrent SSE streams through the router")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the conversations, requests and prompts")->capture_default_str();
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = run_bench_router(*flags);
    if (!status.ok()) std::cerr << "ppd bench router: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

void register_bench_transfer(CLI::App* bench, int* exit_code) {
  auto flags = std::make_shared<BenchTransferFlags>();
  microbench::TransferBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand(
      "transfer",
      "KV transfer throughput on loopback: TCP pulls against a plain socket copy, and the emulated link "
      "against its configured bandwidth");
  cmd->add_option("--sizes-mib", o.sizes_mib, "Bytes per pull, in MiB (each timed sample repeats small pulls)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--block-bytes", o.block_bytes, "Bytes per KV block; a pull moves size / block-bytes blocks")
      ->check(CLI::Range(int64_t{4096}, int64_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--repeats", o.repeats,
                  "Timed samples per size (medians are reported; TCP pulls and socket "
                  "copies alternate)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--link-bytes-per-s", o.link_bytes_per_s,
                  "Bandwidths of the emulated links to measure, bytes/s (e.g. 2e9,200e6); 0 skips the link test")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--link-inner", o.link_inner, "Transport under the emulated link: in-process or tcp")
      ->check(CLI::IsMember({"in-process", "tcp"}))
      ->capture_default_str();
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = run_bench_transfer(*flags);
    if (!status.ok()) std::cerr << "ppd bench transfer: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

void register_bench_interference(CLI::App* bench, int* exit_code) {
  auto flags = std::make_shared<BenchInterferenceFlags>();
  microbench::InterferenceBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand("interference",
                                        "Decode step time with a full prefill or an append-prefill in the same "
                                        "step, against decode alone");
  cmd->add_option("--model", o.model, "Model directory or preset (tiny, small, medium)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Engine compute threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--batches", o.batches, "Decode batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--context-tokens", o.context_tokens, "Context (prompt) length of every decoding sequence")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--prefill-tokens", o.prefill_tokens, "N: prompt of the full prefill, nothing cached")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--append-tokens", o.append_tokens, "m: new tokens of the append-prefill")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--append-cached-tokens", o.append_cached_tokens,
                  "n: the append-prefill's prefix, served from the prefix cache (a multiple of 16)")
      ->check(CLI::Range(16, 65536))
      ->capture_default_str();
  cmd->add_option("--repeats", o.repeats,
                  "Timed (decode-only, mixed) step pairs per kind and batch size; medians are reported")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--kernels", o.kernels, "Kernel path: auto, scalar or avx2")->capture_default_str();
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = run_bench_interference(*flags);
    if (!status.ok()) std::cerr << "ppd bench interference: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace

void register_bench_command(CLI::App& app, int* exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto flags = std::make_shared<BenchEngineFlags>();
  microbench::EngineBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand(
      "engine", "Prefill and decode tokens/s next to this machine's memory bandwidth and sgemm GFLOP/s");
  cmd->add_option("--models", o.models, "Model directories or presets (tiny, small, medium)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Thread counts to run, e.g. 1,2")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--prompt-tokens", o.prompt_tokens, "Prompt length of the prefill test")
      ->check(CLI::Range(16, 65536))
      ->capture_default_str();
  cmd->add_option("--context-tokens", o.context_tokens, "Context length of every sequence in the decode tests")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--batches", o.batches, "Decode batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--decode-steps", o.decode_steps,
                  "Timed decode steps per batch size, in windows of 8 each paired with a bandwidth probe")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--repeats", o.repeats, "Timed prefills, each paired with an sgemm probe (medians are reported)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
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
