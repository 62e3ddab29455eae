// NodeRuntime: one node assembled and listening: its engine on the engine thread, the
// NodeService, the internal HTTP API and the KV transfer server on the network executor,
// the TCP transport it pulls with (behind an emulated link when one is configured), the
// pin-expiry and load-report loops. `ppd node` runs one per process. Not thread-safe: create
// and stop it on the network thread (or before that thread runs).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "ppd/engine/engine.h"
#include "ppd/net/http_server.h"
#include "ppd/net/prometheus.h"
#include "ppd/node/node_http.h"
#include "ppd/node/node_service.h"
#include "ppd/transfer/emulated_link.h"
#include "ppd/transfer/tcp_transport.h"

namespace ppd::node {

struct NodeRuntimeOptions {
  std::string model_dir;
  engine::EngineOptions engine;
  NodeServiceOptions service;                         // kv_address is filled in from host and the KV port
  std::string host = "127.0.0.1";                     // both servers bind here
  uint16_t http_port = 0;                             // 0: ephemeral
  uint16_t kv_port = 0;                               // 0: ephemeral
  uint64_t max_body_bytes = 64 << 20;                 // internal API request bodies
  int64_t load_report_ms = 100;                       // period of load reports on /events; >= 1
  std::optional<transfer::EmulatedLinkOptions> link;  // shapes this node's pulls
  // "": none. Else every HTTP route and KV connection requires it, and this node's own KV
  // pulls present it (common/secret.h).
  std::string cluster_secret;
};

class NodeRuntime {
 public:
  static Result<std::unique_ptr<NodeRuntime>> create(const NodeRuntimeOptions& options,
                                                     boost::asio::any_io_executor executor, const Clock* clock);
  ~NodeRuntime();

  uint16_t http_port() const { return http_port_; }
  uint16_t kv_port() const { return kv_port_; }
  NodeService& service() { return *service_; }
  // Closes both servers (transfers and streams in flight break off) and stops the loops.
  void stop();

 private:
  NodeRuntime() = default;
  Status start(const NodeRuntimeOptions& options, boost::asio::any_io_executor executor, const Clock* clock);

  std::unique_ptr<Telemetry> telemetry_;
  std::unique_ptr<EngineLoop> loop_;
  std::unique_ptr<transfer::TcpKvTransport> tcp_;
  std::unique_ptr<transfer::EmulatedLinkTransport> link_;
  std::unique_ptr<NodeService> service_;
  std::unique_ptr<transfer::TcpKvServer> kv_server_;
  net::MetricsRegistry registry_;
  NodeMetrics metrics_;
  std::unique_ptr<net::HttpServer> http_;
  std::shared_ptr<bool> running_ = std::make_shared<bool>(true);
  uint16_t http_port_ = 0;
  uint16_t kv_port_ = 0;
};

}  // namespace ppd::node
