// SimRouter: the router inside the simulator. It holds the real ClusterView and routing
// policy and keeps them as RouterService does: the windowed request rate given to the
// policy, the router's own per-node counters for every request in flight, the blocks a
// finished request leaves cached noted ahead of the node's KV events, and the KV events and
// load reports (with their step samples) applied when they arrive. Node ids in the view
// are the simulator's node indices: prefill nodes first, then decode nodes. Not
// thread-safe; deterministic.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "ppd/kv/kv_event.h"
#include "ppd/stats/router_counters.h"
#include "ppd/routing/policies.h"
#include "ppd/routing/reservation.h"

namespace ppd::sim {

struct SimRouterOptions {
  int num_prefill = 1;
  int num_decode = 1;
  routing::PolicyOptions policy;
  routing::StepTimeModelOptions step_model;  // every node's prior
  routing::NodeLimits limits;                // every node's engine limits
  int64_t block_bytes = 0;                  // KV bytes of one block
  int64_t rate_window_ns = 10'000'000'000;  // window of the request rate given to the policy
};

class SimRouter {
 public:
  // Every node starts healthy with an empty load, as after its first report.
  static Result<std::unique_ptr<SimRouter>> create(const SimRouterOptions& options);

  // Routes one request arriving at now_ns and reserves the router's counters for it
  // (reservation.h). Mutates.
  struct Routed {
    routing::RouteDecision decision;
    routing::Reservation reservation;
  };
  Result<Routed> route(const routing::RouteInput& input, int64_t now_ns);
  // The remote prompt is prefilled (the prefill node's step ended): releases its prefill
  // tokens, as RouterService does when the prefill node answers. Mutates.
  void prefill_done(routing::Reservation* r) { routing::release_prefill(&view_, r); }
  // The first token reached the client: the request decodes on its decode node. Mutates.
  void first_token(routing::Reservation* r) { routing::start_decoding(&view_, r); }
  // The request ended: releases the rest of its reservation and notes what the nodes now cache
  // (`decode_hashes`: the prompt and every output but the last; both empty after a failure).
  // Mutates.
  void finish(const routing::RouteDecision& d, routing::Reservation* r, std::span<const BlockHash> prompt_hashes,
              std::span<const BlockHash> decode_hashes, int64_t num_prompt_tokens, int64_t num_cached_tokens,
              int64_t transfer_bytes);

  void apply_kv_events(NodeId node, std::span<const kv::KvEvent> events);
  void apply_load(NodeId node, const routing::NodeLoad& load, std::span<const routing::StepSample> steps, int64_t now_ns);

  // A measured turn-2+ request took `ttft_s` where its policy predicted `predicted_s`. Mutates.
  void note_ttft_prediction(double predicted_s, double ttft_s) {
    totals_.t2_ttft_prediction_errors[stats::prediction_error_bucket(std::abs(predicted_s - ttft_s) / ttft_s)] += 1;
  }

  const routing::ClusterView& view() const { return view_; }
  // The counters `ppd bench` reads from a real router's /metrics.
  const stats::RouterCounters& totals() const { return totals_; }

 private:
  SimRouter(std::unique_ptr<routing::RoutingPolicy> policy) : policy_(std::move(policy)) {}
  double request_rate(int64_t now_ns);

  SimRouterOptions options_;
  std::unique_ptr<routing::RoutingPolicy> policy_;
  routing::ClusterView view_;
  std::deque<int64_t> arrivals_ns_;
  std::vector<BlockHash> run_;  // apply_kv_events' buffer, kept between calls
  stats::RouterCounters totals_;
};

}  // namespace ppd::sim
