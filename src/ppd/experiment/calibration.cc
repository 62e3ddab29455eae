// Calibration (`ppd sim calibrate`): measures this machine's CPU engine on a grid of batch shapes and fits
// the simulator's step profile to them. At each context length: steady decode-only steps and a
// lone prefill (the engine benchmark), and decode + full prefill and decode + append-prefill
// steps (the interference benchmark). The interference benchmark's own decode-only steps are
// not used: each follows a large mixed step and runs slower than steady decoding. With
// --from-node-log it measures nothing and fits the steps real nodes logged instead.
#include "ppd/experiment/calibration.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/experiment/node_step_log.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/microbench/bench_engine.h"
#include "ppd/microbench/bench_interference.h"
#include "ppd/sim/profile_cost_model.h"

namespace ppd::experiment {
namespace {

constexpr int kDecodeSteps = 32;  // steady decode steps timed per batch size

// The two mixed steps of one interference row. The decoding sequences' context grows during
// the row; the midpoint of its timed steps is used.
void add_mixed_samples(const microbench::InterferenceBenchOptions& o, const microbench::InterferenceRow& row,
                       std::vector<sim::MeasuredStep>* out) {
  const int64_t context = o.context_tokens + row.batch + 2 + 2 * (o.repeats + 1);
  const sim::StepShape decode{.decode_context_tokens = std::vector<int64_t>(static_cast<size_t>(row.batch), context)};
  sim::StepShape full = decode, append = decode;
  full.prefill_chunks = {{.num_tokens = o.prefill_tokens, .num_context_tokens = 0, .samples = true}};
  append.prefill_chunks = {
      {.num_tokens = o.append_tokens, .num_context_tokens = o.append_cached_tokens, .samples = true}};
  out->push_back({.shape = full, .step_us = row.full_prefill.step_ms * 1e3});
  out->push_back({.shape = append, .step_us = row.append_prefill.step_ms * 1e3});
}

// The engine benchmark's rows at one context: a lone prefill of `context` tokens, and steady
// decode steps of each batch (contexts at the midpoint of the timed steps).
Status add_engine_samples(const microbench::EngineBenchRow& row, int context, std::vector<sim::MeasuredStep>* out) {
  int n = 0, batch = 0, ctx = 0;
  if (std::sscanf(row.test.c_str(), "prefill %d", &n) == 1) {
    out->push_back({.shape = {.prefill_chunks = {{.num_tokens = n, .num_context_tokens = 0, .samples = true}}},
                    .step_us = n / row.tokens_per_s * 1e6});
    return Status::Ok();
  }
  if (std::sscanf(row.test.c_str(), "decode b=%d ctx=%d", &batch, &ctx) != 2 || ctx != context) {
    return internal_error("calibrate: unexpected engine benchmark row \"{}\"", row.test);
  }
  const int64_t mid = ctx + 2 + batch / 2 + kDecodeSteps / 2;
  out->push_back({.shape = {.decode_context_tokens = std::vector<int64_t>(static_cast<size_t>(batch), mid)},
                  .step_us = batch / row.tokens_per_s * 1e6});
  return Status::Ok();
}

// The profile's name and fitted formula.
void print_formula(const sim::StepProfile& profile, std::ostream& out) {
  const auto& c = profile.coefficients_us;
  const std::string tokens = profile.token_floor > 0 ? fmt::format("max(tokens, {})", profile.token_floor) : "tokens";
  out << fmt::format(
      "profile: {}\nstep_us = {:.1f} + {:.2f}·{} + {:.1f}·sampled_rows + "
      "{:.1f}·prefill_pairs/1e6 + {:.1f}·decode_context/1e3\n",
      profile.name, c[0], c[1], tokens, c[2], c[3], c[4]);
}

// The fitted formula, then each sample's measured and fitted time.
void print_fit(const sim::StepProfile& profile, const std::string& out_path, std::ostream& out) {
  const sim::ProfileCostModel fitted(profile);
  print_formula(profile, out);
  out << fmt::format("{:<36} {:>11} {:>11} {:>7}\n", "step", "measured ms", "fitted ms", "error");
  for (const sim::MeasuredStep& s : profile.samples) {
    const double fit_ms = static_cast<double>(fitted.step_time_ns(s.shape)) * 1e-6;
    out << fmt::format("{:<36} {:>11.2f} {:>11.2f} {:>+6.1f}%\n", sim::describe_step(s.shape), s.step_us * 1e-3, fit_ms,
                       100 * (fit_ms / (s.step_us * 1e-3) - 1));
  }
  out << fmt::format("mean |error| {:.1f}% over {} steps; written to {}\n", 100 * profile.mean_abs_error,
                     profile.samples.size(), out_path);
}

// One profile fitted to the samples stored in several (calibrations made at different times).
Status run_refit(const CalibrationOptions& f, std::ostream& out) {
  std::vector<sim::MeasuredStep> samples;
  std::string model;
  std::vector<std::string> names;
  for (const std::string& path : f.refit) {
    PPD_ASSIGN_OR_RETURN(const sim::StepProfile p, sim::read_profile(path));
    if (p.samples.empty()) return invalid_argument("--refit {}: the profile keeps no samples to fit", path);
    if (!model.empty() && p.model != model) {
      return invalid_argument("--refit {}: measured on model \"{}\", the others on \"{}\"", path, p.model, model);
    }
    model = p.model;
    names.push_back(p.name);
    samples.insert(samples.end(), p.samples.begin(), p.samples.end());
  }
  // The result keeps what was measured, on which machine or card: one profile refitted keeps
  // its name; several are named after the first (and how many others) and the steps fitted.
  std::string name = names.front();
  if (names.size() > 1) {
    const bool same = std::all_of(names.begin(), names.end(), [&](const std::string& n) { return n == names.front(); });
    name = fmt::format("{}{}; {} steps of {} calibrations", names.front(),
                       same ? "" : fmt::format(" and {} more", names.size() - 1), samples.size(), names.size());
  }
  PPD_ASSIGN_OR_RETURN(const sim::StepProfile profile, sim::fit_profile(name, model, samples));
  print_fit(profile, f.out_path, out);
  return write_file(f.out_path, sim::to_json(profile).dump(2) + "\n");
}

Status run_calibrate(const CalibrationOptions& f, std::ostream& out) {
  std::vector<sim::MeasuredStep> samples;
  for (const int context : f.contexts) {
    const microbench::EngineBenchOptions e{.models = {f.model},
                                           .threads = {f.threads},
                                           .prompt_tokens = context,
                                           .context_tokens = context,
                                           .batches = f.batches,
                                           .decode_steps = kDecodeSteps,
                                           .repeats = f.repeats,
                                           .probe_limits = false};
    PPD_ASSIGN_OR_RETURN(const std::vector<microbench::EngineBenchRow> engine_rows,
                         microbench::run_engine_bench(e, std::cerr));
    for (const microbench::EngineBenchRow& row : engine_rows)
      PPD_RETURN_IF_ERROR(add_engine_samples(row, context, &samples));
    microbench::InterferenceBenchOptions o{.model = f.model,
                                           .threads = f.threads,
                                           .batches = f.batches,
                                           .context_tokens = context,
                                           .prefill_tokens = context,
                                           .append_tokens = std::max(16, context / 4),
                                           .append_cached_tokens = std::max(16, context / 16 * 16),
                                           .repeats = f.repeats};
    PPD_ASSIGN_OR_RETURN(const std::vector<microbench::InterferenceRow> rows,
                         microbench::run_interference_bench(o, std::cerr));
    for (const microbench::InterferenceRow& row : rows) add_mixed_samples(o, row, &samples);
  }
  const std::string name = fmt::format("cpu {}, {} thread{}, {}", f.model, f.threads, f.threads == 1 ? "" : "s",
                                       kernels::describe_machine_and_blas());
  PPD_ASSIGN_OR_RETURN(const sim::StepProfile profile, sim::fit_profile(name, f.model, samples));
  print_fit(profile, f.out_path, out);
  return write_file(f.out_path, sim::to_json(profile).dump(2) + "\n");
}

// The profile fitted to the decode-only and lone-prefill steps the nodes logged, then checked
// against each log.
Status run_calibrate_from_logs(const CalibrationOptions& f, std::ostream& out) {
  std::vector<std::vector<LoggedStep>> logs;
  std::vector<sim::MeasuredStep> samples;
  for (const std::string& path : f.node_logs) {
    PPD_ASSIGN_OR_RETURN(std::vector<LoggedStep> steps, read_node_step_log(path));
    for (sim::MeasuredStep& s : shaped_steps(steps)) samples.push_back(std::move(s));
    logs.push_back(std::move(steps));
  }
  const std::string name = fmt::format("cpu {}, fitted to {} steps of {} node log{}", f.model, samples.size(),
                                       f.node_logs.size(), f.node_logs.size() == 1 ? "" : "s");
  PPD_ASSIGN_OR_RETURN(sim::StepProfile profile, sim::fit_profile(name, f.model, samples));
  profile.samples.clear();  // tens of thousands of steps: the logs keep them
  print_formula(profile, out);
  const sim::ProfileCostModel fitted(profile);
  for (size_t i = 0; i < logs.size(); ++i) {
    // Within the fit's own data a row outside the tolerance only says the linear form misses
    // something there; the table is the point, so such a status is not an error here.
    (void)check_profile_against_steps(fitted, f.node_logs[i], logs[i], 0.15, out);
  }
  out << fmt::format("mean |error| {:.1f}% over {} steps; written to {}\n", 100 * profile.mean_abs_error,
                     samples.size(), f.out_path);
  return write_file(f.out_path, sim::to_json(profile).dump(2) + "\n");
}

}  // namespace

Status run_calibration(const CalibrationOptions& options, std::ostream& out) {
  if (!options.refit.empty()) return run_refit(options, out);
  if (!options.node_logs.empty()) return run_calibrate_from_logs(options, out);
  return run_calibrate(options, out);
}

}  // namespace ppd::experiment
