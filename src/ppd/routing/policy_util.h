// Internal helpers shared by the policy implementations in this folder; not part of the
// router's public API. Pure functions; thread-safe.
#pragma once

#include <string>
#include <utility>

#include "ppd/routing/policy.h"

namespace ppd::routing {

// The remote path when a prefill node is usable; else the local path (a full prefill on
// the decode node when it holds nothing) with reason "no_prefill".
inline RouteDecision remote_or_fallback(const Placement& p, TransferMode transfer, std::string reason) {
  if (!p.prefill) return make_decision(p, Path::kLocal, "no_prefill");
  RouteDecision d = make_decision(p, Path::kRemote, std::move(reason));
  d.transfer = transfer;
  return d;
}

}  // namespace ppd::routing
