// `ppd bench serve`: the load generator against any OpenAI-compatible endpoint, one run per
// rate, a table per run on stdout, optionally JSON and plots.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "ppd/cli/bench_serve.h"
#include "ppd/cli/bench_workload_flags.h"
#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"
#include "ppd/launch/child_process.h"
#include "ppd/loadgen/router_stats.h"

namespace ppd::cli {
namespace {

struct ServeFlags {
  std::string endpoint;
  std::string tokenizer_dir;
  std::vector<double> rates;
  std::string label = "endpoint";
  std::string json_path;
  bool with_records = false;
  std::string plot_dir;
  experiment::WorkloadFlags workload;
  loadgen::LoadOptions load;
  experiment::SloFlags slo;
};

Result<std::optional<tokenizer::Tokenizer>> load_tokenizer(const std::string& dir) {
  if (dir.empty()) return std::optional<tokenizer::Tokenizer>();
  PPD_ASSIGN_OR_RETURN(tokenizer::Tokenizer t, tokenizer::Tokenizer::load(dir));
  return std::optional<tokenizer::Tokenizer>(std::move(t));
}

nlohmann::json serve_json(const ServeFlags& f, const std::string& workload,
                          const std::vector<loadgen::RunEntry>& runs) {
  nlohmann::json j = {{"tool", "ppd bench serve"},
                      {"machine", describe_machine()},
                      {"endpoint", f.endpoint},
                      {"workload", workload},
                      {"runs", nlohmann::json::array()}};
  for (const loadgen::RunEntry& e : runs) j["runs"].push_back(loadgen::to_json(e, f.with_records));
  return j;
}

// One rate: its workload, the run, the router's share of counters.
Result<loadgen::RunEntry> run_one(const ServeFlags& f, const loadgen::Endpoint& endpoint, double rate,
                                  const loadgen::PromptText& text, std::string* description) {
  PPD_ASSIGN_OR_RETURN(const workload::Workload w, experiment::build_workload(f.workload, rate, text));
  *description = experiment::describe_workload(f.workload, w);
  std::cerr << fmt::format("ppd bench serve: {} at {}\n", *description,
                           rate > 0 ? fmt::format("{:g} conversations/s", rate) : "the trace's timestamps");
  return loadgen::run_and_measure(endpoint, w, text, f.load,
                                  {.label = f.label, .rate = rate, .slo = experiment::to_slo(f.slo)});
}

Status run_serve(const ServeFlags& f) {
  PPD_RETURN_IF_ERROR(check_rates(f.rates));
  PPD_ASSIGN_OR_RETURN(const loadgen::Endpoint endpoint, loadgen::parse_endpoint(f.endpoint));
  PPD_RETURN_IF_ERROR(loadgen::probe_endpoint(endpoint, f.load).status());
  PPD_ASSIGN_OR_RETURN(const std::optional<tokenizer::Tokenizer> tok, load_tokenizer(f.tokenizer_dir));
  const loadgen::PromptText text(tok ? &*tok : nullptr, f.workload.seed);
  std::vector<double> rates = f.rates.empty() ? std::vector<double>{0} : f.rates;
  std::vector<loadgen::RunEntry> runs;
  std::string description;
  for (const double rate : rates) {
    PPD_ASSIGN_OR_RETURN(loadgen::RunEntry entry, run_one(f, endpoint, rate, text, &description));
    std::cout << loadgen::format_entry(entry) << std::flush;
    const bool interrupted = entry.load.interrupted;
    runs.push_back(std::move(entry));
    if (!f.json_path.empty())
      PPD_RETURN_IF_ERROR(write_file(f.json_path, serve_json(f, description, runs).dump(2) + "\n"));
    if (interrupted) break;
  }
  if (!f.plot_dir.empty()) {
    std::filesystem::create_directories(f.plot_dir);
    const Result<std::vector<std::string>> drawn =
        render_plots(loadgen::latency_plots(runs, "ppd bench serve: " + f.endpoint, f.plot_dir), f.plot_dir);
    if (!drawn.ok()) std::cerr << "ppd bench serve: plots: " << drawn.status().message() << "\n";
  }
  return Status::Ok();
}

Status run_gnuplot(const std::string& script_path) {
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<launch::ChildProcess> gnuplot,
                       launch::ChildProcess::spawn({.argv = {"/usr/bin/gnuplot", script_path},
                                                    .stderr_path = script_path + ".log",
                                                    .new_process_group = false}));
  for (int waited_ms = 0; waited_ms < 60'000; waited_ms += 20) {
    if (const std::optional<int> status = gnuplot->poll_exit()) {
      if (*status == 0) {
        std::error_code ignored;
        if (std::filesystem::file_size(script_path + ".log", ignored) == 0)
          std::filesystem::remove(script_path + ".log", ignored);
        return Status::Ok();
      }
      return failed_precondition("gnuplot {}: {}; see {}.log", script_path, gnuplot->exit_text(), script_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  gnuplot->kill_now();
  return failed_precondition("gnuplot {}: did not finish within 60 s", script_path);
}

}  // namespace

Status check_rates(const std::vector<double>& rates) {
  for (const double r : rates) {
    if (!(r > 0) || !std::isfinite(r)) return invalid_argument("--rate: must be > 0; got {}", r);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> render_plots(const std::vector<loadgen::PlotScript>& plots, const std::string& dir) {
  std::vector<std::string> drawn;
  for (const loadgen::PlotScript& p : plots) {
    const std::string script =
        (std::filesystem::path(dir) / (std::filesystem::path(p.png_name).stem().string() + ".gp")).string();
    PPD_RETURN_IF_ERROR(write_file(script, p.script));
    PPD_RETURN_IF_ERROR(run_gnuplot(script));
    drawn.push_back(p.png_name);
  }
  return drawn;
}

void register_bench_serve(CLI::App* bench, int* exit_code) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = bench->add_subcommand("serve",
                                        "Multi-turn load against an OpenAI-compatible endpoint: per-turn "
                                        "TTFT, TPOT, ITL, E2E, SLO attainment, goodput");
  cmd->add_option("--endpoint", f->endpoint, "Server URL, http://host:port[/v1]")->required();
  cmd->add_option("--model", f->load.model, "Model name to request (default: the first of GET /v1/models)");
  cmd->add_option("--api-key", f->load.api_key, "Sent as a Bearer token");
  cmd->add_option("--tokenizer", f->tokenizer_dir,
                  "Model directory whose tokenizer sizes the synthesized messages "
                  "exactly (default: one word = one token)");
  cmd->add_option("--rate", f->rates,
                  "Conversations per second (Poisson), one run per value, e.g. 0.5,1,2; "
                  "omit for a trace's own timestamps")
      ->delimiter(',');
  cmd->add_option("--label", f->label, "Name of this endpoint in the JSON and plots")->capture_default_str();
  cmd->add_option("--json", f->json_path, "Write the results as JSON (rewritten after every rate)");
  cmd->add_flag("--records", f->with_records, "Put every request's record in the JSON");
  cmd->add_option("--plot-dir", f->plot_dir, "Draw latency-against-rate PNGs here with gnuplot");
  add_workload_flags(cmd, &f->workload);
  add_load_flags(cmd, &f->load);
  add_slo_flags(cmd, &f->slo);
  cmd->callback([f, exit_code] {
    f->load.seed = f->workload.seed;
    const Status status = run_serve(*f);
    if (!status.ok()) std::cerr << "ppd bench serve: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
