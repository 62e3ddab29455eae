// `ppd bench compare`: for each repeat, policy and rate, starts a fresh local cluster with
// `ppd up` (so no run inherits another's prefix caches), runs the repeat's seeded workload (the
// same for every policy) through the load generator, stops the cluster; then writes
// results.json, plots and report.md (medians over the repeats, with their ranges).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/bench_workload_flags.h"
#include "ppd/common/file.h"
#include "ppd/kernels/blas_core.h"
#include "ppd/launch/up_process.h"
#include "ppd/loadgen/compare_report.h"
#include "ppd/model/model_source.h"

namespace ppd::cli {
namespace {

constexpr int64_t kClusterReadyTimeoutMs = 300'000;
constexpr int64_t kClusterStopGraceMs = 30'000;

struct CompareFlags {
  std::string model = "small";
  std::vector<std::string> policies = {"pd-full", "pd", "local", "threshold", "ppd"};
  std::vector<double> rates;
  int repeats = 1;
  int num_prefill = 1;
  int num_decode = 1;
  int num_threads = 2;
  double link_bytes_per_s = 0;
  int64_t link_latency_us = 0;
  int64_t kv_cache_mib = 1024;
  std::string out_dir = "ppd-compare";
  std::string baseline = "pd-full";
  std::string table_path;
  std::string router_flags;
  std::string node_flags;
  std::string command_line;
  experiment::WorkloadFlags workload;
  loadgen::LoadOptions load;
  experiment::SloFlags slo;
};

// The router flags of a policy label: pd-full is pd with full transfers; split-X sends a share
// X local; ppd-slo is ppd in SLO mode with the run's --slo-ttft-ms/--slo-tpot-ms; table needs --table.
Result<std::string> policy_router_flags(const CompareFlags& f, const std::string& label, std::string* policy) {
  *policy = label == "pd-full" ? "pd" : label;
  std::string flags = f.router_flags;
  if (label == "pd-full") flags += " --transfer full";
  if (label.starts_with("split-")) {
    *policy = "split";
    flags += " --split-local-share " + label.substr(6);
  }
  if (label == "ppd-slo") {
    if (f.slo.ttft_ms <= 0 && f.slo.tpot_ms <= 0) {
      return invalid_argument("--policies: ppd-slo needs --slo-ttft-ms or --slo-tpot-ms");
    }
    *policy = "ppd";
    if (f.slo.ttft_ms > 0) flags += fmt::format(" --slo-ttft-ms {}", f.slo.ttft_ms);
    if (f.slo.tpot_ms > 0) flags += fmt::format(" --slo-tpot-ms {}", f.slo.tpot_ms);
  }
  if (label == "table") {
    if (f.table_path.empty()) return invalid_argument("--policies: table needs --table FILE");
    flags += " --table " + f.table_path;
  }
  if (f.link_bytes_per_s > 0) flags += fmt::format(" --default-link-bytes-per-s {}", f.link_bytes_per_s);
  return flags;
}

// A `ppd up` cluster of the flags' shape, its router running `label`'s policy.
Result<std::unique_ptr<launch::UpProcess>> start_policy_cluster(const CompareFlags& f, const std::string& model_dir,
                                                                const std::string& label, const std::string& log_dir) {
  std::string policy;
  PPD_ASSIGN_OR_RETURN(const std::string router_flags, policy_router_flags(f, label, &policy));
  std::vector<std::string> flags = {"--model",
                                    model_dir,
                                    "--prefill",
                                    std::to_string(f.num_prefill),
                                    "--decode",
                                    std::to_string(f.num_decode),
                                    "--policy",
                                    policy,
                                    "--port",
                                    "0",
                                    "--threads",
                                    std::to_string(f.num_threads),
                                    "--kv-cache-mib",
                                    std::to_string(f.kv_cache_mib),
                                    "--link-bytes-per-s",
                                    fmt::format("{}", f.link_bytes_per_s),
                                    "--link-latency-us",
                                    std::to_string(f.link_latency_us),
                                    "--router-flags",
                                    router_flags,
                                    "--node-flags",
                                    f.node_flags};
  return launch::UpProcess::start({.up_flags = std::move(flags),
                                   .log_dir = log_dir,
                                   .ready_timeout_ms = kClusterReadyTimeoutMs,
                                   .stop_grace_ms = kClusterStopGraceMs});
}

// One run: repeat `repeat` draws its workload with seed --seed + repeat.
Result<loadgen::RunEntry> run_point(const CompareFlags& f, const std::string& model_dir, const std::string& label,
                                    double rate, int repeat, const tokenizer::Tokenizer& tok,
                                    std::string* workload_text) {
  experiment::WorkloadFlags workload = f.workload;
  workload.seed += static_cast<uint64_t>(repeat);
  loadgen::LoadOptions load = f.load;
  load.seed = workload.seed;
  const loadgen::PromptText text(&tok, workload.seed);
  PPD_ASSIGN_OR_RETURN(const workload::Workload w, experiment::build_workload(workload, rate, text));
  *workload_text = experiment::describe_workload(f.workload, w);
  const std::string log_dir = fmt::format("{}/logs/{}-rate{:g}-repeat{}", f.out_dir, label, rate, repeat);
  std::cerr << fmt::format(
      "ppd bench compare: {} at {:g} conversations/s, repeat {} of {} (seed {}; {}); cluster logs in "
      "{}\n",
      label, rate, repeat + 1, f.repeats, workload.seed, *workload_text, log_dir);
  PPD_ASSIGN_OR_RETURN(const std::unique_ptr<launch::UpProcess> cluster,
                       start_policy_cluster(f, model_dir, label, log_dir));
  PPD_ASSIGN_OR_RETURN(const loadgen::Endpoint endpoint, loadgen::parse_endpoint("http://" + cluster->http_address()));
  PPD_ASSIGN_OR_RETURN(loadgen::RunEntry entry,
                       loadgen::run_and_measure(endpoint, w, text, load,
                                                {.label = label, .rate = rate, .slo = experiment::to_slo(f.slo)}));
  entry.repeat = repeat;
  return entry;
}

std::string slo_text(const experiment::SloFlags& s) {
  std::string out;
  if (s.ttft_ms > 0) out += fmt::format("TTFT <= {:g} ms", s.ttft_ms);
  if (s.tpot_ms > 0) out += fmt::format("{}TPOT <= {:g} ms", out.empty() ? "" : " and ", s.tpot_ms);
  if (s.e2e_ms > 0) out += fmt::format("{}E2E <= {:g} ms", out.empty() ? "" : " and ", s.e2e_ms);
  return out.empty() ? "none" : out;
}

std::string cluster_text(const CompareFlags& f, const std::string& model_dir) {
  return fmt::format(
      "{} prefill + {} decode nodes, model {} ({}), {} threads in all, KV cache {} MiB per node, "
      "emulated link {}",
      f.num_prefill, f.num_decode, f.model, model_dir, f.num_threads, f.kv_cache_mib,
      f.link_bytes_per_s > 0 ? fmt::format("{:.1f} MB/s + {} us per pull", f.link_bytes_per_s / 1e6, f.link_latency_us)
                             : "off (loopback TCP)");
}

Status write_outputs(const CompareFlags& f, const std::string& model_dir, const std::string& workload_text,
                     const std::vector<loadgen::RunEntry>& runs, bool final_pass) {
  nlohmann::json j = {{"tool", "ppd bench compare"},
                      {"machine", kernels::describe_machine_and_blas()},
                      {"cluster", cluster_text(f, model_dir)},
                      {"workload", workload_text},
                      {"command", f.command_line},
                      {"runs", nlohmann::json::array()}};
  for (const loadgen::RunEntry& e : runs) j["runs"].push_back(loadgen::to_json(e, false));
  PPD_RETURN_IF_ERROR(write_file(f.out_dir + "/results.json", j.dump(2) + "\n"));
  loadgen::CompareContext context{.title = "ppd bench compare: routing policies on a local cluster",
                                  .machine = kernels::describe_machine_and_blas(),
                                  .cluster = cluster_text(f, model_dir),
                                  .workload = workload_text,
                                  .command = f.command_line,
                                  .slo = slo_text(f.slo),
                                  .baseline = f.baseline};
  if (final_pass) {
    const Result<std::vector<std::string>> drawn = render_plots(
        loadgen::latency_plots(loadgen::median_entries(runs), "turn latency by policy (medians)", f.out_dir),
        f.out_dir);
    if (drawn.ok()) context.plots = *drawn;
    if (!drawn.ok()) std::cerr << "ppd bench compare: plots: " << drawn.status().message() << "\n";
  }
  return write_file(f.out_dir + "/report.md", loadgen::compare_markdown(runs, context));
}

Status run_compare(const CompareFlags& f) {
  if (f.rates.empty()) return invalid_argument("--rate: give at least one rate");
  PPD_RETURN_IF_ERROR(check_rates(f.rates));
  PPD_ASSIGN_OR_RETURN(const std::string model_dir, model::resolve_model_arg(f.model));
  PPD_ASSIGN_OR_RETURN(const tokenizer::Tokenizer tok, tokenizer::Tokenizer::load(model_dir));
  for (const std::string& label : f.policies) {
    std::string policy;
    PPD_RETURN_IF_ERROR(policy_router_flags(f, label, &policy).status());  // every label is sound before a long run
  }
  std::filesystem::create_directories(f.out_dir);
  std::vector<loadgen::RunEntry> runs;
  std::string workload_text;
  // Repeats outermost: a drift of the machine's speed reaches every policy alike.
  for (int repeat = 0; repeat < f.repeats; ++repeat) {
    for (const std::string& label : f.policies) {
      for (const double rate : f.rates) {
        PPD_ASSIGN_OR_RETURN(loadgen::RunEntry entry,
                             run_point(f, model_dir, label, rate, repeat, tok, &workload_text));
        std::cout << loadgen::format_entry(entry) << std::flush;
        const bool interrupted = entry.load.interrupted;
        runs.push_back(std::move(entry));
        PPD_RETURN_IF_ERROR(write_outputs(f, model_dir, workload_text, runs, /*final_pass=*/interrupted));
        if (interrupted) return Status::Ok();
      }
    }
  }
  PPD_RETURN_IF_ERROR(write_outputs(f, model_dir, workload_text, runs, /*final_pass=*/true));
  std::cerr << fmt::format("ppd bench compare: wrote {}/report.md and {}/results.json\n", f.out_dir, f.out_dir);
  return Status::Ok();
}

}  // namespace

void register_bench_compare(CLI::App* bench, int* exit_code) {
  auto f = std::make_shared<CompareFlags>();
  f->num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App* cmd = bench->add_subcommand("compare",
                                        "Run one seeded workload on a local cluster under each routing "
                                        "policy and rate; write a Markdown report, JSON and plots");
  cmd->add_option("--model", f->model, "Model directory or preset of the cluster")->capture_default_str();
  cmd->add_option("--policies", f->policies,
                  "Policies in order: pd-full (pd with full KV transfer), pd (delta "
                  "transfer), local, split-X (a share X of turn 2+ local), threshold, "
                  "table, ppd, ppd-slo (ppd in SLO mode with --slo-ttft-ms/--slo-tpot-ms)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--repeats", f->repeats,
                  "Runs of every (policy, rate); repeat k draws its workload with seed "
                  "--seed + k, the same for every policy")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--rate", f->rates, "Conversations per second, one run per value, e.g. 0.1,0.3,0.6")
      ->delimiter(',')
      ->required();
  cmd->add_option("--prefill", f->num_prefill, "Prefill nodes")->check(CLI::Range(0, 64))->capture_default_str();
  cmd->add_option("--decode", f->num_decode, "Decode nodes")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--threads", f->num_threads, "Compute threads for all nodes together")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--link-bytes-per-s", f->link_bytes_per_s,
                  "Emulated KV link bandwidth of the decode nodes "
                  "(0: plain loopback)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency-us", f->link_latency_us, "Emulated latency per KV pull")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--kv-cache-mib", f->kv_cache_mib, "KV pool per node, MiB")
      ->check(CLI::Range(1, 1 << 22))
      ->capture_default_str();
  cmd->add_option("--out", f->out_dir, "Directory of report.md, results.json, the plots and the cluster logs")
      ->capture_default_str();
  cmd->add_option("--baseline", f->baseline, "Policy the report's ratios divide by")->capture_default_str();
  cmd->add_option("--table", f->table_path, "Lookup table JSON for the table policy");
  cmd->add_option("--router-flags", f->router_flags, "Extra router flags for every run")->capture_default_str();
  cmd->add_option("--node-flags", f->node_flags, "Extra node flags for every run")->capture_default_str();
  add_workload_flags(cmd, &f->workload);
  add_load_flags(cmd, &f->load);
  add_slo_flags(cmd, &f->slo);
  cmd->callback([f, exit_code] {
    f->load.seed = f->workload.seed;
    f->command_line = launch::self_command_line();
    const Status status = run_compare(*f);
    if (!status.ok()) std::cerr << "ppd bench compare: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
