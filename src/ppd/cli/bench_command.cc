// `ppd bench` and its micro-benchmark subcommands (engine, interference, transfer, router): flags,
// and the report printed and written; the measurements are in src/ppd/microbench.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/commands.h"
#include "ppd/cli/precision_flags.h"
#include "ppd/microbench/bench_commands.h"

namespace ppd::cli {
namespace {

struct BenchEngineFlags {
  microbench::EngineBenchOptions options;
  std::string json_path;
};

struct BenchRouterFlags {
  microbench::RouterBenchOptions options;
  std::string json_path;
};

struct BenchTransferFlags {
  microbench::TransferBenchOptions options;
  std::string json_path;
};

struct BenchInterferenceFlags {
  microbench::InterferenceBenchOptions options;
  std::string json_path;
};

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
    const Status status = microbench::run_router_bench_command(flags->options, flags->json_path);
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
    const Status status = microbench::run_transfer_bench_command(flags->options, flags->json_path);
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
    const Status status = microbench::run_interference_bench_command(flags->options, flags->json_path);
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
  add_precision_flags(cmd, {&o.dtype, &o.quantize, &o.kv_dtype});
  cmd->add_flag("!--no-probe", o.probe_limits,
                "Run the timed work back to back, without the machine-limit probes between (which leave the caches "
                "cold), as a serving node or another engine's benchmark runs; limits and ratios are then 0");
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = microbench::run_engine_bench_command(flags->options, flags->json_path);
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
