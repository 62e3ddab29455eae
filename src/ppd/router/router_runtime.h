// RouterRuntime: one router assembled and listening: the model's tokenizer and chat
// template, the cluster view with its monitor following every node, the routing policy,
// the RouterService and the OpenAI-compatible HTTP server (/v1/chat/completions,
// /v1/completions, /v1/models, /health, /metrics). `ppd router` runs one per process.
// Not thread-safe: create and stop it on the executor's thread (or before it runs).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "ppd/net/http_server.h"
#include "ppd/router/cluster_monitor.h"
#include "ppd/router/router_service.h"
#include "ppd/routing/policies.h"

namespace ppd::router {

struct RouterRuntimeOptions {
  std::string model_dir;               // tokenizer, chat template and model identity
  std::string chat_template = "auto";  // auto, chatml, llama-2, llama-3, plain
  std::vector<net::HostPort> prefill;  // prefill nodes (may be empty)
  std::vector<net::HostPort> decode;   // decode nodes (at least one)
  routing::PolicyOptions policy;
  RouterServiceOptions service;   // served_model_name "" means the model directory's name
  ClusterMonitorOptions monitor;  // model_identity is filled in
  std::string host = "127.0.0.1";
  uint16_t port = 8000;               // 0: ephemeral
  uint64_t max_body_bytes = 4 << 20;  // larger request bodies get 413
};

class RouterRuntime {
 public:
  static Result<std::unique_ptr<RouterRuntime>> create(RouterRuntimeOptions options,
                                                       boost::asio::any_io_executor executor, const Clock* clock);
  ~RouterRuntime();
  uint16_t port() const { return port_; }
  const std::string& served_model_name() const { return service_->options().served_model_name; }
  RouterService& service() { return *service_; }
  const routing::ClusterView& view() const { return view_; }
  // Closes the server and stops following the nodes.
  void stop();

 private:
  RouterRuntime() = default;
  Status start(RouterRuntimeOptions options, boost::asio::any_io_executor executor, const Clock* clock);

  routing::ClusterView view_;
  std::unique_ptr<routing::RouterLedger> ledger_;  // keeps view_; its window is the service's
  std::unique_ptr<routing::RoutingPolicy> policy_;
  std::unique_ptr<ClusterMonitor> monitor_;
  net::MetricsRegistry registry_;
  RouterMetrics metrics_;
  std::unique_ptr<RouterService> service_;
  std::unique_ptr<net::HttpServer> http_;
  uint16_t port_ = 0;
};

// Adds the OpenAI-compatible routes and /health, /metrics to `server`.
void add_router_routes(net::HttpServer* server, RouterService* service, const routing::ClusterView* view,
                       net::MetricsRegistry* registry);

}  // namespace ppd::router
