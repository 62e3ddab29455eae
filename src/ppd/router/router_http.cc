// The router's HTTP routes: the OpenAI-compatible API with optional Bearer authentication,
// plus /health (the cluster as the router sees it) and /metrics.
#include <chrono>

#include "ppd/router/router_runtime.h"

namespace ppd::router {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using net::HttpRequest;
using net::ResponseWriter;

namespace {

asio::awaitable<bool> check_auth(const HttpRequest& request, ResponseWriter& w, const RouterService& service) {
  if (service.authorized(request)) co_return true;
  w.set_header("WWW-Authenticate", "Bearer");
  co_await w.send_http_error(http::status::unauthorized,
                             "Incorrect API key provided; pass it as \"Authorization: Bearer KEY\"");
  co_return false;
}

nlohmann::json node_json(const routing::NodeState& n) {
  return {{"name", n.name},
          {"kind", routing::node_kind_name(n.kind)},
          {"healthy", n.healthy},
          {"draining", n.load.draining},
          {"num_running", n.load.num_running},
          {"num_waiting", n.load.num_waiting},
          {"num_free_blocks", n.load.num_free_blocks},
          {"router_active", n.num_router_active},
          {"router_decoding", n.num_router_decoding},
          {"router_prefill_tokens", n.num_router_prefill_tokens},
          {"step_model_us", n.step_model.coefficients()}};
}

asio::awaitable<void> handle_health(ResponseWriter& w, const RouterService& service, const routing::ClusterView& view,
                                    bool details) {
  nlohmann::json nodes = nlohmann::json::array();
  bool any_decode = false;
  bool all_accepting = true;
  for (const routing::NodeState& n : view.nodes()) {
    nodes.push_back(node_json(n));
    any_decode |= n.accepting() && n.kind == routing::NodeKind::kDecode;
    all_accepting &= n.accepting();
  }
  // ok: every node takes requests; degraded: some do not, but a decode node does; unavailable
  // (503): no decode node takes requests, so every request would get 503.
  const char* status = !any_decode ? "unavailable" : all_accepting ? "ok" : "degraded";
  nlohmann::json body = {{"status", status}};
  if (details) {
    body["model"] = service.options().served_model_name;
    body["num_active_requests"] = service.num_active();
    body["nodes"] = std::move(nodes);
  }
  co_await w.send_json(any_decode ? http::status::ok : http::status::service_unavailable, body);
}

}  // namespace

void add_router_routes(net::HttpServer* server, RouterService* service, const routing::ClusterView* view,
                       net::MetricsRegistry* registry) {
  using V = http::verb;
  const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto api = [service](router::ApiKind kind) {
    return [service, kind](const HttpRequest& r, ResponseWriter& w) -> asio::awaitable<void> {
      if (!co_await check_auth(r, w, *service)) co_return;
      co_await service->serve(r, w, kind);
    };
  };
  server->add_route(V::post, "/v1/chat/completions", api(router::ApiKind::kChat));
  server->add_route(V::post, "/v1/completions", api(router::ApiKind::kCompletion));
  server->add_route(V::get, "/v1/models",
                    [service, created](const HttpRequest& r, ResponseWriter& w) -> asio::awaitable<void> {
                      if (!co_await check_auth(r, w, *service)) co_return;
                      const nlohmann::json body = router::models_body(service->options().served_model_name, created);
                      co_await w.send_json(http::status::ok, body);
                    });
  const bool protect = service->options().protect_status;
  server->add_route(V::get, "/health", [service, view, protect](const HttpRequest& r, ResponseWriter& w) {
    return handle_health(w, *service, *view, !protect || service->authorized(r));
  });
  server->add_route(V::get, "/metrics",
                    [registry, service, protect](const HttpRequest& r, ResponseWriter& w) -> asio::awaitable<void> {
                      if (protect && !co_await check_auth(r, w, *service)) co_return;
                      co_await w.send_text(http::status::ok, net::kPrometheusContentType, registry->render());
                    });
}

}  // namespace ppd::router
