#include "ppd/microbench/bench_interference.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/clock.h"
#include "ppd/common/file.h"
#include "ppd/engine/engine.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/microbench/bench_util.h"
#include "ppd/model/model_config.h"
#include "ppd/model/model_source.h"

namespace ppd::microbench {
namespace {

constexpr int kInterferenceBlockSize = 16;
constexpr int kWarmupSteps = 2;  // decode-only steps between setup and the first pair
// Prompt seeds, + sequence index or repeat: far enough apart that no two prompts share one.
constexpr uint32_t kPrefixSeed = 1;
constexpr uint32_t kDecodeSeed = 1u << 20;
constexpr uint32_t kFullPrefillSeed = 2u << 20;
constexpr uint32_t kAppendSeed = 3u << 20;

Status validate(const InterferenceBenchOptions& o) {
  if (o.threads < 1) return invalid_argument("threads: must be >= 1; got {}", o.threads);
  if (o.batches.empty()) return invalid_argument("batches: must name at least one batch size");
  for (int b : o.batches) {
    if (b < 1) return invalid_argument("batches: every batch size must be >= 1; got {}", b);
  }
  if (o.context_tokens < 1) return invalid_argument("context_tokens: must be >= 1; got {}", o.context_tokens);
  if (o.prefill_tokens < 1) return invalid_argument("prefill_tokens: must be >= 1; got {}", o.prefill_tokens);
  if (o.append_tokens < 1) return invalid_argument("append_tokens: must be >= 1; got {}", o.append_tokens);
  if (o.append_cached_tokens < kInterferenceBlockSize || o.append_cached_tokens % kInterferenceBlockSize != 0) {
    return invalid_argument("append_cached_tokens: must be a positive multiple of the block size {}; got {}",
                            kInterferenceBlockSize, o.append_cached_tokens);
  }
  if (o.repeats < 1) return invalid_argument("repeats: must be >= 1; got {}", o.repeats);
  return Status::Ok();
}

// Output tokens each decoding sequence needs to stay in the batch to the end: setup steps
// (at most one per sequence), warm-up, and four steps per repeat (two pairs), plus slack.
int decode_output_tokens(const InterferenceBenchOptions& o, int batch) {
  return batch + kWarmupSteps + 4 * (o.repeats + 1) + 8;
}

// Enough blocks that nothing is ever evicted: the cached prefix stays for every repeat.
int num_blocks_needed(const InterferenceBenchOptions& o, int batch) {
  auto blocks = [](int tokens) { return (tokens + kInterferenceBlockSize - 1) / kInterferenceBlockSize + 1; };
  return batch * blocks(o.context_tokens + decode_output_tokens(o, batch)) + blocks(o.append_cached_tokens) +
         (o.repeats + 1) * (blocks(o.prefill_tokens) + blocks(o.append_cached_tokens + o.append_tokens));
}

engine::EngineOptions engine_options(const InterferenceBenchOptions& o, int batch) {
  const int max_prefill = std::max({o.prefill_tokens, o.append_tokens, o.context_tokens});
  engine::EngineOptions e;
  e.num_threads = o.threads;
  e.kernels = o.kernels;
  e.block_size = kInterferenceBlockSize;
  e.num_kv_blocks = num_blocks_needed(o, batch);
  e.enable_prefix_cache = true;
  // Every decode and the whole prefill, as one chunk, fit one step.
  e.scheduler.max_prefill_tokens = max_prefill;
  e.scheduler.max_num_batched_tokens = batch + max_prefill;
  e.scheduler.max_num_running = batch + 1;
  return e;
}

// Runs `prefix` once so that its full blocks sit in the prefix cache.
Status cache_prefix(engine::Engine& engine, const std::vector<TokenId>& prefix) {
  PPD_RETURN_IF_ERROR(engine.add_request({.prompt = prefix, .params = fixed_output(1)}).status());
  while (engine.has_unfinished()) engine.step();
  const int num_blocks = static_cast<int>(prefix.size()) / engine.block_size();
  if (engine.num_cached_blocks() < num_blocks) {
    return internal_error("interference bench: {} blocks cached after the prefix run; expected {}",
                          engine.num_cached_blocks(), num_blocks);
  }
  return Status::Ok();
}

// Prefills `batch` sequences of context_tokens each, until all of them decode.
Status start_decode_batch(engine::Engine& engine, const InterferenceBenchOptions& o, int batch) {
  const int vocab = engine.config().vocab_size;
  for (int i = 0; i < batch; ++i) {
    PPD_RETURN_IF_ERROR(engine
                            .add_request({.prompt = bench_prompt(o.context_tokens, vocab, kDecodeSeed + i),
                                          .params = fixed_output(decode_output_tokens(o, batch))})
                            .status());
  }
  int num_started = 0;
  for (int steps = 0; num_started < batch; ++steps) {
    if (steps > batch + 2) {
      return internal_error("interference bench: the decode batch did not start in {} steps", steps);
    }
    for (const auto& out : engine.step().outputs) num_started += out.num_output_tokens == 1;
  }
  for (int i = 0; i < kWarmupSteps; ++i) engine.step();
  return Status::Ok();
}

struct TimedStep {
  double ms = 0;
  int num_cached_tokens = 0;  // of the step's prefill request; 0 without one
};

// Runs one step that must hold exactly `batch` decodes and `num_prefill_tokens` new prompt
// tokens; with `prefill`, that request must finish in the step (it asks for one token).
Result<TimedStep> timed_step(engine::Engine& engine, int batch, int num_prefill_tokens,
                             std::optional<RequestId> prefill) {
  const engine::StepResult r = engine.step();
  if (r.stats.num_decode_sequences != batch || r.stats.num_prefill_tokens != num_prefill_tokens) {
    return internal_error("interference bench: a step ran {} decodes and {} prefill tokens; expected {} and {}",
                          r.stats.num_decode_sequences, r.stats.num_prefill_tokens, batch, num_prefill_tokens);
  }
  TimedStep s{.ms = static_cast<double>(r.stats.step_time_ns) * 1e-6};
  if (!prefill) return s;
  auto it = std::find_if(r.outputs.begin(), r.outputs.end(), [&](const auto& out) { return out.id == *prefill; });
  if (it == r.outputs.end() || it->finish_reason == sched::FinishReason::kNone) {
    return internal_error("interference bench: the prefill request did not finish in its step");
  }
  s.num_cached_tokens = it->num_cached_tokens;
  return s;
}

// One decode-only step and the mixed step right after it.
struct StepPair {
  double decode_ms = 0;
  double mixed_ms = 0;
};

// Timed pairs of one mixed-step kind.
struct PairSamples {
  std::vector<double> decode_ms;
  std::vector<double> mixed_ms;
  std::vector<double> ratios;

