#include "ppd/stats/summary.h"

#include <utility>

namespace ppd::stats {
namespace {

constexpr double kMsPerSecond = 1000.0;

// The successful requests' latency samples of one group, in milliseconds.
struct LatencySamples {
  std::vector<double> ttft_ms, tpot_ms, itl_ms, e2e_ms;
};

void add_samples(const RequestRecord& r, LatencySamples* samples) {
  if (const auto ttft = ttft_s(r)) samples->ttft_ms.push_back(*ttft * kMsPerSecond);
  if (const auto tpot = tpot_s(r)) samples->tpot_ms.push_back(*tpot * kMsPerSecond);
  if (const auto e2e = e2e_s(r)) samples->e2e_ms.push_back(*e2e * kMsPerSecond);
  for (size_t i = 1; i < r.token_times_s.size(); ++i) {
    samples->itl_ms.push_back((r.token_times_s[i] - r.token_times_s[i - 1]) * kMsPerSecond);
  }
}

// Whether `value_s` is within `limit_ms`; a limit of 0 is not set.
bool within(double value_s, double limit_ms) { return limit_ms <= 0 || value_s * kMsPerSecond <= limit_ms; }

double ratio(double num, double den) { return den > 0 ? num / den : 0; }

void fill_rates(double duration_s, GroupSummary* g) {
  g->num_failed = g->num_requests - g->num_ok;
  const auto requests = static_cast<double>(g->num_requests);
  g->success_rate = ratio(static_cast<double>(g->num_ok), requests);
  g->slo_attainment = ratio(static_cast<double>(g->num_good), requests);
  g->goodput_rps = ratio(static_cast<double>(g->num_good), duration_s);
  g->request_throughput_rps = ratio(static_cast<double>(g->num_ok), duration_s);
  g->output_throughput_tps = ratio(static_cast<double>(g->output_tokens), duration_s);
  g->total_throughput_tps = ratio(static_cast<double>(g->prompt_tokens + g->output_tokens), duration_s);
}

enum class TurnGroup { kAll, kFirst, kLater };

bool in_group(const RequestRecord& r, TurnGroup group) {
  switch (group) {
    case TurnGroup::kAll:
      return true;
    case TurnGroup::kFirst:
      return r.turn < 2;
    case TurnGroup::kLater:
      return r.turn >= 2;
  }
  return false;
}

GroupSummary summarize_group(const std::vector<RequestRecord>& records, TurnGroup group, double duration_s,
                             const Slo& slo) {
  GroupSummary g;
  LatencySamples samples;
  for (const RequestRecord& r : records) {
    if (!in_group(r, group)) continue;
    ++g.num_requests;
    if (!r.ok) continue;
    ++g.num_ok;
    g.prompt_tokens += r.prompt_tokens;
    g.output_tokens += r.output_tokens;
    g.cached_tokens += r.cached_tokens;
    if (meets_slo(r, slo)) ++g.num_good;
    add_samples(r, &samples);
  }
  fill_rates(duration_s, &g);
  g.ttft_ms = compute_stats(std::move(samples.ttft_ms));
  g.tpot_ms = compute_stats(std::move(samples.tpot_ms));
  g.itl_ms = compute_stats(std::move(samples.itl_ms));
  g.e2e_ms = compute_stats(std::move(samples.e2e_ms));
  return g;
}

}  // namespace

std::optional<double> ttft_s(const RequestRecord& r) {
  if (!r.ok || r.first_token_s < 0) return std::nullopt;
  return r.first_token_s - r.send_s;
}

std::optional<double> tpot_s(const RequestRecord& r) {
  if (!r.ok || r.first_token_s < 0 || r.output_tokens <= 1) return std::nullopt;
  return (r.end_s - r.first_token_s) / static_cast<double>(r.output_tokens - 1);
}

std::optional<double> e2e_s(const RequestRecord& r) {
  if (!r.ok) return std::nullopt;
  return r.end_s - r.send_s;
}

bool meets_slo(const RequestRecord& r, const Slo& slo) {
  if (!r.ok) return false;
  const double e2e = r.end_s - r.send_s;
  return within(ttft_s(r).value_or(e2e), slo.ttft_ms) && within(tpot_s(r).value_or(0), slo.tpot_ms) &&
         within(e2e, slo.e2e_ms);
}

RunSummary summarize(const std::vector<RequestRecord>& records, double duration_s, const Slo& slo) {
  RunSummary s;
  s.duration_s = duration_s;
  s.slo = slo;
  s.all = summarize_group(records, TurnGroup::kAll, duration_s, slo);
  s.turn1 = summarize_group(records, TurnGroup::kFirst, duration_s, slo);
  s.turn2plus = summarize_group(records, TurnGroup::kLater, duration_s, slo);
  return s;
}

}  // namespace ppd::stats
