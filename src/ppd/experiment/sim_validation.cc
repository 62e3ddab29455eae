// `ppd sim validate`: a simulated run against a measured one, metric by metric; a step profile
// against the steps real nodes logged; a GPU roofline against a measured profile's steps.
#include "ppd/experiment/sim_validation.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/experiment/node_step_log.h"
#include "ppd/sim/roofline_cost_model.h"

namespace ppd::experiment {
namespace {

struct Metric {
  const char* name;
  const char* group;  // summary group: turn1, turn2plus
  const char* field;  // ttft_ms, tpot_ms
};
constexpr Metric kMetrics[] = {{"turn 1 TTFT mean ms", "turn1", "ttft_ms"},
                               {"turn 1 TPOT mean ms", "turn1", "tpot_ms"},
                               {"turn 2+ TTFT mean ms", "turn2plus", "ttft_ms"},
                               {"turn 2+ TPOT mean ms", "turn2plus", "tpot_ms"}};

Result<nlohmann::json> read_runs(const std::string& path) {
  PPD_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("runs") || !j["runs"].is_array()) {
    return invalid_argument("{}: expected a benchmark JSON file with a \"runs\" array", path);
  }
  return j["runs"];
}

Result<double> mean_of(const nlohmann::json& run, const Metric& m, const std::string& path) {
  const nlohmann::json::json_pointer at(fmt::format("/summary/{}/{}/mean", m.group, m.field));
  if (!run.contains(at) || !run[at].is_number()) {
    return invalid_argument("{}: run {} at {}: no summary.{}.{}.mean", path, run.value("label", "?"),
                            run.value("rate", 0.0), m.group, m.field);
  }
  return run[at].get<double>();
}

const nlohmann::json* find_run(const nlohmann::json& runs, const nlohmann::json& like) {
  for (const nlohmann::json& r : runs) {
    if (r.value("label", "") == like.value("label", "") &&
        std::abs(r.value("rate", -1.0) - like.value("rate", -2.0)) < 1e-9) {
      return &r;
    }
  }
  return nullptr;
}

Status validate_steps(const ValidationOptions& f, std::ostream& out) {
  PPD_ASSIGN_OR_RETURN(const sim::StepProfile profile, sim::read_profile(f.profile_path));
  const sim::ProfileCostModel model(profile);
  Status first_failure = Status::Ok();
  for (const std::string& path : f.node_logs) {
    PPD_ASSIGN_OR_RETURN(const std::vector<LoggedStep> steps, read_node_step_log(path));
    const Status s = check_profile_against_steps(model, path, steps, f.tolerance, out);
    if (s.code() == StatusCode::kInvalidArgument) return s;
    if (!s.ok() && first_failure.ok()) first_failure = s;
  }
  return first_failure;
}

// The roofline of --roofline on the profile's model against the steps the profile keeps, and
// the profile's own fit beside it.
Status validate_roofline(const ValidationOptions& f, std::ostream& out) {
  PPD_ASSIGN_OR_RETURN(const sim::StepProfile profile, sim::read_profile(f.profile_path));
  if (profile.samples.empty())
    return invalid_argument("--profile {}: the profile keeps no measured steps", f.profile_path);
  PPD_ASSIGN_OR_RETURN(const sim::HardwareSpec hardware, sim::hardware_preset(f.roofline));
  const Result<sim::ModelShape> shape = sim::model_shape_preset(profile.model);
  if (!shape.ok()) {
    return invalid_argument("--roofline: the profile was measured on model \"{}\", which is not a model preset",
                            profile.model);
  }
  const sim::RooflineCostModel roofline(hardware, *shape);
  const sim::ProfileCostModel fitted(profile);
  out << fmt::format("roofline {} on {} against {} steps of {}\n", hardware.name, shape->name, profile.samples.size(),
                     profile.name)
      << fmt::format("{:<36} {:>11} {:>11} {:>7} {:>11} {:>7}\n", "step", "measured ms", "roofline ms", "error",
                     "profile ms", "error");
  double roofline_error = 0, profile_error = 0;
  int outside = 0;
  for (const sim::MeasuredStep& s : profile.samples) {
    const double want = s.step_us * 1e-3;
    const double got = static_cast<double>(roofline.step_time_ns(s.shape)) * 1e-6;
    const double fit = static_cast<double>(fitted.step_time_ns(s.shape)) * 1e-6;
    roofline_error += std::abs(got / want - 1);
    profile_error += std::abs(fit / want - 1);
    const bool ok = std::abs(got / want - 1) <= f.tolerance;
    outside += ok ? 0 : 1;
    out << fmt::format("{:<36} {:>11.2f} {:>11.2f} {:>+6.1f}% {:>11.2f} {:>+6.1f}%{}\n", sim::describe_step(s.shape),
                       want, got, 100 * (got / want - 1), fit, 100 * (fit / want - 1), ok ? "" : "  outside");
  }
  const auto n = static_cast<double>(profile.samples.size());
  out << fmt::format(
      "roofline: mean |error| {:.1f}%, {} of {} steps within {:.0f}%; the profile's fit: mean "
      "|error| {:.1f}%\n",
      100 * roofline_error / n, profile.samples.size() - outside, profile.samples.size(), 100 * f.tolerance,
      100 * profile_error / n);
  if (outside > 0) {
    return failed_precondition("the roofline is off the measured steps by more than {:.0f}% on {} of {}",
                               100 * f.tolerance, outside, profile.samples.size());
  }
  return Status::Ok();
}

Status validate_means(const ValidationOptions& f, std::ostream& out) {
  PPD_ASSIGN_OR_RETURN(const nlohmann::json measured, read_runs(f.measured_path));
  PPD_ASSIGN_OR_RETURN(const nlohmann::json simulated, read_runs(f.simulated_path));
  out << fmt::format("{:<10} {:>6}  {:<22} {:>10} {:>10} {:>8}\n", "label", "rate", "metric", "measured", "simulated",
                     "error");
  int compared = 0, outside = 0;
  for (const nlohmann::json& sim_run : simulated) {
    const nlohmann::json* real = find_run(measured, sim_run);
    if (!real) continue;
    for (const Metric& m : kMetrics) {
      PPD_ASSIGN_OR_RETURN(const double want, mean_of(*real, m, f.measured_path));
      PPD_ASSIGN_OR_RETURN(const double got, mean_of(sim_run, m, f.simulated_path));
      const double error = want > 0 ? got / want - 1 : 0;
      const bool ok = std::abs(error) <= f.tolerance;
      ++compared;
      outside += ok ? 0 : 1;
      out << fmt::format("{:<10} {:>6g}  {:<22} {:>10.2f} {:>10.2f} {:>+7.1f}%{}\n", sim_run.value("label", ""),
                         sim_run.value("rate", 0.0), m.name, want, got, 100 * error, ok ? "" : "  outside");
    }
  }
  if (compared == 0) {
    return invalid_argument("no simulated run has a measured run of the same label and rate in {}", f.measured_path);
  }
  out << fmt::format("{} of {} means within {:.0f}%\n", compared - outside, compared, 100 * f.tolerance);
  if (outside > 0)
    return failed_precondition("{} of {} means are off by more than {:.0f}%", outside, compared, 100 * f.tolerance);
  return Status::Ok();
}

}  // namespace

Status run_validation(const ValidationOptions& f, std::ostream& out) {
  if (f.measured_path.empty() != f.simulated_path.empty()) {
    return invalid_argument("--measured and --simulated: give both or neither");
  }
  const bool with_profile = !f.node_logs.empty() || !f.roofline.empty();
  if (!f.profile_path.empty() && !with_profile)
    return invalid_argument("--profile: give --node-log or --roofline with it");
  if (f.profile_path.empty() && with_profile) return invalid_argument("--node-log and --roofline: they need --profile");
  if (f.measured_path.empty() && !with_profile) {
    return invalid_argument(
        "nothing to compare: give --measured and --simulated, --profile and --node-log, or "
        "--profile and --roofline");
  }
  Status first = Status::Ok();
  for (const auto& [wanted, check] :
       {std::pair{!f.measured_path.empty(), &validate_means}, std::pair{!f.node_logs.empty(), &validate_steps},
        std::pair{!f.roofline.empty(), &validate_roofline}}) {
    if (!wanted) continue;
    const Status s = check(f, out);
    if (s.code() == StatusCode::kInvalidArgument) return s;
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace ppd::experiment
