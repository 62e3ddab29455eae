// RouterLedger: what the router itself keeps about each node beside the nodes' own reports,
// shared by the real router (router::RouterService and ClusterMonitor) and the simulator's
// (sim::SimRouter): its reservations for every request in flight, the windowed request rate
// given to the policy, the blocks a finished request leaves cached (noted ahead of the node's
// KV events), and the KV events and load reports applied to the ClusterView. Invariant: every
// counter a Reservation adds is taken off exactly once. Time comes in as now_ns. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "ppd/kv/kv_event.h"
#include "ppd/routing/cluster_view.h"
#include "ppd/routing/policy.h"

namespace ppd::routing {

// The router's own load counters for one request in flight, which lead the nodes' load
// reports: the request on its decode node, from routing to its end; once its first token came,
// the request decoding there (and the inverse of its output length, what a stall there costs
// its TPOT); and its prompt tokens still to prefill on the node that prefills it (the prefill
// node on the remote path, else the decode node).
struct Reservation {
  NodeId decode;
  NodeId prefill_node;
  int64_t prefill_tokens = 0;  // still reserved on prefill_node; 0 once released
  double inverse_output = 0;   // 1 / max(max_tokens - 1, 1), added to the decode node while decoding
  bool decode_active = false;  // the decode node's num_router_active still counts the request
  bool decoding = false;       // its num_router_decoding and router_inverse_outputs do
};

class RouterLedger {
 public:
  // REQUIRES: `view` outlives the ledger; rate_window_ns >= 1.
  RouterLedger(ClusterView* view, int64_t rate_window_ns) : view_(view), rate_window_ns_(rate_window_ns) {}

  // A request arrived at now_ns: returns the requests per second over the window ending then,
  // this one included (what RouteInput::request_rate carries). REQUIRES: now_ns does not
  // decrease between calls. Mutates.
  double note_arrival(int64_t now_ns);

  // Adds the routed request's counters to the view's nodes. Mutates.
  Reservation reserve(const RouteDecision& d, int num_prompt_tokens, int max_tokens);
  // The prompt is prefilled (remote: the prefill node answered; local: the first token came):
  // releases the prefill tokens. Idempotent. Mutates.
  void prefill_done(Reservation* r);
  // The first token came: the prompt is prefilled and the request decodes on its decode node.
  // Idempotent. Mutates.
  void first_token(Reservation* r);
  // The request ended: releases whatever it still holds. Idempotent. Mutates.
  void release(Reservation* r);

  // A request the router served just finished: `node` now caches `hashes`, noted ahead of its
  // KV events. Mutates.
  void note_cached(NodeId node, std::span<const BlockHash> hashes);
  // One KV-event message of a node in the wire's form: every stored hash, then every removed
  // one. Mutates.
  void apply_kv_events(NodeId node, std::span<const BlockHash> stored, std::span<const BlockHash> removed);
  // One batch of a node's KV events applied in order (a hash removed and stored again ends up
  // stored). Mutates.
  void apply_kv_events(NodeId node, std::span<const kv::KvEvent> events);
  // A load report received at now_ns (router clock), with the step samples it carries. Mutates.
  void apply_load(NodeId node, const NodeLoad& load, std::span<const StepSample> steps, int64_t now_ns);

  const ClusterView& view() const { return *view_; }
  // For what the ledger does not keep (nodes, health, limits, routing reads).
  ClusterView& mutable_view() { return *view_; }
  int64_t rate_window_ns() const { return rate_window_ns_; }

 private:
  ClusterView* view_;
  int64_t rate_window_ns_;
  std::deque<int64_t> arrivals_ns_;  // within the window of the latest arrival
  std::vector<BlockHash> run_;       // apply_kv_events' buffer, kept between calls
};

}  // namespace ppd::routing
