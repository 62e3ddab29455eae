// `ppd bench router`: what the router costs, in three parts. (1) Decision time: every routing
// policy on an in-process ClusterView (8 nodes, 10,000 cached conversations) against the prefix
// lookup alone, which every policy does (target: ppd p99 < 50 µs). (2) Added latency: a mixed node
// and a router as child processes; /generate on the node against /v1/completions through the
// router, alternating (target < 1 ms). (3) Concurrent SSE streams through the router, with its
// RSS and threads before and during. Not thread-safe; one run at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::microbench {

// Prompt tokens of every request the served parts send (added latency, streams).
inline constexpr int kRouterBenchPromptTokens = 16;

struct RouterBenchOptions {
  std::string model = "tiny";      // model directory or preset the children serve
  int num_decisions = 100'000;     // part 1: routed requests per policy; [1, 10'000'000]
  int num_requests = 500;          // part 2: A/B pairs; [1, 1'000'000]
  int num_streams = 1000;          // part 3: concurrent SSE streams; [1, 100'000]
  uint32_t seed = 1;               // conversations, requests and prompts
  int num_conversations = 10'000;  // part 1: cached conversations; >= 1
  int stream_max_tokens = 256;     // part 3: output tokens per stream; >= 1
};

// Nearest-rank percentile: the smallest sample with at least q of the samples at or below it.
// REQUIRES: !v.empty(), q in [0, 1]. Pure.
double percentile(std::vector<double> v, double q);

struct LatencySummary {
  int64_t count = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};
// Returns the summary of `samples_us` (all zero when empty). Pure.
LatencySummary summarize(std::vector<double> samples_us);

// The fields of /proc/<pid>/status the bench reads.
struct ProcStatus {
  int64_t vm_rss_kib = 0;
  int64_t vm_hwm_kib = 0;
  int num_threads = 0;
};
// Parses VmRSS, VmHWM and Threads out of a /proc/<pid>/status text; INVALID_ARGUMENT naming
// the first missing field. Pure.
Result<ProcStatus> parse_proc_status(std::string_view text);
// Reads /proc/<pid>/status; UNAVAILABLE naming the path when it cannot be read.
Result<ProcStatus> read_proc_status(pid_t pid);

// ---- Part 1: decision time -----------------------------------------------------------------

struct DecisionRow {
  std::string policy;
  LatencySummary route;
  double ratio_p50 = 0;       // route p50 / lookup p50
  double ratio_p99 = 0;       // route p99 / lookup p99
  double local_fraction = 0;  // of the decisions, how many took the local path
};

struct DecisionReport {
  int num_prefill = 0;
  int num_decode = 0;
  int num_conversations = 0;
  int64_t num_cached_hashes = 0;  // distinct block hashes in the prefix index
  double mean_prompt_blocks = 0;  // full blocks per routed prompt
  LatencySummary lookup;          // ClusterView::cached_blocks alone, the baseline
  std::vector<DecisionRow> rows;  // pd, local, threshold, table, ppd
};

Result<DecisionReport> run_decision_bench(const RouterBenchOptions& options, std::ostream& log);

// ---- Parts 2 and 3: a router and a node as child processes ---------------------------------

// Where the children serve, once both are ready.
struct ServingTarget {
  std::string host = "127.0.0.1";
  uint16_t node_port = 0;
  uint16_t router_port = 0;
  pid_t router_pid = -1;
  std::string served_model;  // the router's model= ready-line field
  int vocab_size = 0;        // from the node's /health
};

struct LatencyReport {
  LatencySummary direct;         // A: POST /generate on the node
  LatencySummary via_router;     // B: POST /v1/completions on the router
  LatencySummary added;          // per-pair B - A
  double p99_difference_us = 0;  // p99(B) - p99(A)
};

struct StreamReport {
  int num_streams = 0;
  int num_ok = 0;  // 200, no error event, a final "data: [DONE]"
  int num_failed = 0;
  std::string first_error;      // of the failed ones, the first
  int max_in_flight = 0;        // streams open at once, at the samples
  int max_with_first_data = 0;  // open streams that had received data, at the samples
  int node_max_running = 0;     // from the node's /health during the streams
  int node_max_waiting = 0;
  int node_max_num_running = 0;  // the node's scheduler limit (its default)
  double duration_s = 0;
  ProcStatus before;          // the router, before the streams
  ProcStatus peak;            // the router, max VmRSS and Threads sampled during them
  int64_t hwm_after_kib = 0;  // the router's VmHWM once they ended
  uint64_t fd_limit = 0;      // RLIMIT_NOFILE of the bench and its children
};

struct ServingReport {
  std::string log_dir;  // the children's stderr logs
  int kv_cache_mib = 0;
  int router_admission_limit = 0;  // its --max-active-requests and --max-waiting-per-node
  LatencyReport latency;
  StreamReport streams;
};

// Starts the node and the router, runs parts 2 and 3, stops both (also on an error).
Result<ServingReport> run_serving_bench(const RouterBenchOptions& options, std::ostream& log);
// Part 2 and part 3 against running children (bench_router_serve.cc, bench_router_streams.cc).
Result<LatencyReport> run_latency_bench(const ServingTarget& target, const RouterBenchOptions& options,
                                        std::ostream& log);
Result<StreamReport> run_stream_bench(const ServingTarget& target, const RouterBenchOptions& options,
                                      std::ostream& log);

// ---- Report ---------------------------------------------------------------------------------

inline constexpr double kDecisionTargetP99Us = 50;
inline constexpr double kAddedLatencyTargetUs = 1000;

std::string format_router_bench(const DecisionReport& decision, const ServingReport& serving,
                                const RouterBenchOptions& options, const std::string& machine);
std::string router_bench_json(const DecisionReport& decision, const ServingReport& serving,
                              const RouterBenchOptions& options, const std::string& machine);

// Adds `router` to the `ppd bench` command.

}  // namespace ppd::microbench
