// Running one routing decision on the nodes: the local path (/generate on the decode
// node) or the remote path (/prefill on the prefill node, then /decode with its handle on
// the decode node), and what a failed attempt means for the next one (which node to avoid,
// whether the remote path is still worth trying). Coroutines on the router's executor.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "ppd/request/sampling_params.h"
#include "ppd/router/cluster_monitor.h"
#include "ppd/router/node_client.h"
#include "ppd/routing/policy.h"

namespace ppd::router {

struct Dispatch {
  boost::asio::any_io_executor executor;
  routing::ClusterView* view = nullptr;
  ClusterMonitor* monitor = nullptr;
  int64_t prefill_timeout_ms = 120'000;
  int64_t stream_timeout_ms = 3'600'000;
  int64_t first_token_timeout_ms = 600'000;  // a stream's first line (StreamWatch::first_line_ms)
  int64_t token_timeout_ms = 60'000;         // between its lines (StreamWatch::line_gap_ms)
};

struct AttemptResult {
  std::shared_ptr<NodeStream> stream;  // set when the path was opened
  Status error = Status::Ok();
  bool retryable = false;
  std::optional<NodeId> failed_node;  // to exclude from the next attempt
  bool unreachable = false;           // the failed node did not answer at all
  bool remote_failed = false;         // the remote path failed: try the local one
  std::optional<uint64_t> handle;     // remote path: the prefill node's handle the decode node was sent
};

// The node API's sampling object for a request.
nlohmann::json sampling_json(const request::SamplingParams& params);

// Opens the decision's path and returns the decode node's token stream, or the failure. A call
// or stream on a node that the view finds unhealthy (its load reports stopped) is given up
// without waiting for its deadline.
boost::asio::awaitable<AttemptResult> open_path(const Dispatch& dispatch, const routing::RouteDecision& decision,
                                                const std::string& request_id, std::span<const TokenId> token_ids,
                                                const request::SamplingParams& sampling);

// Gives the prefill node back a handle whose decode attempt failed (the decode node may never
// have pulled it, nor released it): a POST /release sent in the background; a handle the decode
// node released already answers 404, which is fine.
void release_after_failure(const Dispatch& dispatch, const routing::RouteDecision& decision, uint64_t handle);

// What a stream that failed before the client saw anything means for the retry.
AttemptResult attribute_stream_failure(const routing::RouteDecision& decision, const Status& error,
                                       const NodeStream& stream);

// Records a failed attempt in the next attempt's input (excluded nodes, remote_failed) and
// marks an unreachable node unhealthy. Mutates `input` and the monitor's view.
void apply_failure(const AttemptResult& failure, routing::RouteInput* input, ClusterMonitor* monitor);

}  // namespace ppd::router
