// `ppd sim sweep`: many simulated runs over a grid, in parallel, with a progress line; or,
// with --emit-table, the PPD paper's lookup table built the way the paper builds it.
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/bench_workload_flags.h"
#include "ppd/cli/sim_commands.h"
#include "ppd/cli/sim_flags.h"
#include "ppd/common/file.h"
#include "ppd/experiment/sim_sweep.h"
#include "ppd/kernels/kernels.h"
#include "ppd/loadgen/progress_bar.h"
#include "ppd/routing/table_policy.h"

namespace ppd::cli {
namespace {

struct SweepFlags {
  experiment::SimClusterFlags cluster;
  experiment::WorkloadFlags workload;
  experiment::SloFlags slo;
  std::vector<std::string> splits = {"1P3D", "2P2D", "3P1D"};
  std::vector<double> rates;
  std::vector<double> links;  // empty: --link-bytes-per-s
  std::vector<std::string> policies = {"pd", "local", "threshold", "ppd"};
  std::vector<std::string> workloads;  // empty: --workload
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string json_path;
  std::string table_path;
  std::vector<double> table_rates;  // request rates; empty: the paper's points
  int template_tokens = 0;
};

Result<std::vector<experiment::SweepPoint>> grid_points(const SweepFlags& f) {
  PPD_RETURN_IF_ERROR(check_rates(f.rates));
  if (f.rates.empty()) return invalid_argument("--rate: give at least one rate to sweep");
  const std::vector<double> links = f.links.empty() ? std::vector<double>{f.cluster.link_bytes_per_s} : f.links;
  const std::vector<std::string> kinds = f.workloads.empty() ? std::vector<std::string>{f.workload.kind} : f.workloads;
  std::vector<experiment::SweepPoint> points;
  for (const std::string& kind : kinds) {
    for (const std::string& split : f.splits) {
      PPD_ASSIGN_OR_RETURN(const auto pd, experiment::parse_split(split));
      for (const double link : links) {
        for (const std::string& policy : f.policies) {
          for (const double rate : f.rates) {
            experiment::SweepPoint p{.num_prefill = pd.first,
                                     .num_decode = pd.second,
                                     .rate = rate,
                                     .link_bytes_per_s = link,
                                     .policy = policy,
                                     .workload = f.workload};
            p.workload.kind = kind;
            points.push_back(std::move(p));
          }
        }
      }
    }
  }
  return points;
}

std::string format_row(const experiment::SweepResult& r) {
  const experiment::SweepPoint& p = r.point;
  const std::string head =
      fmt::format("{:>5} {:>8g} {:>9.3g} {:<10} {:<13}", fmt::format("{}P{}D", p.num_prefill, p.num_decode), p.rate,
                  p.link_bytes_per_s, p.policy, p.cell.empty() ? p.workload.kind : p.cell);
  if (!r.status.ok()) return head + "  error: " + r.status.message() + "\n";
  const stats::RunSummary& s = r.summary;
  return head + fmt::format(" {:>9.1f} {:>9.1f} {:>9.1f} {:>8.2f} {:>8.2f} {:>6.1f} {:>8.2f}\n", s.turn1.ttft_ms.mean,
                            s.turn2plus.ttft_ms.mean, s.turn2plus.ttft_ms.p99, s.turn2plus.tpot_ms.mean,
                            s.turn2plus.tpot_ms.p99, 100 * s.all.slo_attainment, s.all.goodput_rps);
}

nlohmann::json point_json(const experiment::SweepResult& r) {
  const experiment::SweepPoint& p = r.point;
  nlohmann::json j = {{"prefill", p.num_prefill}, {"decode", p.num_decode},
                      {"rate", p.rate},           {"link_bytes_per_s", p.link_bytes_per_s},
                      {"policy", p.policy},       {"workload", p.workload.kind}};
  if (!p.cell.empty()) j["cell"] = p.cell;
  if (!r.status.ok()) {
    j["error"] = r.status.message();
    return j;
  }
  j["summary"] = stats::to_json(r.summary);
  j["router"] = {{"kv_transfer_bytes", r.router.kv_transfer_bytes},
                 {"local_decisions", r.router.local_decisions},
                 {"remote_decisions", r.router.remote_decisions}};
  return j;
}

Status run_sweep_command(const SweepFlags& f) {
  kernels::set_blas_threads(1);  // the simulator does no linear algebra: park OpenBLAS's spinning pool
  PPD_RETURN_IF_ERROR(experiment::make_sim_setup(f.cluster).status());  // the base flags are sound before a long run
  std::vector<double> table_rates = f.table_rates;
  if (table_rates.empty()) table_rates.assign(routing::kPaperRatePoints.begin(), routing::kPaperRatePoints.end());
  std::vector<experiment::SweepPoint> points;
  if (!f.table_path.empty()) {
    PPD_RETURN_IF_ERROR(check_rates(table_rates));
    points = experiment::table_points(f.workload, f.cluster.num_prefill, f.cluster.num_decode,
                                      f.cluster.link_bytes_per_s, table_rates);
  } else {
    PPD_ASSIGN_OR_RETURN(points, grid_points(f));
  }
  const auto start = std::chrono::steady_clock::now();
  const bool tty = loadgen::stream_is_terminal(std::cerr);
  const std::vector<experiment::SweepResult> results = experiment::run_sweep(
      f.cluster, points, experiment::to_slo(f.slo), f.template_tokens, f.jobs,
      [&](size_t done, size_t total) { experiment::print_sweep_progress("sweep", done, total, start, tty); });
  std::cout << fmt::format("{:>5} {:>8} {:>9} {:<10} {:<13} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6} {:>8}\n", "split",
                           "conv/s", "link B/s", "policy", "workload", "t1 TTFT", "t2 TTFT", "t2 p99", "t2 TPOT",
                           "TPOT p99", "slo%", "goodput");
  nlohmann::json out = {{"tool", "ppd sim sweep"},
                        {"cluster", experiment::sim_flags_json(f.cluster)},
                        {"points", nlohmann::json::array()}};
  for (const experiment::SweepResult& r : results) {
    std::cout << format_row(r);
    out["points"].push_back(point_json(r));
  }
  if (!f.json_path.empty()) PPD_RETURN_IF_ERROR(write_file(f.json_path, out.dump(2) + "\n"));
  if (!f.table_path.empty()) {
    const routing::PolicyOptions& p = f.cluster.policy.policy;
    const nlohmann::json table = experiment::build_lookup_table(results, table_rates, p.ppd.w_ttft, p.ppd.w_tpot);
    PPD_RETURN_IF_ERROR(write_file(f.table_path, table.dump(2) + "\n"));
    std::cerr << fmt::format("ppd sim sweep: lookup table of {} cells written to {}\n", table["cells"].size(),
                             f.table_path);
  }
  return Status::Ok();
}

}  // namespace

void register_sim_sweep(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<SweepFlags>();
  CLI::App* cmd = sim->add_subcommand("sweep",
                                      "Simulate a grid of P:D splits, rates, link bandwidths, policies and "
                                      "workloads in parallel; or build the table policy's lookup table");
  add_sim_cluster_flags(cmd, &f->cluster);
  add_workload_flags(cmd, &f->workload);
  add_slo_flags(cmd, &f->slo);
  add_template_tokens_flag(cmd, &f->template_tokens);
  cmd->add_option("--splits", f->splits, "P:D splits, e.g. 1P3D,2P2D,3P1D (override --prefill/--decode)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rate", f->rates, "Conversations per second, one point per value")->delimiter(',');
  cmd->add_option("--links", f->links, "Link bandwidths in bytes/s, e.g. 10e9,25e9,150e9 (default: --link-bytes-per-s)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--policies", f->policies, "Policies (override --policy)")
      ->delimiter(',')
      ->check(CLI::IsMember({"pd", "pd-full", "local", "split", "threshold", "table", "ppd"}))
      ->capture_default_str();
  cmd->add_option("--workloads", f->workloads,
                  "Workload kinds (override --workload): paper, distribution, mooncake, "
                  "azure, sharegpt")
      ->delimiter(',');
  cmd->add_option("--jobs", f->jobs, "Points simulated at once (threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--json", f->json_path, "Write every point's summary as JSON");
  cmd->add_option("--emit-table", f->table_path,
                  "Instead of the grid: build the table policy's lookup table as the PPD "
                  "paper does (per context, turn-2 type and request-rate point, the "
                  "paper workload of that cell under pd (x=0) and local (x=1), scored "
                  "with --w-ttft/--w-tpot) on --prefill/--decode, and write it here");
  cmd->add_option("--table-rates", f->table_rates,
                  "With --emit-table: request-rate points (default: the paper's "
                  "0.5,1,2,4,6,8,10,12,16,20)")
      ->delimiter(',');
  cmd->callback([f, exit_code] {
    const Status status = run_sweep_command(*f);
    if (!status.ok()) std::cerr << "ppd sim sweep: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
