// `ppd sim [--config FILE] [flags]`: one simulated run per rate of a workload on a simulated
// cluster, reported exactly as `ppd bench serve` reports a measured one (table, JSON).
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/bench_workload_flags.h"
#include "ppd/cli/sim_commands.h"
#include "ppd/cli/sim_flags.h"
#include "ppd/common/file.h"
#include "ppd/kernels/kernels.h"
#include "ppd/loadgen/run_report.h"
#include "ppd/sim/chrome_trace.h"

namespace ppd::cli {
namespace {

struct SimRunFlags {
  std::string config_path;
  experiment::SimClusterFlags cluster;
  experiment::WorkloadFlags workload;
  std::vector<double> rates;
  int warmup = 0;
  double duration_s = 0;
  bool no_token_times = false;
  int template_tokens = 0;
  experiment::SloFlags slo;
  std::string json_path;
  bool with_records = false;
  std::string trace_path;
};

std::vector<std::string> node_names(const sim::ClusterOptions& c) {
  std::vector<std::string> names;
  for (int i = 0; i < c.num_prefill; ++i) names.push_back(fmt::format("prefill {}", i));
  for (int i = 0; i < c.num_decode; ++i) names.push_back(fmt::format("decode {}", i));
  return names;
}

// One simulated run, with the Chrome trace when asked.
Result<sim::SimResult> simulate(const experiment::SimSetup& setup, const workload::Workload& w, const SimRunFlags& f) {
  const sim::ClientOptions client{.num_warmup_conversations = f.warmup,
                                  .duration_s = f.duration_s,
                                  .record_token_times = !f.no_token_times,
                                  .template_tokens = f.template_tokens};
  if (f.trace_path.empty()) return sim::simulate_cluster(setup.cluster, *setup.cost, w, client);
  std::ofstream out(f.trace_path);
  if (!out) return invalid_argument("--chrome-trace: cannot write {}", f.trace_path);
  sim::ChromeTrace trace(&out, node_names(setup.cluster));
  Result<sim::SimResult> r = sim::simulate_cluster(setup.cluster, *setup.cost, w, client, &trace);
  trace.finish();
  if (!out) return data_loss("--chrome-trace: writing {} failed", f.trace_path);
  return r;
}

Result<loadgen::RunEntry> run_one(const experiment::SimSetup& setup, const SimRunFlags& f, double rate,
                                  std::string* description) {
  const loadgen::PromptText count(nullptr, f.workload.seed);
  PPD_ASSIGN_OR_RETURN(const workload::Workload w, experiment::build_workload(f.workload, rate, count));
  *description = experiment::describe_workload(f.workload, w);
  const auto start = std::chrono::steady_clock::now();
  PPD_ASSIGN_OR_RETURN(sim::SimResult r, simulate(setup, w, f));
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("ppd sim: {} at {}: {:.1f} simulated s, {} events, {} steps in {:.2f} s wall\n",
                           *description,
                           rate > 0 ? fmt::format("{:g} conversations/s", rate) : "the trace's timestamps",
                           r.simulated_s, r.num_events, r.num_steps, wall_s);
  loadgen::LoadResult load{.model = f.cluster.model,
                           .records = std::move(r.records),
                           .num_warmup_requests = r.num_warmup_requests,
                           .num_skipped_turns = r.num_skipped_turns,
                           .duration_s = r.duration_s};
  loadgen::RunEntry e =
      loadgen::make_entry(f.cluster.policy.policy.name, rate, std::move(load), experiment::to_slo(f.slo));
  e.router = r.router;
  return e;
}

nlohmann::json result_json(const SimRunFlags& f, const experiment::SimSetup& setup, const std::string& workload,
                           const std::vector<loadgen::RunEntry>& runs) {
  nlohmann::json j = {{"tool", "ppd sim"},
                      {"cost_model", setup.cost_name},
                      {"cluster", experiment::sim_flags_json(f.cluster)},
                      {"kv_blocks_per_node", setup.cluster.node.kv_cache.num_blocks},
                      {"workload", workload},
                      {"runs", nlohmann::json::array()}};
  for (const loadgen::RunEntry& e : runs) j["runs"].push_back(loadgen::to_json(e, f.with_records));
  return j;
}

Status run_sim(const SimRunFlags& f) {
  kernels::set_blas_threads(1);  // the simulator does no linear algebra: park OpenBLAS's spinning pool
  PPD_RETURN_IF_ERROR(check_rates(f.rates));
  if (!f.trace_path.empty() && f.rates.size() > 1) return invalid_argument("--chrome-trace: give one --rate with it");
  PPD_ASSIGN_OR_RETURN(const experiment::SimSetup setup, experiment::make_sim_setup(f.cluster));
  const std::vector<double> rates = f.rates.empty() ? std::vector<double>{0} : f.rates;
  std::vector<loadgen::RunEntry> runs;
  std::string description;
  for (const double rate : rates) {
    PPD_ASSIGN_OR_RETURN(loadgen::RunEntry entry, run_one(setup, f, rate, &description));
    std::cout << loadgen::format_entry(entry) << std::flush;
    runs.push_back(std::move(entry));
  }
  if (!f.json_path.empty())
    PPD_RETURN_IF_ERROR(write_file(f.json_path, result_json(f, setup, description, runs).dump(2) + "\n"));
  return Status::Ok();
}

}  // namespace

Status apply_config_file(CLI::App* cmd, const std::string& path) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    return invalid_argument("--config {}: {}", path, e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    CLI::Option* op = cmd->get_option_no_throw("--" + item.name);
    if (!item.parents.empty() || op == nullptr || item.name == "config") {
      return invalid_argument("--config {}: unknown flag \"{}\"", path, item.fullname());
    }
    if (op->count() > 0) continue;  // given on the command line: that wins
    try {
      op->add_result(item.inputs);
      op->run_callback();
    } catch (const CLI::Error& e) {
      return invalid_argument("--config {}: {}: {}", path, item.name, e.what());
    }
  }
  return Status::Ok();
}

