// NodeService: what one node does for the internal API, independent of HTTP. A prefill node
// computes prompts and pins their blocks (prefill → KvHandle); a decode node serves the
// local path (generate: prefix match, append-prefill, decode) and the remote path (decode:
// pull the blocks it lacks from the prefill node named in a handle, then decode); a mixed
// node does all three. Coroutines run on the network executor; the engine is reached only
// through the EngineLoop. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "ppd/common/clock.h"
#include "ppd/node/engine_loop.h"
#include "ppd/node/handle_table.h"
#include "ppd/node/kv_handle.h"
#include "ppd/node/node_json.h"
#include "ppd/node/telemetry.h"
#include "ppd/node/token_stream.h"
#include "ppd/transfer/kv_transport.h"

namespace ppd::node {

enum class NodeRole { kPrefill, kDecode, kMixed };
Result<NodeRole> parse_node_role(std::string_view name);  // "prefill", "decode", "mixed"
std::string_view node_role_name(NodeRole role);

struct NodeServiceOptions {
  std::string name = "node";  // in handles and logs
  NodeRole role = NodeRole::kMixed;
  std::string kv_address;                // this node's KV server, as peers reach it
  int64_t pin_timeout_ms = 30'000;       // a handle nobody released by then is unpinned
  int64_t transfer_timeout_ms = 30'000;  // deadline of one KV pull
  // A prefill is refused (RESOURCE_EXHAUSTED, 429) while handles pin more than this share of
  // the KV pool, so that callers that never pull cannot starve the node; in (0, 1].
  double max_pinned_fraction = 0.5;
};

struct TransferStats {
  int num_local_blocks = 0;  // prompt blocks the decode node already held
  int num_pulled_blocks = 0;
  int64_t bytes = 0;
  int64_t duration_ns = 0;
};

struct DecodeStarted {
  std::unique_ptr<TokenStream> stream;  // starts with the prefill node's first token
  TransferStats transfer;
};

class NodeService {
 public:
  // All pointers must outlive the service. `executor` runs the service's own coroutines.
  NodeService(const NodeServiceOptions& options, boost::asio::any_io_executor executor, EngineLoop* loop,
              transfer::KvTransport* transport, Telemetry* telemetry, const Clock* clock);

  const NodeServiceOptions& options() const { return options_; }
  // Sets the KV address handles carry. REQUIRES: before the first prefill.
  void set_kv_address(std::string address) { options_.kv_address = std::move(address); }
  HandleTable& handles() { return handles_; }
  // The engine, for its immutable facts (identity, block size, limits); any thread.
  const engine::Engine& engine() const { return loop_->engine(); }

  // Local path: queues the request; its outputs stream. Not on a prefill-only node.
  boost::asio::awaitable<Result<std::unique_ptr<TokenStream>>> generate(NodeRequest request);
  // Computes the prompt (what the prefix cache lacks), samples the first token and pins the
  // prompt's blocks until a decode node releases the handle or pin_timeout_ms passes.
  boost::asio::awaitable<Result<KvHandle>> prefill(NodeRequest request);
  // Remote path: reserves blocks, pulls those it lacks (all of them with "full"), releases
  // the handle on the prefill node and starts decoding. Errors name the stage and the peer.
  boost::asio::awaitable<Result<DecodeStarted>> decode(NodeRequest request);
  // Drops a request (a client went away). Unknown ids are ignored.
  boost::asio::awaitable<void> abort(RequestId id);

  // Engine and scheduler invariants, plus pinned handles; for health checks and tests.
  boost::asio::awaitable<Status> check_invariants();
  // Releases expired handles every pin_timeout_ms / 4 (at least 10 ms) until the executor stops.
  boost::asio::awaitable<void> run_pin_expiry();

  // Drain (true): new generate/prefill/decode requests get UNAVAILABLE; running ones finish.
  // false takes requests again (not after stop()). Either way the change goes out at once in a
  // load report ("draining"), so routers stop (or resume) sending here.
  void set_draining(bool draining);
  void drain() { set_draining(true); }
  bool draining() const { return draining_; }
  // Ends run_pin_expiry() at its next tick; requests are refused as when draining.
  void stop() {
    stopped_ = true;
    draining_ = true;
  }

 private:
  Status admit(std::string_view kind, bool allowed_here) const;
  Status check_pinned_room() const;
  // Queues `spec` and routes its outputs to the returned stream.
  boost::asio::awaitable<Result<std::unique_ptr<TokenStream>>> submit(engine::RequestSpec spec);
  boost::asio::awaitable<Result<TransferStats>> pull_blocks(const KvHandle& handle, const engine::ImportTarget& target);
  void release_remote(const KvHandle& handle);
  void unpin(uint64_t owner);  // a handle left the table: give its owner's blocks back to the engine

  NodeServiceOptions options_;
  boost::asio::any_io_executor executor_;
  EngineLoop* loop_;
  transfer::KvTransport* transport_;
  Telemetry* telemetry_;
  const Clock* clock_;
  HandleTable handles_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace ppd::node
