// `ppd bench engine`: prefill and decode throughput of the engine, each printed next to the
// machine limit it runs against, measured in the same run with the same thread count:
// memory read bandwidth for decode (the bytes streamed per step: weights in their stored
// format, and the context's KV), OpenBLAS sgemm
// GFLOP/s for prefill. Shared machines are noisy, so each timed piece of work (one prefill,
// or a window of 8 decode steps) is paired with a limit measured right before it, and the
// report gives medians over the pairs (the ratio is the median of per-pair ratios). Not
// thread-safe; runs one engine at a time.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::microbench {

struct EngineBenchOptions {
  std::vector<std::string> models = {"small", "medium"};  // directories or presets
  std::vector<int> threads = {1, 2};
  int prompt_tokens = 512;   // prefill test prompt length
  int context_tokens = 512;  // decode test context length per sequence
  std::vector<int> batches = {1, 8, 32};
  int decode_steps = 64;  // timed decode steps per batch size, in windows of 8
  int repeats = 5;        // timed prefills
  std::string kernels = "auto";
  std::string dtype = "auto";     // EngineOptions::dtype
  std::string quantize = "none";  // EngineOptions::quantize
  std::string kv_dtype = "auto";  // EngineOptions::kv_dtype
  // Pair each timed piece with its machine-limit probe. Off, the steps run back to back as on
  // a serving node (a probe leaves the caches cold for the steps after it), and the rows'
  // limits and ratios are 0: what `ppd sim calibrate` wants.
  bool probe_limits = true;
};

struct EngineBenchRow {
  std::string model;
  std::string weights;   // the weights' format in memory: "f32", "bf16", "q8_0", ...
  std::string kv_dtype;  // "F32", "F16" or "BF16"
  int threads = 0;
  std::string test;  // "prefill 512" or "decode b=8 ctx=512"
  double tokens_per_s = 0;
  double achieved = 0;      // GFLOP/s (prefill) or GB/s (decode)
  double limit = 0;         // same unit, measured on this machine
  double ratio = 0;         // achieved / limit
  std::string unit;         // "GFLOP/s" or "GB/s"
  bool has_target = false;  // the 70%-of-limit targets: prefill, decode at batch 1
};

// Runs every (model, threads) combination; progress goes to `log`.
Result<std::vector<EngineBenchRow>> run_engine_bench(const EngineBenchOptions& options, std::ostream& log);

// The report: machine line, then one table row per measurement with its ratio to the limit.
std::string format_engine_bench(const std::vector<EngineBenchRow>& rows, const std::string& machine);
std::string engine_bench_json(const std::vector<EngineBenchRow>& rows, const std::string& machine);

}  // namespace ppd::microbench
