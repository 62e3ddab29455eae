#include "ppd/experiment/sim_scorecard.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/experiment/sim_sweep.h"
#include "ppd/loadgen/prompt_text.h"
#include "ppd/routing/table_policy.h"
#include "ppd/sim/profile_cost_model.h"
#include "ppd/workload/synthetic.h"

namespace ppd::experiment {
namespace {

struct WorkloadCell {
  std::string kind;
  std::string label;
  WorkloadFlags flags;
  double mean_t2_prompt_tokens = 0;
  double mean_t2_output_tokens = 0;
};

template <typename T>
std::vector<std::string> names_of(std::span<const T> items) {
  std::vector<std::string> names;
  for (const T& item : items) names.emplace_back(item.name);
  return names;
}

// Mean prompt and output tokens of the turn 2+ requests (turn 1 when there are none): a
// turn's prompt is the whole history before it plus its user message.
void fill_means(const workload::Workload& w, WorkloadCell* cell) {
  double prompt[2] = {0, 0}, output[2] = {0, 0}, count[2] = {0, 0};
  for (const workload::Conversation& c : w.conversations) {
    int64_t history = c.system_tokens;
    for (size_t k = 0; k < c.turns.size(); ++k) {
      const int later = k > 0 ? 1 : 0;
      prompt[later] += static_cast<double>(history + c.turns[k].user_tokens);
      output[later] += static_cast<double>(c.turns[k].output_tokens);
      count[later] += 1;
      history += c.turns[k].user_tokens + c.turns[k].output_tokens;
    }
  }
  const int g = count[1] > 0 ? 1 : 0;
  cell->mean_t2_prompt_tokens = count[g] > 0 ? prompt[g] / count[g] : 0;
  cell->mean_t2_output_tokens = count[g] > 0 ? output[g] / count[g] : 0;
}

Result<std::vector<WorkloadCell>> workload_cells(const ScorecardOptions& o) {
  std::vector<WorkloadCell> cells;
  for (const std::string& kind : o.workloads) {
    if (kind != "paper") {
      cells.push_back({.kind = kind, .label = kind, .flags = o.workload});
      cells.back().flags.kind = kind;
      if (kind == "distribution") cells.back().flags.think_time_s = o.distribution_think_time_s;
      continue;
    }
    const std::vector<std::string> contexts = o.workload.paper_contexts.empty()
                                                  ? names_of<workload::ContextType>(workload::paper_contexts())
                                                  : o.workload.paper_contexts;
    const std::vector<std::string> types = o.workload.paper_types.empty()
                                               ? names_of<workload::Turn2Type>(workload::paper_turn2_types())
                                               : o.workload.paper_types;
    for (const std::string& context : contexts) {
      for (const std::string& type : types) {
        WorkloadCell c{.kind = kind, .label = context + "/" + type, .flags = o.workload};
        c.flags.kind = kind;
        c.flags.paper_contexts = {context};
        c.flags.paper_types = {type};
        cells.push_back(std::move(c));
      }
    }
  }
  for (WorkloadCell& c : cells) {
    const loadgen::PromptText count(nullptr, c.flags.seed);
    PPD_ASSIGN_OR_RETURN(const workload::Workload w, build_workload(c.flags, 1.0, count));
    fill_means(w, &c);
  }
  return cells;
}

// The policy flags of a scorecard label; `slo` gives ppd's SLO modes their pair.
PolicyFlags policy_flags(const PolicyFlags& base, const std::string& label, const std::string& table_file,
                         const std::array<SloPair, 2>& slo) {
  PolicyFlags f = base;
  f.guard_ttft_ms = f.guard_tpot_ms = 0;
  f.policy.name = label;
  if (label.starts_with("split-")) {
    f.policy.name = "split";
    f.policy.split.local_share = std::stod(label.substr(6));
  } else if (label == "table") {
    f.policy.table_file = table_file;
  } else if (label.starts_with("ppd-slo-")) {
    const SloPair& pair = slo[label == "ppd-slo-tight" ? 0 : 1];
    f.policy.name = "ppd";
    f.guard_ttft_ms = pair.ttft_ms;
    f.guard_tpot_ms = pair.tpot_ms;
  }
  return f;
}

std::string link_name(double bytes_per_s) { return fmt::format("{:g}GBps", bytes_per_s / 1e9); }

PolicyRun policy_run(const std::string& label, const ScoreCell& cell, const sim::SimResult& s) {
  PolicyRun run{.policy = label};
  for (int k = 0; k < 2; ++k) {
    const stats::RunSummary sum =
        stats::summarize(s.records, s.duration_s, {.ttft_ms = cell.slo[k].ttft_ms, .tpot_ms = cell.slo[k].tpot_ms});
    run.attainment[k] = sum.all.slo_attainment;
    run.goodput_rps[k] = sum.all.goodput_rps;
    if (k > 0) continue;
    run.num_requests = sum.all.num_requests;
    run.num_failed = sum.all.num_failed;
    run.t2_ttft_mean_ms = sum.turn2plus.ttft_ms.mean;
    run.t2_ttft_p90_ms = sum.turn2plus.ttft_ms.p90;
    run.tpot_mean_ms = sum.all.tpot_ms.mean;
    run.tpot_p90_ms = sum.all.tpot_ms.p90;
  }
  int64_t later = 0, local = 0;
  for (const sim::DecisionRecord& d : s.decisions) {
    if (d.turn < 2) continue;
    ++later;
    local += d.path == routing::Path::kLocal;
    if (d.predicted && d.ttft_s > 0) run.t2_ttft_ape.push_back(std::abs(d.predicted_ttft_s - d.ttft_s) / d.ttft_s);
  }
  run.t2_local_share = later > 0 ? static_cast<double>(local) / static_cast<double>(later) : 0;
  return run;
}

// One lookup table per (profile, link, split), built as `ppd sim sweep --emit-table` builds it.
Result<std::vector<std::string>> build_tables(const ScorecardOptions& o,
                                              const std::function<void(std::string_view, size_t, size_t)>& progress) {
  std::vector<double> rates = o.table_rates;
  if (rates.empty()) rates.assign(routing::kPaperRatePoints.begin(), routing::kPaperRatePoints.end());
  std::vector<SweepPoint> points;
  std::vector<std::string> files;
  for (const std::string& profile : o.profiles) {
    for (const double link : o.links) {
      for (const std::string& split : o.splits) {
        PPD_ASSIGN_OR_RETURN(const auto pd, parse_split(split));
        std::vector<SweepPoint> table = table_points(o.workload, pd.first, pd.second, link, rates);
        for (SweepPoint& p : table) p.profile = profile;
        points.insert(points.end(), table.begin(), table.end());
        files.push_back((std::filesystem::path(o.table_dir) /
                         fmt::format("table-{}-{}-{}.json", profile_short_name(profile), link_name(link), split))
                            .string());
      }
    }
  }
  const std::vector<SweepResult> results =
      run_sweep(o.base, points, {}, 0, o.jobs, [&](size_t d, size_t t) { progress("tables", d, t); });
  std::filesystem::create_directories(o.table_dir);
  const size_t per_table = points.size() / files.size();
  for (size_t t = 0; t < files.size(); ++t) {
    const std::vector<SweepResult> slice(results.begin() + static_cast<ptrdiff_t>(t * per_table),
                                         results.begin() + static_cast<ptrdiff_t>((t + 1) * per_table));
    const nlohmann::json table = build_lookup_table(slice, rates, 1.0, 1.0);
    PPD_RETURN_IF_ERROR(write_file(files[t], table.dump(1) + "\n"));
  }
  return files;
}

}  // namespace

bool is_fixed_policy(const std::string& label) { return !label.starts_with("ppd"); }

std::string profile_short_name(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  return stem.starts_with("profile-") ? stem.substr(8) : stem;
}

std::array<SloPair, 2> slo_pairs(const sim::StepCostModel& cost, double mean_t2_prompt_tokens,
                                 double mean_t2_output_tokens, int chunk_tokens) {
  const int64_t prompt = std::max<int64_t>(1, std::llround(mean_t2_prompt_tokens));
  double ttft0_ns = 0;
  for (int64_t done = 0; done < prompt;) {
    const int64_t n = std::min<int64_t>(std::max(chunk_tokens, 1), prompt - done);
    sim::StepShape chunk;
    chunk.prefill_chunks = {{.num_tokens = n, .num_context_tokens = done, .samples = done + n == prompt}};
    ttft0_ns += static_cast<double>(cost.step_time_ns(chunk));
    done += n;
  }
  sim::StepShape decode;
  decode.decode_context_tokens = {prompt + std::llround(mean_t2_output_tokens / 2)};
  const double tpot0_ns = static_cast<double>(cost.step_time_ns(decode));
  return {SloPair{.ttft_ms = 2 * ttft0_ns * 1e-6, .tpot_ms = 1.25 * tpot0_ns * 1e-6},
          SloPair{.ttft_ms = 5 * ttft0_ns * 1e-6, .tpot_ms = 2 * tpot0_ns * 1e-6}};
}

Result<std::vector<ScoreCell>> run_scorecard(const ScorecardOptions& o,
                                             const std::function<void(std::string_view, size_t, size_t)>& progress) {
  if (o.profiles.empty() || o.links.empty() || o.splits.empty() || o.rates.empty() || o.policies.empty()) {
    return invalid_argument("scorecard: give at least one profile, link, split, rate and policy");
  }
  for (const std::string& split : o.splits) PPD_RETURN_IF_ERROR(parse_split(split).status());
  for (const std::string& profile : o.profiles) {
    if (Status s = sim::read_profile(profile).status(); !s.ok()) return invalid_argument("--profiles: {}", s.message());
  }
  PPD_ASSIGN_OR_RETURN(const std::vector<WorkloadCell> wcells, workload_cells(o));
  std::vector<std::string> tables(o.profiles.size() * o.links.size() * o.splits.size());
  if (std::find(o.policies.begin(), o.policies.end(), "table") != o.policies.end()) {
    PPD_ASSIGN_OR_RETURN(tables, build_tables(o, progress));
  }
  std::vector<ScoreCell> cells;
  std::vector<SweepPoint> points;
  std::vector<std::pair<size_t, size_t>> where;  // point -> (cell, run)
  size_t table_index = 0;
  for (const std::string& profile : o.profiles) {
    PPD_ASSIGN_OR_RETURN(const sim::StepProfile steps, sim::read_profile(profile));
    const sim::ProfileCostModel cost(steps);
    for (const double link : o.links) {
      for (const std::string& split : o.splits) {
        PPD_ASSIGN_OR_RETURN(const auto pd, parse_split(split));
        const std::string& table = tables[table_index++];
        for (const WorkloadCell& w : wcells) {
          const std::array<SloPair, 2> slo =
              slo_pairs(cost, w.mean_t2_prompt_tokens, w.mean_t2_output_tokens, o.base.max_prefill_tokens);
          for (const double rate : o.rates) {
            cells.push_back({.profile = profile_short_name(profile),
                             .link_bytes_per_s = link,
                             .workload = w.kind,
                             .label = w.label,
                             .split = split,
                             .rate = rate,
                             .mean_t2_prompt_tokens = w.mean_t2_prompt_tokens,
                             .slo = slo});
            for (const std::string& label : o.policies) {
              points.push_back({.num_prefill = pd.first,
                                .num_decode = pd.second,
                                .rate = rate,
                                .link_bytes_per_s = link,
                                .policy = label,
                                .policy_flags = policy_flags(o.base.policy, label, table, slo),
                                .workload = w.flags,
                                .profile = profile});
              where.emplace_back(cells.size() - 1, cells.back().runs.size());
              cells.back().runs.push_back({.policy = label});
            }
          }
        }
      }
    }
  }
  auto inspect = [&](size_t i, const sim::SimResult& s) {
    ScoreCell& cell = cells[where[i].first];
    cell.runs[where[i].second] = policy_run(points[i].policy, cell, s);
  };
  const std::vector<SweepResult> results = run_sweep(
      o.base, points, {}, 0, o.jobs, [&](size_t d, size_t t) { progress("grid", d, t); }, inspect);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].status.ok()) cells[where[i].first].runs[where[i].second].error = results[i].status.message();
  }
  return cells;
}

}  // namespace ppd::experiment