void register_sim_run(CLI::App* sim, int* exit_code) {
  auto f = std::make_shared<SimRunFlags>();
  sim->add_option("--config", f->config_path,
                  "Read flags from a TOML file: one `flag = value` per line, flags without "
                  "the dashes (e.g. policy = \"ppd\", rate = [1, 2]); flags given too win");
  add_sim_cluster_flags(sim, &f->cluster);
  add_workload_flags(sim, &f->workload);
  sim->add_option("--rate", f->rates,
                  "Conversations per second (Poisson), one run per value, e.g. 5,10,20; omit for "
                  "a trace's own timestamps")
      ->delimiter(',');
  sim->add_option("--warmup", f->warmup, "Run the first N conversations unmeasured")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sim->add_option("--duration-s", f->duration_s,
                  "Send no turn after this many simulated seconds (0: the whole workload)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sim->add_flag("--no-token-times", f->no_token_times, "Keep no per-token times (no ITL): less memory on long runs");
  add_template_tokens_flag(sim, &f->template_tokens);
  add_slo_flags(sim, &f->slo);
  sim->add_option("--json", f->json_path, "Write the results in ppd bench serve's JSON format");
  sim->add_flag("--records", f->with_records, "Put every request's record in the JSON");
  sim->add_option("--chrome-trace", f->trace_path,
                  "Write a Chrome trace (chrome://tracing, Perfetto) of the run's steps and "
                  "KV pulls");
  sim->callback([sim, f, exit_code] {
    if (!sim->get_subcommands().empty()) return;  // a subcommand ran instead
    Status status = f->config_path.empty() ? Status::Ok() : apply_config_file(sim, f->config_path);
    if (status.ok()) status = run_sim(*f);
    if (!status.ok()) std::cerr << "ppd sim: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
