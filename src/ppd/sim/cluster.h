// The cluster simulation: prefill and decode SimNodes, one SharedLink into each decode node
// (every KV pull into that node shares it), the SimRouter with the real policy, and the
// SimClient replaying a workload, driven by one EventQueue. A request runs as it does on the
// real system:
//   local path:  the decode node admits it, append-prefills what its prefix cache lacks and
//                decodes;
//   remote path: the prefill node computes the prompt and samples the first token, holding
//                the blocks; the decode node reserves blocks (its cached prefix under delta
//                transfer), pulls the rest over its link, then decodes from the first token,
//                which reaches the client when the pull ends; the prefill node then unpins.
// Nodes send KV events after every step and load reports (with their step samples) every
// load_report_ns; both reach the router message_delay_ns later. Deterministic: the result
// is a pure function of the options, the cost model and the workload.
#pragma once

#include <cstdint>
#include <vector>

#include "ppd/routing/policies.h"
#include "ppd/sim/shared_link.h"
#include "ppd/sim/sim_client.h"
#include "ppd/sim/sim_node.h"
#include "ppd/sim/sim_router.h"
#include "ppd/stats/request_record.h"
#include "ppd/workload/workload.h"

namespace ppd::sim {

struct ClusterOptions {
  int num_prefill = 1;      // >= 0
  int num_decode = 1;       // >= 1
  SimNodeOptions node;      // every node's scheduler, KV cache and vocabulary
  LinkOptions link;         // each decode node's ingress link
  int64_t block_bytes = 0;  // KV bytes of one block, all layers; >= 1
  routing::PolicyOptions policy;
  routing::StepTimeModelOptions step_model;  // the router's prior for every node
  int max_model_len = 0;                     // told to the router as the nodes' limit; 0: none
  int64_t load_report_ns = 100'000'000;      // period of each node's load report; >= 1
  int64_t message_delay_ns = 1'000'000;      // node -> router delay of KV events and load reports; >= 0
  int64_t rate_window_ns = 10'000'000'000;   // the router's request-rate window; >= 1
};

Status validate_cluster_options(const ClusterOptions& o);

// The routing decision of a measured request that succeeded: its path and, when the policy
// predicted its paths (ppd), the prediction for the path chosen against what the request then
// took. Seconds.
struct DecisionRecord {
  int turn = 1;
  routing::Path path = routing::Path::kRemote;
  bool predicted = false;
  double predicted_ttft_s = 0;
  double predicted_tpot_s = 0;
  double ttft_s = 0;
  double tpot_s = -1;  // -1: one output token, no TPOT
};

// What the simulation saw, in the load generator's terms (see loadgen::LoadResult).
struct SimResult {
  std::vector<stats::RequestRecord> records;  // measured requests, in completion order
  int64_t num_warmup_requests = 0;
  int64_t num_skipped_turns = 0;
  double duration_s = 0;                  // first measured send to last measured end
  stats::RouterCounters router;           // retries stay 0: a simulated request does not fail over
  std::vector<DecisionRecord> decisions;  // in completion order
  int64_t num_events = 0;                 // events processed
  int64_t num_steps = 0;                  // engine steps over all nodes
  double simulated_s = 0;                 // simulated time at the end
};

// Sees every step and transfer as it ends (e.g. to write a Chrome trace). Node indices:
// prefill nodes first, then decode nodes.
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void on_step(int node, int64_t start_ns, int64_t end_ns, const StepShape& shape) = 0;
  virtual void on_transfer(int node, RequestId id, int64_t start_ns, int64_t end_ns, int64_t bytes) = 0;
};

// Runs `w` on the cluster until every conversation has ended. INVALID_ARGUMENT for bad
// options or an invalid workload; a request that cannot be served (e.g. it never fits a
// node's KV cache) is a failed record, as on the real system. `cost` prices every node's steps.
Result<SimResult> simulate_cluster(const ClusterOptions& options, const StepCostModel& cost,
                                   const workload::Workload& w, const ClientOptions& client,
                                   SimObserver* observer = nullptr);

}  // namespace ppd::sim
