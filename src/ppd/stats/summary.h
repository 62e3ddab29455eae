// RunSummary: the metrics of one benchmark run, computed from its RequestRecords by one
// function for server, bench and simulator alike. Definitions follow vLLM's benchmark_serving:
// TTFT = send -> first token, E2E = send -> end, TPOT = (E2E - TTFT) / (output_tokens - 1),
// ITL = every gap between consecutive chunk arrivals; failed requests are left out of the
// latency stats but count in the success rate and the SLO-attainment denominator.
// Pure functions of their arguments: no clocks, no threads, no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/stats/request_record.h"
#include "ppd/stats/stats.h"

namespace ppd::stats {

// Latency service-level objectives in milliseconds; 0: not set.
struct Slo {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double e2e_ms = 0;
};

struct GroupSummary {
  int64_t num_requests = 0, num_ok = 0, num_failed = 0;
  double success_rate = 0;                                          // num_ok / num_requests (0 when none)
  Stats ttft_ms, tpot_ms, itl_ms, e2e_ms;                           // milliseconds, successful requests only
  int64_t num_good = 0;                                             // succeeded and met every SLO
  double slo_attainment = 0;                                        // num_good / num_requests (0 when none)
  double goodput_rps = 0;                                           // num_good / duration_s
  double request_throughput_rps = 0;                                // num_ok / duration_s
  double output_throughput_tps = 0;                                 // output_tokens / duration_s
  double total_throughput_tps = 0;                                  // (prompt_tokens + output_tokens) / duration_s
  int64_t prompt_tokens = 0, output_tokens = 0, cached_tokens = 0;  // sums over successful requests
};

struct RunSummary {
  double duration_s = 0;
  Slo slo;
  GroupSummary all;        // every record
  GroupSummary turn1;      // turn < 2 (the first turn of a conversation)
  GroupSummary turn2plus;  // turn >= 2
};

// Returns the summary of `records` over a run of `duration_s` seconds.
// Edge cases: a successful record without a first token (first_token_s < 0) has no TTFT,
// TPOT or ITL, but its E2E counts; a record with <= 1 output token has no TPOT.
// REQUIRES: duration_s > 0 (otherwise every rate is 0).
RunSummary summarize(const std::vector<RequestRecord>& records, double duration_s, const Slo& slo);

// Whether a successful record meets every set SLO; false for a failed record. TPOT of a
// record with <= 1 output token counts as 0 (as in vLLM); a record without a first token
// is held to the TTFT SLO with its E2E, the time its (empty) answer took.
bool meets_slo(const RequestRecord& r, const Slo& slo);

// The record's TTFT in seconds, or nullopt for a failed record or one without a first token.
std::optional<double> ttft_s(const RequestRecord& r);
// The record's TPOT in seconds, or nullopt for a failed record, one with <= 1 output token
// or one without a first token.
std::optional<double> tpot_s(const RequestRecord& r);
// The record's E2E latency in seconds, or nullopt for a failed record.
std::optional<double> e2e_s(const RequestRecord& r);

nlohmann::json to_json(const Stats& s);         // keys: count, mean, p50, p90, p99, min, max
nlohmann::json to_json(const GroupSummary& g);  // every field under its member name
nlohmann::json to_json(const RunSummary& s);    // keys: duration_s, slo{ttft_ms,tpot_ms,e2e_ms}, all, turn1, turn2plus

// A fixed-width text table: a line with the duration and the SLOs, a header, then one row
// per group (turn 1, turn 2+, all) with requests, ok %, TTFT mean/p50/p90/p99, TPOT
// mean/p50/p90/p99, ITL p50/p99, E2E mean/p99 (ms), SLO attainment %, goodput req/s and
// output tok/s. Returns the text; every line ends with '\n'.
std::string format_summary_table(const RunSummary& s);

}  // namespace ppd::stats
