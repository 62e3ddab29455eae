// ScopedReservation: RouterService's hold on the router's own load counters for one attempt
// of a request (RouterLedger::reserve), from routing to the attempt's end: the prompt tokens
// until they are prefilled (prefill_done), the request decoding from its first token
// (first_token), the request itself until destruction. Not thread-safe (the ledger is not).
#pragma once

#include "ppd/routing/router_ledger.h"

namespace ppd::router {

class ScopedReservation {
 public:
  // REQUIRES: `ledger` outlives this.
  ScopedReservation(routing::RouterLedger* ledger, const routing::RouteDecision& d, int num_prompt_tokens,
                    int max_tokens)
      : ledger_(ledger), r_(ledger->reserve(d, num_prompt_tokens, max_tokens)) {}
  ScopedReservation(const ScopedReservation&) = delete;
  ScopedReservation& operator=(const ScopedReservation&) = delete;
  ~ScopedReservation() { ledger_->release(&r_); }

  void prefill_done() { ledger_->prefill_done(&r_); }
  void first_token() { ledger_->first_token(&r_); }

 private:
  routing::RouterLedger* ledger_;
  routing::Reservation r_;
};

}  // namespace ppd::router
