// `ppd sim scorecard`: the policy scorecard (sim_scorecard.h) with a progress line; writes
// report.md, scorecard.json and the table policy's tables into --out.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ppd/cli/sim_commands.h"
#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"
#include "ppd/experiment/sim_scorecard.h"
#include "ppd/experiment/sim_sweep.h"
#include "ppd/kernels/kernels.h"
#include "ppd/loadgen/progress_bar.h"

namespace ppd::cli {
namespace {

struct ScorecardFlags {
  experiment::ScorecardOptions options;
  std::string out_dir = "docs/results/policy-scorecard";
  std::string command_line;
};

std::string report_header(const ScorecardFlags& f, double wall_s) {
  const experiment::ScorecardOptions& o = f.options;
  std::string profiles;
  for (const std::string& p : o.profiles) profiles += (profiles.empty() ? "" : ", ") + p;
  return fmt::format(
      "# Policy scorecard\n\nWritten by `ppd sim scorecard` ({:.0f} s on {}).\n\n"
      "- Command: `{}`\n- Profiles (measured GPU step costs; KV pool from the card's memory): {}\n"
      "- Model: {}; {} conversations per point; seed {}\n",
      wall_s, describe_machine(), f.command_line, profiles, o.base.model, o.workload.num_conversations,
      o.workload.seed);
}

Status run_scorecard_command(const ScorecardFlags& f) {
  kernels::set_blas_threads(1);  // the simulator does no linear algebra
  const auto start = std::chrono::steady_clock::now();
  const bool tty = loadgen::stream_is_terminal(std::cerr);
  auto progress = [&](std::string_view phase, size_t done, size_t total) {
    experiment::print_sweep_progress(fmt::format("scorecard {}", phase), done, total, start, tty);
  };
  experiment::ScorecardOptions o = f.options;
  o.table_dir = (std::filesystem::path(f.out_dir) / "tables").string();
  std::filesystem::create_directories(f.out_dir);
  PPD_ASSIGN_OR_RETURN(const std::vector<experiment::ScoreCell> cells, experiment::run_scorecard(o, progress));
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const experiment::GridSummary& g : experiment::summarize_grids(cells))
    std::cout << experiment::format_grid_line(g) << "\n";
  const std::string report = (std::filesystem::path(f.out_dir) / "report.md").string();
  const std::string json = (std::filesystem::path(f.out_dir) / "scorecard.json").string();
  PPD_RETURN_IF_ERROR(write_file(report, experiment::format_scorecard_report(cells, report_header(f, wall_s))));
  PPD_RETURN_IF_ERROR(write_file(json, experiment::scorecard_json(cells).dump() + "\n"));
  std::cerr << fmt::format("ppd sim scorecard: {} cells in {:.0f} s; {} and {} written\n", cells.size(), wall_s, report,
                           json);
  return Status::Ok();
}

}  // namespace

void register_sim_scorecard(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<ScorecardFlags>();
  experiment::ScorecardOptions& o = f->options;
  o.profiles = {"tests/data/gpu-profiles/profile-h100.json", "tests/data/gpu-profiles/profile-h200.json"};
  o.links = {150e9, 10e9};
  o.workload.num_conversations = 200;
  o.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App* cmd = sim->add_subcommand("scorecard",
                                      "Run every routing policy over a grid of GPU profiles, links, "
                                      "workload cells, P:D splits and rates, and score ppd against the "
                                      "best fixed policy in each cell (report.md, scorecard.json)");
  cmd->add_option("--profiles", o.profiles,
                  "Measured step profiles (their KV pool comes from the device memory they "
                  "record)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--links", o.links, "KV link bandwidths in bytes/s")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--splits", o.splits, "P:D splits")->delimiter(',')->capture_default_str();
  cmd->add_option("--rate", o.rates, "Conversations per second")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--workloads", o.workloads,
                  "paper (each of its cells alone), distribution, mooncake (the "
                  "conversation trace at Poisson arrivals)")
      ->delimiter(',')
      ->check(CLI::IsMember({"paper", "distribution", "mooncake"}))
      ->capture_default_str();
  cmd->add_option("--policies", o.policies,
                  "Policies to run (default all): pd-full, pd, local, threshold, table, "
                  "split-0.25, split-0.5, split-0.75, ppd, ppd-slo-tight, ppd-slo-loose")
      ->delimiter(',')
      ->check(CLI::IsMember(experiment::scorecard_policies()));
  cmd->add_option("--paper-contexts", o.workload.paper_contexts, "paper: turn-1 contexts (default small, large)")
      ->delimiter(',');
  cmd->add_option("--paper-types", o.workload.paper_types, "paper: turn-2 types (default all nine)")->delimiter(',');
  cmd->add_option("--num-conversations", o.workload.num_conversations, "Conversations per point")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--think-time-s", o.distribution_think_time_s,
                  "distribution: mean wait between an answer and the "
                  "next turn (the paper cells have none, as in the paper)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--trace", o.workload.trace,
                  "mooncake: the trace file (default: the copy under "
                  "$PPD_SHARED_DIR/traces)");
  cmd->add_option("--seed", o.workload.seed, "Workload seed")->capture_default_str();
  cmd->add_option("--model", o.base.model, "Model shape the profiles were measured on")->capture_default_str();
  cmd->add_option("--w-ttft", o.base.policy.policy.ppd.w_ttft, "ppd: weight of the relative TTFT gain")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--w-tpot", o.base.policy.policy.ppd.w_tpot, "ppd: weight of the relative TPOT cost")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--table-rates", o.table_rates,
                  "Request-rate points of the table policy's tables (default: the "
                  "paper's 0.5,1,2,4,6,8,10,12,16,20)")
      ->delimiter(',');
  cmd->add_option("--jobs", o.jobs, "Points simulated at once (threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--out", f->out_dir, "Directory for report.md, scorecard.json and tables/")->capture_default_str();
  cmd->callback([f, cmd, exit_code] {
    f->command_line = "ppd sim scorecard";
    for (const CLI::Option* op : cmd->get_options()) {
      if (op->count() == 0 || op->get_name() == "--help") continue;
      f->command_line += " " + op->get_name() + " " + fmt::format("{}", fmt::join(op->results(), ","));
    }
    const Status status = run_scorecard_command(*f);
    if (!status.ok()) std::cerr << "ppd sim scorecard: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
