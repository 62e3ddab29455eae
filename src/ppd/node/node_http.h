// The node's internal HTTP API: routes from paths to NodeService calls, request JSON in,
// JSON or NDJSON streams out, errors as OpenAI-shaped bodies with the status codes of
// ResponseWriter. Routes: POST /generate, /prefill, /decode, /release, /drain; GET /events,
// /health, /metrics. docs/architecture.md describes each body. Runs on the server's executor.
#pragma once

#include "ppd/net/http_server.h"
#include "ppd/net/prometheus.h"
#include "ppd/node/node_service.h"
#include "ppd/node/telemetry.h"

namespace ppd::node {

// Counters the routes keep, registered in the node's MetricsRegistry.
struct NodeMetrics {
  net::CounterFamily* requests = nullptr;           // ppd:node_requests_total{kind,outcome}
  net::CounterFamily* output_tokens = nullptr;      // ppd:node_output_tokens_total
  net::CounterFamily* prefix_hit_tokens = nullptr;  // ppd:prefix_hit_tokens_total
  net::CounterFamily* transfer_bytes = nullptr;     // ppd:kv_transfer_bytes_total
  net::CounterFamily* transfer_blocks = nullptr;    // ppd:kv_transfer_blocks_total{source}
  net::GaugeFamily* load = nullptr;                 // ppd:node_load{field}: the load snapshot
};

Result<NodeMetrics> register_node_metrics(net::MetricsRegistry* registry);

// Adds every route to `server`. All pointers must outlive the server. With a cluster secret,
// every route answers 401 unless the request carries "Authorization: Bearer <secret>".
void add_node_routes(net::HttpServer* server, NodeService* service, Telemetry* telemetry,
                     net::MetricsRegistry* registry, NodeMetrics* metrics, const std::string& cluster_secret = "");

}  // namespace ppd::node
