// `ppd sim`: the cluster simulator's command family, and `ppd sim interference`, the step-cost
// model's answer to the PPD paper's interference question on a GPU roofline or a measured
// profile (scripts/gpu_step_profile.py).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "ppd/cli/commands.h"
#include "ppd/cli/sim_commands.h"
#include "ppd/sim/profile_cost_model.h"
#include "ppd/sim/roofline_cost_model.h"

namespace ppd::cli {
namespace {

struct SimInterferenceFlags {
  std::string hardware = "h100-80gb";
  std::string profile;  // a measured step profile in place of the roofline
  std::string model = "llama-3.1-8b";
  int tensor_parallel = 1;
  int decode_batch = 200;
  int64_t decode_context_tokens = 1024;
  int64_t prefill_tokens = 1024;
  int64_t cached_tokens = 2048;
};

double step_ms(const sim::StepCostModel& cost, const sim::StepShape& decode, int64_t tokens, int64_t cached) {
  sim::StepShape s = decode;
  if (tokens > 0) s.prefill_chunks = {{.num_tokens = tokens, .num_context_tokens = cached, .samples = true}};
  return static_cast<double>(cost.step_time_ns(s)) / 1e6;
}

// The cost model the flags name, and the heading that says what it is.
Result<std::pair<std::unique_ptr<sim::StepCostModel>, std::string>> interference_cost(const SimInterferenceFlags& f) {
  if (!f.profile.empty()) {
    Result<sim::StepProfile> p = sim::read_profile(f.profile);
    if (!p.ok()) return invalid_argument("--profile: {}", p.status().message());
    std::string heading = fmt::format("{} (measured profile, model {})", p->name, p->model);
    return std::pair{std::unique_ptr<sim::StepCostModel>(std::make_unique<sim::ProfileCostModel>(std::move(*p))),
                     std::move(heading)};
  }
  PPD_ASSIGN_OR_RETURN(const sim::HardwareSpec hardware, sim::hardware_preset(f.hardware));
  PPD_ASSIGN_OR_RETURN(sim::ModelShape shape, sim::model_shape_preset(f.model));
  PPD_ASSIGN_OR_RETURN(shape, sim::with_tensor_parallel(shape, f.tensor_parallel));
  std::string heading = fmt::format("{} x{}, {} (roofline profile)", hardware.name, f.tensor_parallel, shape.name);
  return std::pair{std::unique_ptr<sim::StepCostModel>(std::make_unique<sim::RooflineCostModel>(hardware, shape)),
                   std::move(heading)};
}

Status run_interference(const SimInterferenceFlags& f) {
  PPD_ASSIGN_OR_RETURN(auto cost_and_heading, interference_cost(f));
  const sim::StepCostModel& cost = *cost_and_heading.first;
  const sim::StepShape decode{.decode_context_tokens = std::vector<int64_t>(f.decode_batch, f.decode_context_tokens)};
  const double base_ms = step_ms(cost, decode, 0, 0);
  auto line = [&](const std::string& what, double ms) {
    return fmt::format("+ {:<46} {:8.2f} ms (+{:.1f}%)\n", what, ms, 100 * (ms / base_ms - 1));
  };
  const int64_t whole = f.cached_tokens + f.prefill_tokens;
  std::cout << cost_and_heading.second << "\n"
            << fmt::format("decode batch {} at {} tokens of context: {:.2f} ms per step\n", f.decode_batch,
                           f.decode_context_tokens, base_ms)
            << line(fmt::format("full prefill of {} tokens:", f.prefill_tokens),
                    step_ms(cost, decode, f.prefill_tokens, 0))
            << line(fmt::format("append-prefill of {} tokens on {} cached:", f.prefill_tokens, f.cached_tokens),
                    step_ms(cost, decode, f.prefill_tokens, f.cached_tokens))
            << line(fmt::format("full prefill of the whole {} tokens:", whole), step_ms(cost, decode, whole, 0));
  std::cout << fmt::format("append-prefills on {} cached tokens, by length:\n", f.cached_tokens);
  for (const int64_t n : {16, 64, 256, 1024}) {
    std::cout << line(fmt::format("append of {} tokens:", n), step_ms(cost, decode, n, f.cached_tokens));
  }
  return Status::Ok();
}

}  // namespace

void register_sim_interference(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<SimInterferenceFlags>();
  CLI::App* cmd = sim->add_subcommand("interference",
                                      "Decode step time alone, with a full prefill and with an "
                                      "append-prefill in the same step, on a GPU roofline or a measured step profile");
  CLI::Option* hardware =
      cmd->add_option("--hardware", f->hardware, "Roofline profile: h100-80gb, a100-80gb, h200")->capture_default_str();
  CLI::Option* model = cmd->add_option("--model", f->model,
                                       "Roofline model shape: llama-3.1-8b, qwen2.5-14b, "
                                       "llama-3.1-70b, tiny, small, medium")
                           ->capture_default_str();
  CLI::Option* tp = cmd->add_option("--tensor-parallel", f->tensor_parallel, "Roofline: GPUs per model replica")
                        ->check(CLI::Range(1, 64))
                        ->capture_default_str();
  cmd->add_option("--profile", f->profile,
                  "A measured step profile (scripts/gpu_step_profile.py, ppd sim calibrate) "
                  "in place of the roofline")
      ->excludes(hardware)
      ->excludes(model)
      ->excludes(tp);
  cmd->add_option("--decode-batch", f->decode_batch, "Decode sequences in the step")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--decode-context", f->decode_context_tokens, "Context tokens of each decode sequence")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--prefill-tokens", f->prefill_tokens, "New tokens of the prefill")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--cached-tokens", f->cached_tokens, "Cached tokens before the append-prefill")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24))
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    const Status status = run_interference(*f);
    if (!status.ok()) std::cerr << "ppd sim interference: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

void register_sim_command(CLI::App& app, int* exit_code) {
  CLI::App* sim = app.add_subcommand("sim",
                                     "Cluster simulator: the real router policies, scheduler and KV cache on "
                                     "step-cost models (run with flags or --config; subcommands below)");
  sim->require_subcommand(0, 1);
  register_sim_run(sim, exit_code);
  register_sim_interference(sim, exit_code);
  register_sim_calibrate(sim, exit_code);
  register_sim_validate(sim, exit_code);
  register_sim_sweep(sim, exit_code);
  register_sim_scorecard(sim, exit_code);
}

}  // namespace ppd::cli
