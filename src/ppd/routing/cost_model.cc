// The cost model of cost_model.h: the local and remote paths' predicted TTFT, TPOT and stall,
// the relative advantage of going local, and the expected SLO misses of a path.
#include <algorithm>
#include <cmath>

#include "ppd/routing/cost_model.h"

namespace ppd::routing {
namespace {

// Requests decoding on the node: its report, or the router's own count of those past their
// first token when that is larger (it leads the reports). Requests still prefilling elsewhere
// do not decode here yet.
int running_decodes(const NodeState& n) { return std::max(n.load.num_running, n.num_router_decoding); }
int64_t queued_prefill_tokens(const NodeState& n) {
  return std::max(n.load.num_pending_prefill_tokens, n.num_router_prefill_tokens);
}
// Context tokens of the node's running decodes, from the mean its recent steps showed.
int64_t decode_context(const NodeState& n, int num_decodes, int num_prompt_tokens) {
  const double mean = n.load.mean_decode_context_tokens > 0 ? n.load.mean_decode_context_tokens : num_prompt_tokens;
  return static_cast<int64_t>(mean * num_decodes);
}
int num_blocks(int tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

// Σ 1/(outputs − 1) over the node's `num_decodes` decoding requests: the router's own sum over
// its requests decoding there, scaled up when the node runs more than the router counts; this
// request's own output length stands in for the others' when none of the router's decodes there.
double others_inverse_outputs(const NodeState& n, int num_decodes, const RouteInput& in) {
  if (num_decodes == 0) return 0;
  if (n.num_router_decoding > 0) return n.router_inverse_outputs * num_decodes / n.num_router_decoding;
  return num_decodes / static_cast<double>(std::max(in.max_tokens - 1, 1));
}

// The wait before a full decode node takes a new request: until enough of its decodes finish.
// Its scheduler admits a waiting request only while fewer than max_num_running run (imports
// are not held to that) and only with free blocks for it; `queued` says the request joins the
// node's waiting queue (the local path) rather than importing (the remote path, whose blocks
// alone must be free). Decodes finish Σ 1/(outputs − 1) to a step, and each frees the blocks
// of a mean decode context. 0 when nothing needs to finish.
double admission_wait_s(const NodeState& d, int num_decodes, int64_t context, const RouteInput& in, int64_t tokens,
                        bool queued) {
  if (num_decodes == 0) return 0;
  const int bs = std::max(d.limits.block_size, 1);
  const int64_t waiting_tokens = queued ? queued_prefill_tokens(d) : 0;
  double finishes = 0;
  if (d.load.num_free_blocks >= 0) {
    const int64_t blocks_short = (waiting_tokens + tokens + bs - 1) / bs - d.load.num_free_blocks;
    const double blocks_per_finish = std::max(static_cast<double>(context) / num_decodes / bs, 1.0);
    finishes = std::max<double>(blocks_short, 0) / blocks_per_finish;
  }
  if (queued && d.limits.max_num_running > 0) {
    const int slots_short = num_decodes + std::max(d.load.num_waiting, 0) + 1 - d.limits.max_num_running;
    finishes = std::max<double>(finishes, slots_short);
  }
  if (finishes <= 0) return 0;
  const double per_step = others_inverse_outputs(d, num_decodes, in);
  if (per_step <= 0) return 0;
  return finishes / per_step * d.step_model.predict_s(0, num_decodes, context, 0);
}

// When the decode node's steps end, as seen from the request's arrival (time 0): work handed
// to its engine thread (an append, an import's start or end) waits for the next boundary.
// An idle node has none. A request arriving at the node that answered its session's previous
// turn within a step of that answer knows the phase: the answer's last step ended `since`
// ago and the next began then, so boundaries fall at step - since + k·step. Otherwise the
// wait is half a step on average.
struct StepClock {
  double step_s = 0;             // 0: the node is idle
  double first_boundary_s = -1;  // < 0: phase unknown
  // The expected first boundary at or after a time predicted as t: with the phase known, t
  // is taken as normal with a spread of 10% (a prediction near a boundary may fall either
  // side of it), and each boundary weighted by the chance that t falls just before it.
  double next(double t) const {
    if (step_s <= 0) return t;
    if (first_boundary_s < 0) return t + 0.5 * step_s;
    const double sigma = std::max(0.1 * t, 1e-9);
    const auto cdf = [&](double b) { return 0.5 * std::erfc(-(b - t) / (sigma * std::sqrt(2.0))); };
    double k = std::max(0.0, std::floor((t - 4 * sigma - first_boundary_s) / step_s));
    double expected = 0, below = 0;
    for (int i = 0; i < 64 && below < 1 - 1e-9; ++i, ++k) {
      const double b = first_boundary_s + k * step_s;
      const double c = cdf(b);
      expected += b * (c - below);
      below = c;
    }
    return expected;
  }
  // From a boundary, the time until the first boundary after `duration` has passed: whole
  // steps with the phase known (work started at a boundary ends at one).
  double after(double duration) const {
    if (step_s <= 0) return duration;
    if (first_boundary_s < 0) return duration + 0.5 * step_s;
    return std::max(1.0, std::ceil(duration / step_s)) * step_s;
  }
};

StepClock step_clock(const NodeState& n, const Placement& p, const RouteInput& in, int num_decodes, int64_t context) {
  if (num_decodes == 0) return {};
  StepClock c{.step_s = n.step_model.predict_s(0, num_decodes, context, 0)};
  if (in.since_session_answer_s && in.session_decode == p.decode && *in.since_session_answer_s >= 0 &&
      *in.since_session_answer_s < c.step_s) {
    c.first_boundary_s = c.step_s - *in.since_session_answer_s;
  }
  return c;
}

// P(taken <= slo) for a prediction with log-normal error of spread sigma; 1 without an SLO.
double p_meets(double predicted_s, const std::optional<double>& slo_s, double sigma) {
  if (!slo_s) return 1;
  if (predicted_s <= 0) return 1;
  return 0.5 * std::erfc(-std::log(*slo_s / predicted_s) / (sigma * std::sqrt(2.0)));
}
}  // namespace

PrefillTime predict_prefill(const StepTimeModel& model, int64_t num_tokens, int chunk_tokens, int64_t start_position,
                            int num_decodes, int64_t decode_context_tokens) {
  PrefillTime t;
  const int chunk = std::max(chunk_tokens, 1);
  const double decode_only = model.predict_s(0, num_decodes, decode_context_tokens, 0);
  for (int64_t done = 0; done < num_tokens;) {
    const int64_t n = std::min<int64_t>(chunk, num_tokens - done);
    const double step = model.predict_s(static_cast<int>(n), num_decodes, decode_context_tokens,
                                        prefill_pairs(n, start_position + done));
    done += n;
    t.total_s += step;
    t.extra_s += std::max(step - decode_only, 0.0);
  }
  return t;
}

PathPrediction predict_local(const ClusterView& view, const Placement& p, const RouteInput& in) {
  const NodeState& d = view.node(p.decode);
  const int b = running_decodes(d);
  const int64_t ctx = decode_context(d, b, in.num_prompt_tokens);
  const int64_t uncached = in.num_prompt_tokens - p.num_decode_cached_tokens;
  // The node batches the prefills queued before this one with it, in chunks, first come first.
  const int64_t queued = queued_prefill_tokens(d);
  const int chunk = d.limits.max_prefill_tokens;
  const PrefillTime before = predict_prefill(d.step_model, queued, chunk, 0, b, ctx);
  const PrefillTime all = predict_prefill(d.step_model, queued + uncached, chunk, p.num_decode_cached_tokens, b, ctx);
  const double wait = admission_wait_s(d, b, ctx, in, uncached, /*queued=*/true);
  return {.ttft_s = step_clock(d, p, in, b, ctx).next(0) + wait + all.total_s,
          .tpot_s = d.step_model.predict_s(0, b + 1, ctx + in.num_prompt_tokens, 0),
          .stall_tpot_s = std::max(all.extra_s - before.extra_s, 0.0) * others_inverse_outputs(d, b, in)};
}

PathPrediction predict_remote(const ClusterView& view, const Placement& p, const RouteInput& in,
                              const PpdPolicyOptions& o) {
  const NodeState& pre = view.node(*p.prefill);
  const NodeState& d = view.node(p.decode);
  const int64_t uncached = in.num_prompt_tokens - p.num_prefill_cached_tokens;
  const int chunk = pre.limits.max_prefill_tokens;
  const PrefillTime all =
      predict_prefill(pre.step_model, queued_prefill_tokens(pre) + uncached, chunk, p.num_prefill_cached_tokens, 0, 0);
  const int bs = std::max(view.block_size, 1);
  const int total_blocks = num_blocks(in.num_prompt_tokens, bs);
  const int local_blocks = o.transfer == TransferMode::kDelta ? p.num_decode_cached_tokens / bs : 0;
  const double bytes = static_cast<double>(total_blocks - local_blocks) * static_cast<double>(view.block_bytes);
  const double bandwidth = d.load.transfer_bytes_per_s > 0 ? d.load.transfer_bytes_per_s : o.default_link_bytes_per_s;
  const int b = running_decodes(d);
  const int64_t ctx = decode_context(d, b, in.num_prompt_tokens);
  const StepClock clock = step_clock(d, p, in, b, ctx);
  // The prefill node answered; the import starts between two steps and ends between two.
  // An import that finds too few free blocks waits for them (the node answers 503, the router
  // retries).
  const int64_t missing_tokens = static_cast<int64_t>(total_blocks - local_blocks) * bs;
  const double begin =
      clock.next(std::max(all.total_s, admission_wait_s(d, b, ctx, in, missing_tokens, /*queued=*/false)));
  return {.ttft_s = begin + clock.after(bytes / bandwidth + o.link_latency_s),
          .tpot_s = d.step_model.predict_s(0, b + 1, ctx + in.num_prompt_tokens, 0)};
}

double local_advantage(const PathPrediction& local, const PathPrediction& remote, const PpdPolicyOptions& o) {
  // Relative to the better of the two: a gain of seconds on a path that takes milliseconds
  // counts as the multiple it is (relative to the worse one it could never exceed 1, while a
  // stall's TPOT cost is unbounded).
  const double ttft_gain = (remote.ttft_s - local.ttft_s) / std::max(std::min(local.ttft_s, remote.ttft_s), 1e-9);
  const double tpot_loss =
      (local.tpot_s + local.stall_tpot_s - remote.tpot_s - remote.stall_tpot_s) / std::max(remote.tpot_s, 1e-9);
  return o.w_ttft * ttft_gain - o.w_tpot * tpot_loss;
}

double expected_slo_misses(const ClusterView& view, const Placement& p, const RouteInput& in,
                           const PathPrediction& path, const PpdPolicyOptions& o) {
  const NodeState& d = view.node(p.decode);
  // This request's TPOT: the decode step it joins, or D's mean step with decodes when that is
  // longer (the prefills D runs beside its decodes stall this request too).
  const double own_tpot = std::max(path.tpot_s, d.load.mean_decode_step_s);
  const double own =
      1 - p_meets(path.ttft_s, o.slo_ttft_s, o.slo_sigma) * p_meets(own_tpot, o.slo_tpot_s, o.slo_tpot_sigma);
  const int b = running_decodes(d);
  if (b == 0 || path.stall_tpot_s <= 0 || !o.slo_tpot_s) return own;
  // The others' TPOT so far: the node's mean step with decodes, or the model's decode step.
  const double tpot = d.load.mean_decode_step_s > 0
                          ? d.load.mean_decode_step_s
                          : d.step_model.predict_s(0, b, decode_context(d, b, in.num_prompt_tokens), 0);
  const double before = p_meets(tpot, o.slo_tpot_s, o.slo_tpot_sigma);
  const double after = p_meets(tpot + path.stall_tpot_s / b, o.slo_tpot_s, o.slo_tpot_sigma);
  return own + b * (before - after);
}

}  // namespace ppd::routing
