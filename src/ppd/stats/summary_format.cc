// The JSON and text forms of a RunSummary.
#include "ppd/stats/summary.h"

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace ppd::stats {
namespace {

struct Column {
  std::string_view name;
  int width;
  int precision;
};

constexpr int kGroupWidth = 8;
constexpr std::array<Column, 17> kColumns = {{
    {"reqs", 7, 0},
    {"ok%", 7, 1},
    {"ttft_mean", 10, 2},
    {"ttft_p50", 10, 2},
    {"ttft_p90", 10, 2},
    {"ttft_p99", 10, 2},
    {"tpot_mean", 10, 2},
    {"tpot_p50", 10, 2},
    {"tpot_p90", 10, 2},
    {"tpot_p99", 10, 2},
    {"itl_p50", 10, 2},
    {"itl_p99", 10, 2},
    {"e2e_mean", 10, 2},
    {"e2e_p99", 10, 2},
    {"slo%", 7, 1},
    {"goodput", 9, 2},
    {"out_tok/s", 10, 1},
}};
constexpr size_t kNumColumns = kColumns.size();

// The row's values in kColumns order.
std::array<double, kNumColumns> row_values(const GroupSummary& g) {
  return {static_cast<double>(g.num_requests),
          g.success_rate * 100,
          g.ttft_ms.mean,
          g.ttft_ms.p50,
          g.ttft_ms.p90,
          g.ttft_ms.p99,
          g.tpot_ms.mean,
          g.tpot_ms.p50,
          g.tpot_ms.p90,
          g.tpot_ms.p99,
          g.itl_ms.p50,
          g.itl_ms.p99,
          g.e2e_ms.mean,
          g.e2e_ms.p99,
          g.slo_attainment * 100,
          g.goodput_rps,
          g.output_throughput_tps};
}

std::string format_row(std::string_view group, const GroupSummary& g) {
  std::string line = fmt::format("{:<{}}", group, kGroupWidth);
  const auto values = row_values(g);
  for (size_t i = 0; i < kNumColumns; ++i) {
    line += fmt::format("{:>{}.{}f}", values[i], kColumns[i].width, kColumns[i].precision);
  }
  return line + "\n";
}

std::string format_header() {
  std::string line = fmt::format("{:<{}}", "group", kGroupWidth);
  for (size_t i = 0; i < kNumColumns; ++i) line += fmt::format("{:>{}}", kColumns[i].name, kColumns[i].width);
  return line + "\n";
}

std::string format_limit(std::string_view name, double limit_ms) {
  if (limit_ms <= 0) return fmt::format("{} not set", name);
  return fmt::format("{} <= {:g} ms", name, limit_ms);
}

}  // namespace

nlohmann::json to_json(const Stats& s) {
  return nlohmann::json{{"count", s.count}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90},
                        {"p99", s.p99},     {"min", s.min},   {"max", s.max}};
}

nlohmann::json to_json(const GroupSummary& g) {
  return nlohmann::json{{"num_requests", g.num_requests},
                        {"num_ok", g.num_ok},
                        {"num_failed", g.num_failed},
                        {"success_rate", g.success_rate},
                        {"ttft_ms", to_json(g.ttft_ms)},
                        {"tpot_ms", to_json(g.tpot_ms)},
                        {"itl_ms", to_json(g.itl_ms)},
                        {"e2e_ms", to_json(g.e2e_ms)},
                        {"num_good", g.num_good},
                        {"slo_attainment", g.slo_attainment},
                        {"goodput_rps", g.goodput_rps},
                        {"request_throughput_rps", g.request_throughput_rps},
                        {"output_throughput_tps", g.output_throughput_tps},
                        {"total_throughput_tps", g.total_throughput_tps},
                        {"prompt_tokens", g.prompt_tokens},
                        {"output_tokens", g.output_tokens},
                        {"cached_tokens", g.cached_tokens}};
}

nlohmann::json to_json(const RunSummary& s) {
  return nlohmann::json{{"duration_s", s.duration_s},
                        {"slo", {{"ttft_ms", s.slo.ttft_ms}, {"tpot_ms", s.slo.tpot_ms}, {"e2e_ms", s.slo.e2e_ms}}},
                        {"all", to_json(s.all)},
                        {"turn1", to_json(s.turn1)},
                        {"turn2plus", to_json(s.turn2plus)}};
}

std::string format_summary_table(const RunSummary& s) {
  std::string text = fmt::format("duration {:.2f} s; SLO: {}, {}, {}; latencies in ms, goodput in req/s\n",
                                 s.duration_s, format_limit("ttft", s.slo.ttft_ms), format_limit("tpot", s.slo.tpot_ms),
                                 format_limit("e2e", s.slo.e2e_ms));
  text += format_header();
  text += format_row("turn 1", s.turn1);
  text += format_row("turn 2+", s.turn2plus);
  text += format_row("all", s.all);
  return text;
}

}  // namespace ppd::stats
