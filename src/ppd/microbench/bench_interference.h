// `ppd bench interference`: how much a prefill in the same step slows a running decode batch
// (the PPD paper's interference measurement), on the CPU engine. For each batch size b it
// times a step of b decodes alone, with a full prefill of N new tokens (no cached prefix),
// and with an append-prefill of m new tokens on n tokens served from the prefix cache. Each
// mixed step follows a decode-only step of the same batch, so every ratio compares two steps
// taken moments apart on a noisy shared machine. Not thread-safe; runs one engine at a time.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::microbench {

struct InterferenceBenchOptions {
  std::string model = "small";                      // model directory or preset (tiny, small, medium)
  int threads = 1;                                  // engine compute threads; >= 1
  std::vector<int> batches = {1, 2, 4, 8, 16, 32};  // decode batch sizes; each >= 1
  int context_tokens = 512;                         // prompt of every decoding sequence; >= 1
  int prefill_tokens = 512;                         // N: the full prefill's prompt, nothing cached; >= 1
  int append_tokens = 64;                           // m: new tokens of the append-prefill; >= 1
  int append_cached_tokens = 1024;                  // n: its cached prefix; a positive multiple of 16 (block size)
  int repeats = 5;                                  // timed pairs per kind and batch size, after one warm-up; >= 1
  std::string kernels = "auto";                     // auto, scalar or avx2
};

// One kind of mixed step (decodes + a prefill) at one batch size; medians over the repeats.
struct MixedStepResult {
  int num_new_tokens = 0;     // prompt tokens the prefill computed in the step
  int num_cached_tokens = 0;  // prompt tokens it took from the prefix cache (the same every repeat)
  double step_ms = 0;
  double slowdown = 0;      // median of (mixed step / the decode-only step right before it)
  double tokens_per_s = 0;  // (decodes + new prefill tokens) / step_ms
};

struct InterferenceRow {
  int batch = 0;
  double decode_ms = 0;            // decode-only step, median over all baseline steps
  double decode_tokens_per_s = 0;  // batch / decode_ms
  MixedStepResult full_prefill;
  MixedStepResult append_prefill;
};

// Validates the options (INVALID_ARGUMENT naming the field), then measures every batch size
// on a fresh engine; progress goes to `log`. INTERNAL when a step did not hold the batch it
// was set up for (e.g. the append-prefill missed the prefix cache).
Result<std::vector<InterferenceRow>> run_interference_bench(const InterferenceBenchOptions& options, std::ostream& log);

// The report: machine line, the settings, then one table row per batch size.
std::string format_interference_bench(const std::vector<InterferenceRow>& rows, const InterferenceBenchOptions& options,
                                      const std::string& machine);
std::string interference_bench_json(const std::vector<InterferenceRow>& rows, const InterferenceBenchOptions& options,
                                    const std::string& machine);

// Adds `interference` (flags and --help) under the `bench` command; see commands.h for
// exit codes.

}  // namespace ppd::microbench