  void add(const StepPair& p) {
    decode_ms.push_back(p.decode_ms);
    mixed_ms.push_back(p.mixed_ms);
    ratios.push_back(p.mixed_ms / p.decode_ms);
  }
};

// One decode-only step, then the same batch plus `prompt`, of which `num_cached_tokens`
// must come from the prefix cache.
Result<StepPair> measure_pair(engine::Engine& engine, int batch, std::vector<TokenId> prompt, int num_cached_tokens) {
  const int num_new_tokens = static_cast<int>(prompt.size()) - num_cached_tokens;
  PPD_ASSIGN_OR_RETURN(const TimedStep decode, timed_step(engine, batch, 0, std::nullopt));
  PPD_ASSIGN_OR_RETURN(const RequestId id,
                       engine.add_request({.prompt = std::move(prompt), .params = fixed_output(1)}));
  PPD_ASSIGN_OR_RETURN(const TimedStep mixed, timed_step(engine, batch, num_new_tokens, id));
  if (mixed.num_cached_tokens != num_cached_tokens) {
    return internal_error("interference bench: the prefill took {} tokens from the prefix cache; expected {}",
                          mixed.num_cached_tokens, num_cached_tokens);
  }
  return StepPair{.decode_ms = decode.ms, .mixed_ms = mixed.ms};
}

MixedStepResult summarize_pairs(const PairSamples& s, int batch, int num_new_tokens, int num_cached_tokens) {
  MixedStepResult m{.num_new_tokens = num_new_tokens, .num_cached_tokens = num_cached_tokens};
  m.step_ms = median(s.mixed_ms);
  m.slowdown = median(s.ratios);
  m.tokens_per_s = (batch + num_new_tokens) / m.step_ms * 1e3;
  return m;
}

InterferenceRow make_row(const InterferenceBenchOptions& o, int batch, const PairSamples& full,
                         const PairSamples& append) {
  std::vector<double> decode_ms = full.decode_ms;
  decode_ms.insert(decode_ms.end(), append.decode_ms.begin(), append.decode_ms.end());
  InterferenceRow row{.batch = batch, .decode_ms = median(decode_ms)};
  row.decode_tokens_per_s = batch / row.decode_ms * 1e3;
  row.full_prefill = summarize_pairs(full, batch, o.prefill_tokens, 0);
  row.append_prefill = summarize_pairs(append, batch, o.append_tokens, o.append_cached_tokens);
  return row;
}

// A fresh engine with the prefix cached and `batch` sequences decoding; then, per repeat,
// a pair with a full prefill and a pair with an append-prefill on the cached prefix.
Result<InterferenceRow> measure_batch(const InterferenceBenchOptions& o, const std::string& dir, int batch) {
  const SteadyClock clock;
  PPD_ASSIGN_OR_RETURN(auto engine, engine::Engine::create(dir, engine_options(o, batch), &clock));
  const int vocab = engine->config().vocab_size;
  const std::vector<TokenId> prefix = bench_prompt(o.append_cached_tokens, vocab, kPrefixSeed);
  PPD_RETURN_IF_ERROR(cache_prefix(*engine, prefix));
  PPD_RETURN_IF_ERROR(start_decode_batch(*engine, o, batch));
  PairSamples full, append;
  for (int r = 0; r <= o.repeats; ++r) {  // r == 0 warms up
    std::vector<TokenId> append_prompt = prefix;
    const std::vector<TokenId> suffix = bench_prompt(o.append_tokens, vocab, kAppendSeed + r);
    append_prompt.insert(append_prompt.end(), suffix.begin(), suffix.end());
    PPD_ASSIGN_OR_RETURN(const StepPair f,
                         measure_pair(*engine, batch, bench_prompt(o.prefill_tokens, vocab, kFullPrefillSeed + r), 0));
    PPD_ASSIGN_OR_RETURN(const StepPair a,
                         measure_pair(*engine, batch, std::move(append_prompt), o.append_cached_tokens));
    if (r == 0) continue;
    full.add(f);
    append.add(a);
  }
  return make_row(o, batch, full, append);
}

}  // namespace

Result<std::vector<InterferenceRow>> run_interference_bench(const InterferenceBenchOptions& options,
                                                            std::ostream& log) {
  PPD_RETURN_IF_ERROR(validate(options));
  log << fmt::format("[{}] resolving model (presets are synthesized on first use)\n", options.model) << std::flush;
  PPD_ASSIGN_OR_RETURN(const std::string dir, model::resolve_model_arg(options.model));
  std::vector<InterferenceRow> rows;
  for (int batch : options.batches) {
    PPD_ASSIGN_OR_RETURN(const InterferenceRow row, measure_batch(options, dir, batch));
    log << fmt::format(
               "[{} threads={}] b={}: decode {:.2f} ms; + full prefill {:.2f} ms ({:.1f}x); "
               "+ append-prefill {:.2f} ms ({:.1f}x)\n",
               options.model, options.threads, batch, row.decode_ms, row.full_prefill.step_ms,
               row.full_prefill.slowdown, row.append_prefill.step_ms, row.append_prefill.slowdown)
        << std::flush;
    rows.push_back(row);
  }
  return rows;
}

std::string format_interference_bench(const std::vector<InterferenceRow>& rows, const InterferenceBenchOptions& options,
                                      const std::string& machine) {
  const InterferenceBenchOptions& o = options;
  std::string out = fmt::format("machine: {}\n", machine);
  out += fmt::format("model {}, threads {}, {} tokens of context per decoding sequence, medians of {} repeats\n",
                     o.model, o.threads, o.context_tokens, o.repeats);
  out += "slowdown: mixed step / the decode-only step right before it; tokens/s: decodes + new prefill tokens\n\n";
  out += fmt::format("{:>5}  {:<19}   {:<29}   {}\n", "", "decode only",
                     fmt::format("+ full prefill {}", o.prefill_tokens),
                     fmt::format("+ append-prefill {} on {} cached", o.append_tokens, o.append_cached_tokens));
  out += fmt::format("{:>5}  {:>9} {:>9}   {:>9} {:>9} {:>9}   {:>9} {:>9} {:>9} {:>7}\n", "batch", "step ms",
                     "tokens/s", "step ms", "slowdown", "tokens/s", "step ms", "slowdown", "tokens/s", "cached");
  for (const InterferenceRow& r : rows) {
    const MixedStepResult& f = r.full_prefill;
    const MixedStepResult& a = r.append_prefill;
    out += fmt::format("{:>5}  {:>9.2f} {:>9.1f}   {:>9.2f} {:>8.1f}x {:>9.1f}   {:>9.2f} {:>8.1f}x {:>9.1f} {:>7}\n",
                       r.batch, r.decode_ms, r.decode_tokens_per_s, f.step_ms, f.slowdown, f.tokens_per_s, a.step_ms,
                       a.slowdown, a.tokens_per_s, a.num_cached_tokens);
  }
  return out;
}

std::string interference_bench_json(const std::vector<InterferenceRow>& rows, const InterferenceBenchOptions& options,
                                    const std::string& machine) {
  auto mixed = [](const MixedStepResult& m) {
    return nlohmann::json{{"new_tokens", m.num_new_tokens},
                          {"cached_tokens", m.num_cached_tokens},
                          {"step_ms", m.step_ms},
                          {"slowdown", m.slowdown},
                          {"tokens_per_s", m.tokens_per_s}};
  };
  nlohmann::json j;
  j["machine"] = machine;
  j["options"] = {{"model", options.model},
                  {"threads", options.threads},
                  {"context_tokens", options.context_tokens},
                  {"prefill_tokens", options.prefill_tokens},
                  {"append_tokens", options.append_tokens},
                  {"append_cached_tokens", options.append_cached_tokens},
                  {"repeats", options.repeats},
                  {"kernels", options.kernels}};
  j["rows"] = nlohmann::json::array();
  for (const InterferenceRow& r : rows) {
    j["rows"].push_back({{"batch", r.batch},
                         {"decode_ms", r.decode_ms},
                         {"decode_tokens_per_s", r.decode_tokens_per_s},
                         {"full_prefill", mixed(r.full_prefill)},
                         {"append_prefill", mixed(r.append_prefill)}});
  }
  return j.dump(2) + "\n";
}

}  // namespace ppd::microbench
