// SimRouter: the router inside the simulator. It holds the real ClusterView and routing
// policy, and keeps the view through the real router's RouterLedger (router_ledger.h): the
// windowed request rate given to the policy, the router's reservations for every request in
// flight, the blocks a finished request leaves cached, the KV events and load reports. It adds
// the counters `ppd bench` reads from a real router's /metrics. Node ids in the view are the
// simulator's node indices: prefill nodes first, then decode nodes. Not thread-safe; deterministic.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ppd/kv/kv_event.h"
#include "ppd/routing/policies.h"
#include "ppd/routing/router_ledger.h"
#include "ppd/stats/router_counters.h"

namespace ppd::sim {

struct SimRouterOptions {
  int num_prefill = 1;
  int num_decode = 1;
  routing::PolicyOptions policy;
  routing::StepTimeModelOptions step_model;  // every node's prior
  routing::NodeLimits limits;                // every node's engine limits
  int64_t block_bytes = 0;                   // KV bytes of one block
  int64_t rate_window_ns = 10'000'000'000;   // window of the request rate given to the policy
};

class SimRouter {
 public:
  // Every node starts healthy with an empty load, as after its first report.
  static Result<std::unique_ptr<SimRouter>> create(const SimRouterOptions& options);
  SimRouter(const SimRouter&) = delete;  // ledger_ points at view_
  SimRouter& operator=(const SimRouter&) = delete;

  // Routes one request arriving at now_ns and reserves the router's counters for it
  // (RouterLedger::reserve). Mutates.
  struct Routed {
    routing::RouteDecision decision;
    routing::Reservation reservation;
    double request_rate = 0;  // what the policy was given
  };
  Result<Routed> route(const routing::RouteInput& input, int64_t now_ns);
  // The remote prompt is prefilled (the prefill node's step ended): releases its prefill
  // tokens, as RouterService does when the prefill node answers. Mutates.
  void prefill_done(routing::Reservation* r) { ledger_.prefill_done(r); }
  // The first token reached the client: the request decodes on its decode node. Mutates.
  void first_token(routing::Reservation* r) { ledger_.first_token(r); }
  // The request ended: releases the rest of its reservation and notes what the nodes now cache
  // (`decode_hashes`: the prompt and every output but the last; both empty after a failure).
  // Mutates.
  void finish(const routing::RouteDecision& d, routing::Reservation* r, std::span<const BlockHash> prompt_hashes,
              std::span<const BlockHash> decode_hashes, int64_t num_prompt_tokens, int64_t num_cached_tokens,
              int64_t transfer_bytes);

  // A node's KV events (in order) and load reports, as they reach the router. Mutate.
  void apply_kv_events(NodeId node, std::span<const kv::KvEvent> events) { ledger_.apply_kv_events(node, events); }
  void apply_load(NodeId node, const routing::NodeLoad& load, std::span<const routing::StepSample> steps,
                  int64_t now_ns) {
    ledger_.apply_load(node, load, steps, now_ns);
  }

  // A measured turn-2+ request took `ttft_s` where its policy predicted `predicted_s`. Mutates.
  void note_ttft_prediction(double predicted_s, double ttft_s) {
    totals_.t2_ttft_prediction_errors[stats::prediction_error_bucket(std::abs(predicted_s - ttft_s) / ttft_s)] += 1;
  }

  const routing::ClusterView& view() const { return view_; }
  const routing::RouterLedger& ledger() const { return ledger_; }
  // The counters `ppd bench` reads from a real router's /metrics.
  const stats::RouterCounters& totals() const { return totals_; }

 private:
  SimRouter(std::unique_ptr<routing::RoutingPolicy> policy, int64_t rate_window_ns)
      : policy_(std::move(policy)), ledger_(&view_, rate_window_ns) {}

  std::unique_ptr<routing::RoutingPolicy> policy_;
  routing::ClusterView view_;
  routing::RouterLedger ledger_;  // keeps view_
  stats::RouterCounters totals_;
};

}  // namespace ppd::sim
