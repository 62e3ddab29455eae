// The `ppd` policy's cost model: predicted TTFT and TPOT of one request on the local path
// (append-prefill on the decode node, in the same steps as its running decodes) and on the
// remote path (the prefill node's queue and prefill, the import joining the decode node
// between two of its steps, the KV blocks it lacks over the observed link), and the stall an
// append-prefill puts on the decode node's other running requests. Step times come from each
// node's online StepTimeModel, whose prior is the fleet's (ClusterView::fleet_coefficients).
// Pure.
#pragma once

#include "ppd/routing/policies.h"

namespace ppd::routing {

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

// Local: the append waits for the decode node's step under way (half a step on average), then
// for the prefills queued there, then runs its chunks beside the node's decodes; every decode
// there waits the chunks' extra time, which adds extra / (outputs - 1) to each one's TPOT.
PathPrediction predict_local(const ClusterView& view, const Placement& placement, const RouteInput& input);
// Remote: the prefill node's queue and the prompt's uncached chunks there, then the import:
// it starts and ends between two steps of the decode node (half a step each on average), with
// the blocks the decode node lacks moved over its observed link. REQUIRES: placement.prefill.
PathPrediction predict_remote(const ClusterView& view, const Placement& placement, const RouteInput& input,
                              const PpdPolicyOptions& options);

// w_ttft·(TTFT_remote − TTFT_local)/TTFT_remote
//   − w_tpot·(TPOT_local + stall_local − TPOT_remote − stall_remote)/TPOT_remote:
// the relative TTFT gain of going local against the TPOT it costs this request and the
// others on the node; positive means the local path is better. Pure.
double local_advantage(const PathPrediction& local, const PathPrediction& remote, const PpdPolicyOptions& options);

// SLO mode: the expected number of SLO misses a path causes, this request's (its predicted
// TTFT and TPOT against the SLOs, with log-normal errors of spread slo_sigma and
// slo_tpot_sigma; its TPOT at least the decode node's mean step with decodes) plus those of
// the decode node's running requests that its stall pushes past the TPOT SLO. Pure.
double expected_slo_misses(const ClusterView& view, const Placement& placement, const RouteInput& input,
                           const PathPrediction& path, const PpdPolicyOptions& options);

}  // namespace ppd::routing
