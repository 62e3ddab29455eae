#include "ppd/microbench/bench_engine.h"

#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/clock.h"
#include "ppd/common/thread_pool.h"
#include "ppd/engine/engine.h"
#include "ppd/kernels/kernels.h"
#include "ppd/kernels/roofline.h"
#include "ppd/microbench/bench_util.h"
#include "ppd/model/model_config.h"
#include "ppd/model/model_source.h"

namespace ppd::microbench {
namespace {

constexpr int kDecodeWindow = 8;
constexpr size_t kReadProbeBytes = size_t{512} << 20;

// One timed piece of work and the limit measured right before it.
struct PairedSample {
  double tokens_per_s;
  double achieved;
  double limit;
};

// Medians over the samples, the ratio being the median of the per-sample ratios.
EngineBenchRow summarize_row(const std::vector<PairedSample>& samples, EngineBenchRow row) {
  std::vector<double> tps, achieved, limit, ratio;
  for (const PairedSample& s : samples) {
    tps.push_back(s.tokens_per_s);
    achieved.push_back(s.achieved);
    limit.push_back(s.limit);
    ratio.push_back(s.limit > 0 ? s.achieved / s.limit : 0);
  }
  row.tokens_per_s = median(tps);
  row.achieved = median(achieved);
  row.limit = median(limit);
  row.ratio = median(ratio);
  return row;
}

// "f32", "f16" or "bf16": the --kv-dtype spelling.
std::string kv_dtype_flag(Dtype dtype) { return std::string(weight_format_name(weight_format_of(dtype))); }

struct ModelCosts {
  int64_t matmul_params = 0;  // per token, all layers: q/k/v/o + gate/up/down
  int64_t lm_head_params = 0;
  int64_t attention_flops_per_key = 0;  // QK + PV, all layers and heads
};

ModelCosts costs_of(const model::ModelConfig& c) {
  const int64_t q_dim = int64_t{c.num_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.num_kv_heads} * c.head_dim;
  const int64_t per_layer =
      c.hidden_size * (q_dim + 2 * kv_dim) + q_dim * c.hidden_size + 3 * int64_t{c.hidden_size} * c.intermediate_size;
  ModelCosts m;
  m.matmul_params = per_layer * c.num_layers;
  m.lm_head_params = int64_t{c.vocab_size} * c.hidden_size;
  m.attention_flops_per_key = int64_t{4} * q_dim * c.num_layers;
  return m;
}

struct BenchContext {
  const EngineBenchOptions& options;
  kernels::ReadBandwidthProbe* read_probe;
  kernels::SgemmProbe* sgemm_probe;
  std::string dir;
  std::string model_name;
  model::ModelConfig config;
  ModelCosts costs;
  int threads = 1;
  SteadyClock clock;
  std::ostream& log;
};

Result<std::unique_ptr<engine::Engine>> bench_engine(const BenchContext& ctx, int max_tokens_per_step, int num_blocks) {
  engine::EngineOptions o;
  o.num_threads = ctx.threads;
  o.kernels = ctx.options.kernels;
  o.dtype = ctx.options.dtype;
  o.quantize = ctx.options.quantize;
  o.kv_dtype = ctx.options.kv_dtype;
  o.enable_prefix_cache = false;  // every prefill computes its whole prompt
  o.num_kv_blocks = num_blocks;
  o.scheduler.max_num_batched_tokens = max_tokens_per_step;
  o.scheduler.max_prefill_tokens = max_tokens_per_step;
  return engine::Engine::create(ctx.dir, o, &ctx.clock);
}

Result<EngineBenchRow> bench_prefill(const BenchContext& ctx) {
  const int n = ctx.options.prompt_tokens;
  PPD_ASSIGN_OR_RETURN(auto engine, bench_engine(ctx, n, n / 16 + 4));
  const double flops = 2.0 * static_cast<double>(ctx.costs.matmul_params) * n +
                       static_cast<double>(ctx.costs.attention_flops_per_key) * n * (n + 1) / 2.0 +
                       2.0 * static_cast<double>(ctx.costs.lm_head_params);
  std::vector<PairedSample> samples;
  for (int r = 0; r <= ctx.options.repeats; ++r) {  // r == 0 warms up
    const double limit = ctx.options.probe_limits ? ctx.sgemm_probe->measure_gflops(2) : 0;
    PPD_RETURN_IF_ERROR(
        engine->add_request({.prompt = bench_prompt(n, ctx.config.vocab_size, r), .params = fixed_output(1)}).status());
    const engine::StepResult step = engine->step();
    if (step.outputs.size() != 1) return internal_error("prefill bench: the prompt did not finish in one step");
    const double t = static_cast<double>(step.stats.step_time_ns) * 1e-9;
    if (r > 0) samples.push_back({n / t, flops / t * 1e-9, limit});
  }
  return summarize_row(samples, {.model = ctx.model_name,
                                 .weights = std::string(weight_format_name(engine->weight_format())),
                                 .kv_dtype = kv_dtype_flag(engine->kv_dtype()),
                                 .threads = ctx.threads,
                                 .test = fmt::format("prefill {}", n),
                                 .unit = "GFLOP/s",
                                 .has_target = true});
}

Result<EngineBenchRow> bench_decode(const BenchContext& ctx, int batch) {
  const int ctx_len = ctx.options.context_tokens;
  const int steps = ctx.options.decode_steps;
  const int warmup = 2;
  // Requests prefilled early decode while the rest prefill, and their decodes take step budget
  // from the prefills, so the batch can take up to about twice `batch` steps to start: leave
  // room to go on.
  const int max_tokens = steps + warmup + 2 * batch + 8;
  const int per_seq_blocks = (ctx_len + max_tokens) / 16 + 2;
  PPD_ASSIGN_OR_RETURN(auto engine, bench_engine(ctx, std::max(ctx_len, batch), batch * per_seq_blocks));
  for (int b = 0; b < batch; ++b) {
    PPD_RETURN_IF_ERROR(engine
                            ->add_request({.prompt = bench_prompt(ctx_len, ctx.config.vocab_size, 100 + b),
                                           .params = fixed_output(max_tokens)})
                            .status());
  }
  int num_started = 0;
  while (num_started < batch) {
    for (const auto& out : engine->step().outputs) {
      if (out.num_output_tokens == 1) ++num_started;
    }
  }
  for (int i = 0; i < warmup; ++i) engine->step();
  // The bytes a step reads: the weights in their stored format, and every context token's KV.
  const auto weight_bytes = static_cast<double>(engine->streamed_weight_bytes());
  const double kv_bytes_per_token = static_cast<double>(engine->block_bytes()) / engine->block_size();
  // Windows of kDecodeWindow steps, each right after its own bandwidth probe (when probing).
  std::vector<PairedSample> samples;
  for (int done = 0; done < steps; done += kDecodeWindow) {
    const double limit = ctx.options.probe_limits ? ctx.read_probe->measure_gbs(2) : 0;
    int64_t window_ns = 0;
    double window_bytes = 0;
    const int n = std::min(kDecodeWindow, steps - done);
    for (int i = 0; i < n; ++i) {
      const engine::StepResult r = engine->step();
      if (r.stats.num_decode_sequences != batch || r.stats.num_prefill_tokens != 0) {
        return internal_error("decode bench: a step ran {} decodes and {} prefill tokens", r.stats.num_decode_sequences,
                              r.stats.num_prefill_tokens);
      }
      window_ns += r.stats.step_time_ns;
      window_bytes += weight_bytes + static_cast<double>(r.stats.num_context_tokens) * kv_bytes_per_token;
    }
    const double seconds = static_cast<double>(window_ns) * 1e-9;
    samples.push_back({batch * n / seconds, window_bytes / seconds * 1e-9, limit});
  }
  return summarize_row(samples, {.model = ctx.model_name,
                                 .weights = std::string(weight_format_name(engine->weight_format())),
                                 .kv_dtype = kv_dtype_flag(engine->kv_dtype()),
                                 .threads = ctx.threads,
                                 .test = fmt::format("decode b={} ctx={}", batch, ctx_len),
                                 .unit = "GB/s",
                                 .has_target = batch == 1});
}

// One progress line: the row's speed, and its ratio to the machine limit when probed.
void log_row(BenchContext& ctx, const EngineBenchRow& row, const char* limit_name) {
  std::string line =
      fmt::format("[{} threads={}] {}: {:.0f} tokens/s", ctx.model_name, ctx.threads, row.test, row.tokens_per_s);
  if (row.limit > 0) line += fmt::format(", {:.2f} of {}", row.ratio, limit_name);
  ctx.log << line << "\n" << std::flush;
}

Status bench_model_threads(BenchContext& ctx, std::vector<EngineBenchRow>* rows) {
  PPD_ASSIGN_OR_RETURN(EngineBenchRow prefill, bench_prefill(ctx));
  log_row(ctx, prefill, "sgemm");
  rows->push_back(prefill);
  for (int batch : ctx.options.batches) {
    PPD_ASSIGN_OR_RETURN(EngineBenchRow decode, bench_decode(ctx, batch));
    log_row(ctx, decode, "read bandwidth");
    rows->push_back(decode);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<EngineBenchRow>> run_engine_bench(const EngineBenchOptions& options, std::ostream& log) {
  std::vector<EngineBenchRow> rows;
  for (const std::string& name : options.models) {
    log << fmt::format("[{}] resolving model (presets are synthesized on first use)\n", name) << std::flush;
    PPD_ASSIGN_OR_RETURN(const std::string dir, model::resolve_model_arg(name));
    PPD_ASSIGN_OR_RETURN(const model::ModelConfig config, model::load_model_config(dir));
    for (int threads : options.threads) {
      kernels::set_blas_threads(1);  // as the engine runs it
      ThreadPool probe_pool(threads);
      kernels::ReadBandwidthProbe read_probe(&probe_pool, kReadProbeBytes);
      kernels::SgemmProbe sgemm_probe(&probe_pool, options.prompt_tokens, 2 * config.intermediate_size,
                                      config.hidden_size);
      BenchContext ctx{.options = options,
                       .read_probe = &read_probe,
                       .sgemm_probe = &sgemm_probe,
                       .dir = dir,
                       .model_name = name,
                       .config = config,
                       .costs = costs_of(config),
                       .threads = threads,
                       .clock = {},
                       .log = log};
      PPD_RETURN_IF_ERROR(bench_model_threads(ctx, &rows));
    }
  }
  return rows;
}

std::string format_engine_bench(const std::vector<EngineBenchRow>& rows, const std::string& machine) {
  std::string out = fmt::format("machine: {}\n", machine);
  out += fmt::format("{:<12} {:<10} {:>7}  {:<22} {:>10} {:>18} {:>18} {:>8}  {}\n", "model", "weights/kv", "threads",
                     "test", "tokens/s", "achieved", "machine limit", "ratio", "target");
  for (const EngineBenchRow& r : rows) {
    const double ratio = r.ratio;
    // Without a probed limit (--no-probe) there is nothing to hold the row against.
    const std::string target = r.has_target && r.limit > 0 ? (ratio >= 0.7 ? ">= 0.70 met" : ">= 0.70 MISSED") : "-";
    out += fmt::format("{:<12} {:<10} {:>7}  {:<22} {:>10.1f} {:>10.1f} {:<7} {:>10.1f} {:<7} {:>8.2f}  {}\n", r.model,
                       r.weights + "/" + r.kv_dtype, r.threads, r.test, r.tokens_per_s, r.achieved, r.unit, r.limit,
                       r.unit, ratio, target);
  }
  return out;
}

std::string engine_bench_json(const std::vector<EngineBenchRow>& rows, const std::string& machine) {
  nlohmann::json j;
  j["machine"] = machine;
  j["rows"] = nlohmann::json::array();
  for (const EngineBenchRow& r : rows) {
    j["rows"].push_back({{"model", r.model},
                         {"weights", r.weights},
                         {"kv_dtype", r.kv_dtype},
                         {"threads", r.threads},
                         {"test", r.test},
                         {"tokens_per_s", r.tokens_per_s},
                         {"achieved", r.achieved},
                         {"limit", r.limit},
                         {"unit", r.unit},
                         {"ratio", r.ratio}});
  }
  return j.dump(2) + "\n";
}

}  // namespace ppd::microbench
