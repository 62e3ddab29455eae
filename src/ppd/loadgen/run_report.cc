#include "ppd/loadgen/run_report.h"

#include <iostream>
#include <map>

#include <fmt/format.h>

namespace ppd::loadgen {
namespace {

std::string rate_text(double rate) { return rate > 0 ? fmt::format("{:g} conv/s", rate) : "trace timestamps"; }

std::string router_line(const stats::RouterCounters& c) {
  const double decisions = c.local_decisions + c.remote_decisions;
  return fmt::format(
      "router: {} local / {} remote decisions ({:.1f}% local), KV moved {:.1f} MB, prefix-hit tokens "
      "{:.0f} local / {:.0f} remote, {:.0f} retries\n",
      c.local_decisions, c.remote_decisions, decisions > 0 ? 100 * c.local_decisions / decisions : 0.0,
      c.kv_transfer_bytes / 1e6, c.prefix_hit_tokens_local, c.prefix_hit_tokens_remote, c.retries);
}

// A value of one panel from a group summary.
using Pick = double (*)(const stats::RunSummary&);

struct Panel {
  std::string_view png_name;
  std::string_view ylabel;
  Pick pick;
};

constexpr Panel kPanels[] = {
    {"turn2_ttft_mean.png", "turn 2+ TTFT mean (ms)",
     [](const stats::RunSummary& s) { return s.turn2plus.ttft_ms.mean; }},
    {"turn2_ttft_p99.png", "turn 2+ TTFT p99 (ms)", [](const stats::RunSummary& s) { return s.turn2plus.ttft_ms.p99; }},
    {"turn2_tpot_mean.png", "turn 2+ TPOT mean (ms)",
     [](const stats::RunSummary& s) { return s.turn2plus.tpot_ms.mean; }},
    {"turn2_tpot_p99.png", "turn 2+ TPOT p99 (ms)", [](const stats::RunSummary& s) { return s.turn2plus.tpot_ms.p99; }},
    {"turn1_ttft_mean.png", "turn 1 TTFT mean (ms)", [](const stats::RunSummary& s) { return s.turn1.ttft_ms.mean; }},
};

std::string plot_script(const Panel& panel, const std::vector<RunEntry>& entries, const std::string& title,
                        const std::string& output_dir) {
  std::vector<std::string> labels;
  std::map<std::string, std::vector<std::pair<double, double>>> points;
  for (const RunEntry& e : entries) {
    if (e.rate <= 0) continue;
    if (!points.contains(e.label)) labels.push_back(e.label);
    points[e.label].emplace_back(e.rate, panel.pick(e.summary));
  }
  std::string s = fmt::format(
      "set terminal pngcairo size 800,500 noenhanced\nset output '{}/{}'\nset title '{}'\nset xlabel "
      "'conversations/s'\n"
      "set ylabel '{}'\nset key top left\nset grid\n",
      output_dir, panel.png_name, title, panel.ylabel);
  std::string plot = "plot ";
  for (size_t i = 0; i < labels.size(); ++i) {
    plot += fmt::format("{}'-' using 1:2 with linespoints title '{}'", i ? ", " : "", labels[i]);
  }
  s += plot + "\n";
  for (const std::string& label : labels) {
    for (const auto& [x, y] : points[label]) s += fmt::format("{} {}\n", x, y);
    s += "e\n";
  }
  return s;
}

}  // namespace

RunEntry make_entry(std::string label, double rate, LoadResult load, const stats::Slo& slo) {
  RunEntry e{.label = std::move(label), .rate = rate, .load = std::move(load)};
  e.summary = stats::summarize(e.load.records, std::max(e.load.duration_s, 1e-9), slo);
  return e;
}

Result<RunEntry> run_and_measure(const Endpoint& endpoint, const workload::Workload& w, const PromptText& text,
                                 const LoadOptions& options, const RunLabel& label) {
  const std::optional<stats::RouterCounters> before = fetch_router_counters(endpoint);
  PPD_ASSIGN_OR_RETURN(LoadResult load, run_load(endpoint, w, text, options, std::cerr));
  const std::optional<stats::RouterCounters> after = fetch_router_counters(endpoint);
  RunEntry entry = make_entry(label.label, label.rate, std::move(load), label.slo);
  if (before && after) entry.router = stats::difference(*after, *before);
  return entry;
}

std::string format_entry(const RunEntry& e) {
  std::string s =
      fmt::format("== {} at {}: {} requests measured over {:.1f} s, model {}{}\n", e.label, rate_text(e.rate),
                  e.load.records.size(), e.load.duration_s, e.load.model, e.load.interrupted ? " (interrupted)" : "");
  s += stats::format_summary_table(e.summary);
  s += fmt::format("turns skipped: {}; warm-up requests not measured: {}\n", e.load.num_skipped_turns,
                   e.load.num_warmup_requests);
  if (e.router) s += router_line(*e.router);
  return s;
}

nlohmann::json to_json(const RunEntry& e, bool with_records) {
  nlohmann::json j = {{"label", e.label},
                      {"rate", e.rate},
                      {"repeat", e.repeat},
                      {"model", e.load.model},
                      {"interrupted", e.load.interrupted},
                      {"num_skipped_turns", e.load.num_skipped_turns},
                      {"num_warmup_requests", e.load.num_warmup_requests},
                      {"summary", stats::to_json(e.summary)},
                      {"router", e.router ? stats::to_json(*e.router) : nlohmann::json(nullptr)}};
  if (with_records) {
    nlohmann::json records = nlohmann::json::array();
    for (const stats::RequestRecord& r : e.load.records) records.push_back(stats::to_json(r));
    j["records"] = std::move(records);
  }
  return j;
}

std::vector<PlotScript> latency_plots(const std::vector<RunEntry>& entries, const std::string& title,
                                      const std::string& output_dir) {
  std::vector<PlotScript> plots;
  for (const Panel& panel : kPanels) {
    plots.push_back({std::string(panel.png_name), plot_script(panel, entries, title, output_dir)});
  }
  return plots;
}

}  // namespace ppd::loadgen
