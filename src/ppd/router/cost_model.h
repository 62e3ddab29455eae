// The `ppd` policy's cost model: predicted TTFT and TPOT of one request on the local path
// (append-prefill on the decode node, in the same steps as its running decodes) and on the
// remote path (prefill node's queue and prefill, then the KV blocks the decode node lacks
// over the observed link). Step times come from each node's online StepTimeModel. Pure.
#pragma once

#include "ppd/router/policies.h"

namespace ppd::router {

// Seconds a node needs to prefill `num_tokens` tokens in chunks of `chunk_tokens`, the
// first chunk starting at position `start_position`, alongside `num_decodes` running
// decodes holding `decode_context_tokens` tokens in all. Returns {total, extra}: `extra` is
// the part added to the decode-only step time (what the running decodes wait). Pure.
struct PrefillTime {
  double total_s = 0;
  double extra_s = 0;
};
PrefillTime predict_prefill(const StepTimeModel& model, int64_t num_tokens, int chunk_tokens, int64_t start_position,
                            int num_decodes, int64_t decode_context_tokens);

PathPrediction predict_local(const ClusterView& view, const Placement& placement, const RouteInput& input);
// REQUIRES: placement.prefill is set.
PathPrediction predict_remote(const ClusterView& view, const Placement& placement, const RouteInput& input,
                              const PpdPolicyOptions& options);

// w_ttft·(TTFT_remote − TTFT_local)/TTFT_remote − w_tpot·(TPOT_local − TPOT_remote)/TPOT_remote;
// positive means the local path is better. Pure.
double local_advantage(const PathPrediction& local, const PathPrediction& remote, const PpdPolicyOptions& options);

}  // namespace ppd::router
