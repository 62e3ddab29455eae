#include "ppd/routing/reservation.h"

#include <algorithm>

namespace ppd::routing {

Reservation reserve(ClusterView* view, const RouteDecision& d, int num_prompt_tokens, int max_tokens) {
  const bool remote = d.path == Path::kRemote;
  Reservation r{.decode = d.decode,
                .prefill_node = remote ? *d.prefill : d.decode,
                .prefill_tokens = num_prompt_tokens - (remote ? d.num_prefill_cached_tokens : d.num_decode_cached_tokens),
                .inverse_output = 1.0 / std::max(max_tokens - 1, 1),
                .decode_held = true};
  view->mutable_node(r.decode).num_router_active++;
  view->mutable_node(r.prefill_node).num_router_prefill_tokens += r.prefill_tokens;
  return r;
}

void start_decoding(ClusterView* view, Reservation* r) {
  release_prefill(view, r);
  if (r->decoding || !r->decode_held) return;
  NodeState& decode = view->mutable_node(r->decode);
  decode.num_router_decoding++;
  decode.router_inverse_outputs += r->inverse_output;
  r->decoding = true;
}

void release_prefill(ClusterView* view, Reservation* r) {
  view->mutable_node(r->prefill_node).num_router_prefill_tokens -= r->prefill_tokens;
  r->prefill_tokens = 0;
}

void release(ClusterView* view, Reservation* r) {
  release_prefill(view, r);
  NodeState& decode = view->mutable_node(r->decode);
  if (r->decoding) {
    decode.num_router_decoding--;
    // Sums of reciprocals drift by rounding: with nothing decoding the sum is exactly zero.
    decode.router_inverse_outputs =
        decode.num_router_decoding == 0 ? 0 : decode.router_inverse_outputs - r->inverse_output;
    r->decoding = false;
  }
  if (r->decode_held) {
    decode.num_router_active--;
    r->decode_held = false;
  }
}

}  // namespace ppd::routing
