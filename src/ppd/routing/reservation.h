// The router's own load counters for one request in flight, which lead the nodes' load
// reports: the request on its decode node, from routing to its end; once its first token came,
// the request decoding there (and the inverse of its output length, what a stall there costs
// its TPOT); and its prompt tokens still to prefill on the node that prefills it (the prefill
// node on the remote path, else the decode node). RouterService and the simulator's router
// both keep them this way. Not thread-safe (the view is not).
#pragma once

#include <cstdint>

#include "ppd/routing/cluster_view.h"
#include "ppd/routing/policy.h"

namespace ppd::routing {

struct Reservation {
  NodeId decode;
  NodeId prefill_node;
  int64_t prefill_tokens = 0;  // still reserved on prefill_node; 0 once released
  double inverse_output = 0;   // 1 / max(max_tokens - 1, 1), added to the decode node while decoding
  bool decode_held = false;    // the decode node's num_router_active still counts the request
  bool decoding = false;       // its num_router_decoding and router_inverse_outputs do
};

// Adds the request's counters to the view's nodes. Mutates.
Reservation reserve(ClusterView* view, const RouteDecision& d, int num_prompt_tokens, int max_tokens);
// The prompt is prefilled (remote: the prefill node answered; local: the first token came):
// releases the prefill tokens. Idempotent. Mutates.
void release_prefill(ClusterView* view, Reservation* r);
// The first token came: the prompt is prefilled and the request decodes on its decode node.
// Idempotent. Mutates.
void start_decoding(ClusterView* view, Reservation* r);
// The request ended: releases whatever it still holds. Idempotent. Mutates.
void release(ClusterView* view, Reservation* r);

}  // namespace ppd::routing
