#include "ppd/experiment/node_step_log.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "ppd/common/file.h"

namespace ppd::experiment {
namespace {

constexpr std::string_view kMarker = " step prefill_tokens=";

// Decode batches up to 4 by size, larger ones by powers of two: 5-8, 9-16, ...
int64_t batch_bucket(int64_t decodes) {
  if (decodes <= 4) return decodes;
  int64_t top = 8;
  while (top < decodes) top *= 2;
  return top;
}

std::string bucket_name(int64_t top) {
  return top <= 4 ? fmt::format("{} decodes", top) : fmt::format("{}-{} decodes", top / 2 + 1, top);
}

// A decode-only step of `decodes` sequences whose contexts sum to `context` tokens.
sim::StepShape decode_shape(const LoggedStep& s) {
  sim::StepShape shape;
  for (int64_t i = 0; i < s.decodes; ++i) {
    shape.decode_context_tokens.push_back(s.context_tokens / s.decodes + (i < s.context_tokens % s.decodes ? 1 : 0));
  }
  return shape;
}

// A lone prefill chunk ending its prompt at position `context`.
sim::StepShape prefill_shape(const LoggedStep& s) {
  return {.prefill_chunks = {{.num_tokens = s.prefill_tokens,
                              .num_context_tokens = std::max<int64_t>(0, s.context_tokens - s.prefill_tokens),
                              .samples = true}}};
}

struct Sums {
  int64_t count = 0;
  double measured_us = 0;
  double predicted_us = 0;
  void add(double measured, double predicted, double weight = 1) {
    ++count;
    measured_us += weight * measured;
    predicted_us += weight * predicted;
  }
};

// One row; false when a tolerance is given and the error is outside it.
bool print_row(std::ostream& out, const std::string& name, const Sums& s, double divisor,
               std::optional<double> tolerance = std::nullopt) {
  const double measured = s.measured_us / divisor * 1e-3, predicted = s.predicted_us / divisor * 1e-3;
  const double error = measured > 0 ? predicted / measured - 1 : 0;
  const bool ok = !tolerance || std::abs(error) <= *tolerance;
  out << fmt::format("{:<30} {:>7} {:>12.2f} {:>11.2f} {:>+7.1f}%{}\n", name, s.count, measured, predicted, 100 * error,
                     ok ? "" : "  outside");
  return ok;
}

}  // namespace

Result<std::vector<LoggedStep>> read_node_step_log(const std::string& path) {
  PPD_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  std::istringstream lines(text);
  std::vector<LoggedStep> steps;
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const size_t at = line.find(kMarker);
    if (at == std::string::npos) continue;
    LoggedStep s;
    long long p = -1, d = -1, c = -1, u = -1;
    if (std::sscanf(line.c_str() + at, " step prefill_tokens=%lld decodes=%lld context_tokens=%lld step_us=%lld", &p,
                    &d, &c, &u) != 4 ||
        p < 0 || d < 0 || c < 0 || u < 0) {
      return invalid_argument(
          "{}:{}: expected \"step prefill_tokens=N decodes=N context_tokens=N step_us=N\" with "
          "numbers >= 0; got \"{}\"",
          path, number, line.substr(at + 1));
    }
    s.prefill_tokens = p;
    s.decodes = d;
    s.context_tokens = c;
    s.step_us = u;
    steps.push_back(s);
  }
  return steps;
}

std::vector<sim::MeasuredStep> shaped_steps(const std::vector<LoggedStep>& steps) {
  std::vector<sim::MeasuredStep> out;
  for (const LoggedStep& s : steps) {
    if ((s.decodes > 0) == (s.prefill_tokens > 0) || s.step_us <= 0) continue;
    out.push_back(
        {.shape = s.decodes > 0 ? decode_shape(s) : prefill_shape(s), .step_us = static_cast<double>(s.step_us)});
  }
  return out;
}

Status check_profile_against_steps(const sim::ProfileCostModel& profile, const std::string& label,
                                   const std::vector<LoggedStep>& steps, double tolerance, std::ostream& out) {
  std::map<int64_t, Sums> by_batch;
  Sums per_sequence, prefills;
  int64_t sequences = 0, mixed = 0;
  for (const LoggedStep& s : steps) {
    if (s.decodes > 0 && s.prefill_tokens > 0) {
      ++mixed;
      continue;
    }
    const sim::StepShape shape = s.decodes > 0 ? decode_shape(s) : prefill_shape(s);
    const double predicted = static_cast<double>(profile.step_time_ns(shape)) * 1e-3;
    const double measured = static_cast<double>(s.step_us);
    if (s.decodes == 0) {
      prefills.add(measured, predicted);
      continue;
    }
    by_batch[batch_bucket(s.decodes)].add(measured, predicted);
    per_sequence.add(measured, predicted, static_cast<double>(s.decodes));
    sequences += s.decodes;
  }
  out << fmt::format("{}: the profile against {} logged steps\n", label, steps.size());
  out << fmt::format("{:<30} {:>7} {:>12} {:>11} {:>8}\n", "steps", "count", "measured ms", "profile ms", "error");
  for (const auto& [top, sums] : by_batch) print_row(out, bucket_name(top), sums, static_cast<double>(sums.count));
  bool ok = true;
  if (sequences > 0) {
    ok &= print_row(out, "decode step per sequence", per_sequence, static_cast<double>(sequences), tolerance);
  }
  if (prefills.count > 0)
    ok &= print_row(out, "lone prefill", prefills, static_cast<double>(prefills.count), tolerance);
  if (mixed > 0) out << fmt::format("{} steps mixing prefill and decodes not compared\n", mixed);
  if (sequences == 0 && prefills.count == 0) {
    return invalid_argument("{}: no decode-only or prefill-only step lines (log the node with PPD_LOG_LEVEL=debug)",
                            label);
  }
  if (!ok) {
    return failed_precondition("{}: the profile is off the node's own steps by more than {:.0f}%", label,
                               100 * tolerance);
  }
  return Status::Ok();
}

}  // namespace ppd::experiment
