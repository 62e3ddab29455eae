#include "ppd/routing/router_ledger.h"

#include <algorithm>

namespace ppd::routing {

double RouterLedger::note_arrival(int64_t now_ns) {
  arrivals_ns_.push_back(now_ns);
  while (now_ns - arrivals_ns_.front() > rate_window_ns_) arrivals_ns_.pop_front();
  return static_cast<double>(arrivals_ns_.size()) / (static_cast<double>(rate_window_ns_) * 1e-9);
}

Reservation RouterLedger::reserve(const RouteDecision& d, int num_prompt_tokens, int max_tokens) {
  const bool remote = d.path == Path::kRemote;
  Reservation r{
      .decode = d.decode,
      .prefill_node = remote ? *d.prefill : d.decode,
      .prefill_tokens = num_prompt_tokens - (remote ? d.num_prefill_cached_tokens : d.num_decode_cached_tokens),
      .inverse_output = 1.0 / std::max(max_tokens - 1, 1),
      .decode_active = true};
  view_->mutable_node(r.decode).num_router_active++;
  view_->mutable_node(r.prefill_node).num_router_prefill_tokens += r.prefill_tokens;
  return r;
}

void RouterLedger::first_token(Reservation* r) {
  prefill_done(r);
  if (r->decoding || !r->decode_active) return;
  NodeState& decode = view_->mutable_node(r->decode);
  decode.num_router_decoding++;
  decode.router_inverse_outputs += r->inverse_output;
  r->decoding = true;
}

void RouterLedger::prefill_done(Reservation* r) {
  view_->mutable_node(r->prefill_node).num_router_prefill_tokens -= r->prefill_tokens;
  r->prefill_tokens = 0;
}

void RouterLedger::release(Reservation* r) {
  prefill_done(r);
  NodeState& decode = view_->mutable_node(r->decode);
  if (r->decoding) {
    decode.num_router_decoding--;
    // Sums of reciprocals drift by rounding: with nothing decoding the sum is exactly zero.
    decode.router_inverse_outputs =
        decode.num_router_decoding == 0 ? 0 : decode.router_inverse_outputs - r->inverse_output;
    r->decoding = false;
  }
  if (r->decode_active) {
    decode.num_router_active--;
    r->decode_active = false;
  }
}

void RouterLedger::note_cached(NodeId node, std::span<const BlockHash> hashes) {
  view_->apply_kv_events(node, hashes, {});
}

void RouterLedger::apply_kv_events(NodeId node, std::span<const BlockHash> stored, std::span<const BlockHash> removed) {
  view_->apply_kv_events(node, stored, removed);
}

void RouterLedger::apply_kv_events(NodeId node, std::span<const kv::KvEvent> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    run_.push_back(events[i].hash);
    if (i + 1 < events.size() && events[i + 1].kind == events[i].kind) continue;
    const bool stored = events[i].kind == kv::KvEventKind::kStored;
    view_->apply_kv_events(node, stored ? run_ : std::span<const BlockHash>(),
                           stored ? std::span<const BlockHash>() : run_);
    run_.clear();
  }
}

void RouterLedger::apply_load(NodeId node, const NodeLoad& load, std::span<const StepSample> steps, int64_t now_ns) {
  view_->apply_load(node, load, steps, now_ns);
}

}  // namespace ppd::routing
