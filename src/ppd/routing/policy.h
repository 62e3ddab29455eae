// Routing policies: for one request, given the cluster view, choose the local path (the
// decode node that holds the conversation append-prefills it) or the remote path (a
// prefill node computes the prompt and the decode node pulls its KV). Every policy is a
// pure, deterministic function of (ClusterView, RouteInput): no clocks, sockets or
// randomness, so unit tests and the simulator call it exactly as the router does.
// Thread-safety: route() is const and safe to call concurrently on one policy.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/routing/cluster_view.h"

namespace ppd::routing {

enum class Path { kLocal, kRemote };
std::string_view path_name(Path path);  // "local", "remote"

// How the decode node gets the prompt's KV on the remote path.
enum class TransferMode { kDelta, kFull };
std::string_view transfer_mode_name(TransferMode mode);  // "delta", "full"

struct RouteInput {
  int num_prompt_tokens = 0;
  std::span<const BlockHash> block_hashes;  // of the prompt's full blocks
  int num_history_tokens = 0;               // n_ctx: prompt tokens before the new user message
  int num_new_tokens = 0;                   // n_in: the new user message (with its template text)
  int max_tokens = 0;                       // expected output tokens (the request's max_tokens)
  int turn = 1;                             // 1, or 2+ when the prompt holds an earlier answer
  std::optional<NodeId> session_decode;     // the decode node this session last used, if any
  // Seconds since that node sent this session's previous answer (unset: unknown). Its last
  // token ended a step there and the next step began: a request that follows at once waits
  // for most of that step.
  std::optional<double> since_session_answer_s;
  double request_rate = 0;       // requests/s seen by the router (windowed)
  std::vector<NodeId> excluded;  // nodes not to use (a retry after their failure)
  bool remote_failed = false;    // a retry after the remote path failed before any token
};

struct PathPrediction {
  double ttft_s = 0;
  double tpot_s = 0;  // this request's own
  // The TPOT this path adds to the decode node's other running requests, summed over them (an
  // append-prefill stalls every decode in its steps); 0 on the remote path.
  double stall_tpot_s = 0;
};

struct RouteDecision {
  Path path = Path::kRemote;
  NodeId decode;
  std::optional<NodeId> prefill;  // set iff path is kRemote
  TransferMode transfer = TransferMode::kDelta;
  // Why, as a low-cardinality label: "turn1", "always_remote", "always_local", "split",
  // "threshold", "table", "short_input", "cost_model", "slo", "no_prefill", "prefill_busy",
  // "decode_busy", "retry".
  std::string reason;
  int num_decode_cached_tokens = 0;     // prompt tokens the decode node holds
  int num_prefill_cached_tokens = 0;    // prompt tokens the chosen prefill node holds
  std::optional<PathPrediction> local;  // filled by policies that predict (ppd)
  std::optional<PathPrediction> remote;
};

class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  virtual std::string_view name() const = 0;
  // Returns the decision, or UNAVAILABLE when no healthy decode node is left. Pure.
  virtual Result<RouteDecision> route(const ClusterView& view, const RouteInput& input) const = 0;
};

// ---- Placement, shared by every policy ----------------------------------------------------

struct Placement {
  NodeId decode;
  std::optional<NodeId> prefill;  // nullopt when no healthy prefill node is usable
  int num_decode_cached_tokens = 0;
  int num_prefill_cached_tokens = 0;
};

// The decode node: the session's node when healthy; else, for turn 2+, the healthy decode
// node holding the longest cached prefix; else the least-loaded healthy decode node. The
// prefill node: the least-loaded healthy one (ties: the longer cached prefix, then the lower
// id). Excluded nodes are skipped; the remote path is not offered after remote_failed.
// UNAVAILABLE "no healthy decode node" when there is none. Pure.
Result<Placement> place(const ClusterView& view, const RouteInput& input);

// The decision for `placement` on `path`, with its cached-token counts and `reason` filled in.
RouteDecision make_decision(const Placement& placement, Path path, std::string reason);

}  // namespace ppd::routing
