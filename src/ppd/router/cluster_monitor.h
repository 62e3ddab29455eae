// ClusterMonitor: keeps the router's ClusterView current. For each node it reads /health
// (the engine facts the router must agree with: model identity, block size), then follows
// /events, applying KV events to the prefix index and load reports (with their steps, which
// fit the node's step-time model) to its state through the RouterLedger; a node is healthy
// while its reports keep coming. A broken or silent stream marks the node unhealthy, forgets its prefix cache and
// reconnects with backoff. Runs on the router's single-threaded executor; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "ppd/common/clock.h"
#include "ppd/net/http_client.h"
#include "ppd/routing/router_ledger.h"

namespace ppd::router {

// What a node's /health says about its engine.
struct EngineFacts {
  uint64_t model_identity = 0;
  // The seed of the node's block hashes (its weights' format and KV dtype mixed in); a node
  // that does not say (an older one) hashes with model_identity. Every node must share it.
  uint64_t kv_hash_seed = 0;
  std::string weights = "?";   // the weights' format, for messages
  std::string kv_dtype = "?";  // the KV cache's dtype, for messages
  int block_size = 0;
  int64_t block_bytes = 0;
  int max_model_len = 0;
  int max_prefill_tokens = 0;
  int max_num_running = 0;  // 0: the node did not say (an older node)
  int vocab_size = 0;
};
Result<EngineFacts> parse_engine_facts(const nlohmann::json& health, std::string_view node);
// A node's load report and the steps it carries (appended to `steps`); a field of the wrong
// type is an error naming it, not an exception out of the report stream.
Result<routing::NodeLoad> parse_load(const nlohmann::json& report, std::vector<routing::StepSample>* steps);

struct ClusterMonitorOptions {
  uint64_t model_identity = 0;     // the router's model; nodes serving another are never used
  int64_t node_timeout_ms = 2000;  // no report for this long: unhealthy, reconnect; >= 1
  int64_t reconnect_ms = 200;      // first backoff after a failure, doubling up to 2 s
  routing::StepTimeModelOptions step_model;
  std::string cluster_secret;  // "": none; else sent to every node as a Bearer token
};

// The headers that present the cluster secret to a node (none without one).
std::vector<std::pair<std::string, std::string>> secret_headers(const std::string& cluster_secret);

class ClusterMonitor {
 public:
  // `ledger` (and its view) and `clock` must outlive the monitor.
  ClusterMonitor(boost::asio::any_io_executor executor, routing::RouterLedger* ledger, const Clock* clock,
                 ClusterMonitorOptions options);
  ~ClusterMonitor();

  // Adds a node to the view (one id per kind; a mixed node given in both lists shares its
  // stream). REQUIRES: before start(). Mutates.
  Status add(const net::HostPort& address, routing::NodeKind kind);
  // Starts following every node. Mutates.
  void start();
  // Stops every stream at its next step. Idempotent.
  void stop();

  // The engine facts of the first node that answered; nullopt before.
  const std::optional<EngineFacts>& facts() const { return facts_; }
  const net::HostPort& address(NodeId id) const;
  // The KV address the node gave in its /health ("" before it answered): the only one a handle
  // from this node may name.
  const std::string& kv_address(NodeId id) const;
  const std::string& cluster_secret() const { return options_.cluster_secret; }
  // Every id of the node behind `id` (both kinds for a mixed node).
  std::vector<NodeId> ids_of_same_node(NodeId id) const;
  // A call to the node failed to connect: unhealthy until its stream reports again.
  void report_failure(NodeId id);
  // A request the router served just finished: its decode node now caches the prompt and every
  // output but the last (never fed back), its prefill node (remote path) the prompt's blocks;
  // noted in the prefix index ahead of the nodes' KV events. Mutates.
  void note_answered(const routing::RouteDecision& d, std::span<const TokenId> prompt, std::span<const TokenId> outputs,
                     std::span<const BlockHash> prompt_hashes);
  // One line of node `id`'s /events stream (a KV-event message or a load report), applied as
  // when it arrives now; what following the node does with every line. An error for a
  // malformed one. Mutates.
  Status apply_line(NodeId id, std::string_view line);

 private:
  struct Node;
  boost::asio::awaitable<void> follow(std::shared_ptr<Node> node);
  boost::asio::awaitable<Status> follow_once(Node& node);
  boost::asio::awaitable<void> watchdog(Node& node);
  boost::asio::awaitable<void> expire_loop();
  Status check_facts(Node& node, const EngineFacts& facts);
  Status apply_node_line(Node& node, std::string_view line);
  void note_cached(NodeId id, std::span<const BlockHash> hashes);
  void set_healthy(Node& node, bool healthy);

  boost::asio::any_io_executor executor_;
  routing::RouterLedger* ledger_;
  routing::ClusterView* view_;  // the ledger's
  const Clock* clock_;
  ClusterMonitorOptions options_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::optional<EngineFacts> facts_;
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace ppd::router
