#include "ppd/node/node_http.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/common/json_excerpt.h"
#include "ppd/common/secret.h"
#include "ppd/common/status.h"
#include "ppd/model/json_reader.h"

namespace ppd::node {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using net::HttpRequest;
using net::ResponseWriter;

namespace {

std::string error_line(const Status& s) {
  return nlohmann::json{{"error", {{"message", s.message()}, {"code", status_code_name(s.code())}}}}.dump() + "\n";
}

void count(NodeMetrics* m, std::string_view kind, const Status& s) {
  m->requests->with({std::string(kind), s.ok() ? "ok" : std::string(status_code_name(s.code()))}).inc();
}

// Streams a request's outputs as NDJSON, one line per token; the first line carries
// `first_extra` under "kv_transfer" when given. A client that leaves aborts the request.
asio::awaitable<void> stream_outputs(ResponseWriter& w, NodeService& service, TokenStream& stream,
                                     const nlohmann::json& first_extra, NodeMetrics* m) {
  if (!(co_await w.begin_stream("application/x-ndjson")).ok()) {
    co_await service.abort(stream.id());
    co_return;
  }
  for (int index = 0;; ++index) {
    Result<std::optional<engine::RequestOutput>> out = co_await stream.next();
    if (!out.ok()) {
      co_await w.write_chunk(error_line(out.status()));
      break;
    }
    if (!*out) break;
    nlohmann::json line = output_json(**out, index);
    if (index == 0 && !first_extra.is_null()) line["kv_transfer"] = first_extra;
    if ((*out)->finish_reason != sched::FinishReason::kNone) {
      m->prefix_hit_tokens->with({}).inc((*out)->num_cached_tokens);
    }
    m->output_tokens->with({}).inc();
    if (!(co_await w.write_chunk(line.dump() + "\n")).ok()) {
      co_await service.abort(stream.id());
      co_return;
    }
  }
  co_await w.end_stream();
}

asio::awaitable<void> handle_generate(const HttpRequest& req, ResponseWriter& w, NodeService& service, NodeMetrics* m) {
  Result<NodeRequest> parsed = parse_node_request(req.body(), "generate");
  Result<std::unique_ptr<TokenStream>> stream = parsed.status();
  if (parsed.ok()) stream = co_await service.generate(std::move(*parsed));
  count(m, "generate", stream.status());
  if (!stream.ok()) {
    co_await w.send_error(stream.status());
    co_return;
  }
  co_await stream_outputs(w, service, **stream, nlohmann::json(), m);
}

asio::awaitable<void> handle_prefill(const HttpRequest& req, ResponseWriter& w, NodeService& service, NodeMetrics* m) {
  Result<NodeRequest> parsed = parse_node_request(req.body(), "prefill");
  Result<KvHandle> handle = parsed.status();
  if (parsed.ok()) handle = co_await service.prefill(std::move(*parsed));
  count(m, "prefill", handle.status());
  if (!handle.ok()) {
    co_await w.send_error(handle.status());
    co_return;
  }
  m->prefix_hit_tokens->with({}).inc(handle->num_cached_tokens);
  const nlohmann::json body = {{"handle", to_json(*handle)}};
  co_await w.send_json(http::status::ok, body);
}

asio::awaitable<void> handle_decode(const HttpRequest& req, ResponseWriter& w, NodeService& service, NodeMetrics* m) {
  Result<NodeRequest> parsed = parse_node_request(req.body(), "decode");
  Result<DecodeStarted> started = parsed.status();
  if (parsed.ok()) started = co_await service.decode(std::move(*parsed));
  count(m, "decode", started.status());
  if (!started.ok()) {
    co_await w.send_error(started.status());
    co_return;
  }
  const TransferStats& t = started->transfer;
  m->transfer_bytes->with({}).inc(static_cast<double>(t.bytes));
  m->transfer_blocks->with({"pulled"}).inc(t.num_pulled_blocks);
  m->transfer_blocks->with({"local"}).inc(t.num_local_blocks);
  const nlohmann::json transfer = {{"num_local_blocks", t.num_local_blocks},
                                   {"num_pulled_blocks", t.num_pulled_blocks},
                                   {"bytes", t.bytes},
                                   {"duration_us", t.duration_ns / 1000}};
  co_await stream_outputs(w, service, *started->stream, transfer, m);
}

asio::awaitable<void> handle_release(const HttpRequest& req, ResponseWriter& w, NodeService& service) {
  Result<nlohmann::json> body = model::parse_json(req.body(), "request body");
  Status s = body.ok() && body->is_object() ? check_known_keys(*body, {"handle"}, "")
                                            : invalid_argument("request body: expected {{\"handle\": N}}");
  if (s.ok() && (!body->contains("handle") || !(*body)["handle"].is_number_unsigned())) {
    s = invalid_argument("handle: expected an unsigned integer");
  }
  if (!s.ok()) {
    const Status error = body.ok() ? s : body.status();  // coroutine rule 1 (docs/decisions/0005)
    co_await w.send_error(error);
    co_return;
  }
  const uint64_t h = (*body)["handle"].get<uint64_t>();
  const bool known = service.handles().contains(h);
  service.handles().release(h);
  if (!known) {
    co_await w.send_error(not_found("handle {}: unknown, released or expired", h));
    co_return;
  }
  const nlohmann::json released = {{"released", h}};
  co_await w.send_json(http::status::ok, released);
}

// POST /drain: {} or {"draining": true} drains, {"draining": false} takes requests again.
asio::awaitable<void> handle_drain(const HttpRequest& req, ResponseWriter& w, NodeService& service) {
  bool draining = true;
  Status s = Status::Ok();
  if (!req.body().empty()) {
    Result<nlohmann::json> body = model::parse_json(req.body(), "request body");
    s = !body.ok()           ? body.status()
        : !body->is_object() ? invalid_argument("request body: expected {{\"draining\": true|false}}")
                             : check_known_keys(*body, {"draining"}, "");
    if (s.ok() && body->contains("draining")) {
      if ((*body)["draining"].is_boolean()) {
        draining = (*body)["draining"].get<bool>();
      } else {
        s = invalid_argument("draining: expected true or false; got {}", json_excerpt((*body)["draining"]));
      }
    }
  }
  if (!s.ok()) {
    co_await w.send_error(s);
    co_return;
  }
  service.set_draining(draining);
  const nlohmann::json answer = {{"status", service.draining() ? "draining" : "ok"}};
  co_await w.send_json(http::status::ok, answer);
}

asio::awaitable<void> handle_events(ResponseWriter& w, Telemetry& telemetry) {
  std::shared_ptr<EventChannel> channel = telemetry.subscribe(co_await asio::this_coro::executor);
  Status s = co_await w.begin_stream("application/x-ndjson");
  if (s.ok()) s = co_await w.write_chunk(telemetry.load_snapshot().dump() + "\n");
  while (s.ok()) {
    auto [ec, line] = co_await channel->async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    s = co_await w.write_chunk(line + "\n");
  }
  channel->close();
  if (s.ok()) co_await w.end_stream();
}

// What a router needs to agree with this node on prompts and costs.
nlohmann::json engine_info(const engine::Engine& e) {
  return {{"model_identity", fmt::format("{:016x}", e.model_identity())},
          {"kv_hash_seed", fmt::format("{:016x}", e.kv_hash_seed())},
          {"weights", weight_format_name(e.weight_format())},
          {"kv_dtype", dtype_name(e.kv_dtype())},
          {"block_size", e.block_size()},
          {"block_bytes", e.block_bytes()},
          {"max_model_len", e.max_model_len()},
          {"max_prefill_tokens", e.options().scheduler.max_prefill_tokens},
          {"max_num_running", e.options().scheduler.max_num_running},
          {"vocab_size", e.config().vocab_size}};
}

asio::awaitable<void> handle_health(ResponseWriter& w, NodeService& service, Telemetry& telemetry) {
  const Status invariants = co_await service.check_invariants();
  nlohmann::json body = telemetry.load_snapshot();
  body["type"] = "health";
  body["status"] = service.draining() ? "draining" : "ok";
  body["role"] = node_role_name(service.options().role);
  body["kv_address"] = service.options().kv_address;
  body["num_pinned_handles"] = service.handles().size();
  body["invariants"] = invariants.ok() ? "ok" : invariants.to_string();
  body["engine"] = engine_info(service.engine());
  co_await w.send_json(invariants.ok() ? http::status::ok : http::status::internal_server_error, body);
}

asio::awaitable<void> handle_metrics(ResponseWriter& w, Telemetry& telemetry, net::MetricsRegistry& registry,
                                     NodeMetrics* m) {
  const nlohmann::json load = telemetry.load_snapshot();
  for (const char* field : {"num_waiting", "num_running", "num_pending_prefill_tokens", "num_free_blocks",
                            "num_pinned_handles", "transfer_bytes_per_s"}) {
    m->load->with({field}).set(load[field].get<double>());
  }
  co_await w.send_text(http::status::ok, net::kPrometheusContentType, registry.render());
}

}  // namespace

Result<NodeMetrics> register_node_metrics(net::MetricsRegistry* r) {
  NodeMetrics m;
  PPD_ASSIGN_OR_RETURN(m.requests, r->counter("ppd:node_requests_total", "Internal API requests by kind and outcome",
                                              {"kind", "outcome"}));
  PPD_ASSIGN_OR_RETURN(m.output_tokens, r->counter("ppd:node_output_tokens_total", "Tokens streamed to callers"));
  PPD_ASSIGN_OR_RETURN(m.prefix_hit_tokens,
                       r->counter("ppd:prefix_hit_tokens_total", "Prompt tokens served from the prefix cache"));
  PPD_ASSIGN_OR_RETURN(m.transfer_bytes,
                       r->counter("ppd:kv_transfer_bytes_total", "KV bytes pulled from prefill nodes"));
  PPD_ASSIGN_OR_RETURN(m.transfer_blocks,
                       r->counter("ppd:kv_transfer_blocks_total",
                                  "Prompt blocks of remote-path requests, pulled or found locally", {"source"}));
  PPD_ASSIGN_OR_RETURN(m.load, r->gauge("ppd:node_load", "The node's latest load snapshot", {"field"}));
  return m;
}

void add_node_routes(net::HttpServer* server, NodeService* service, Telemetry* telemetry,
                     net::MetricsRegistry* registry, NodeMetrics* m, const std::string& cluster_secret) {
  using V = http::verb;
  // Every route asks for the cluster secret when there is one.
  auto add = [&](V method, std::string path, net::Handler handler) {
    if (cluster_secret.empty()) {
      server->add_route(method, std::move(path), std::move(handler));
      return;
    }
    server->add_route(method, std::move(path),
                      [secret = cluster_secret, handler = std::move(handler)](
                          const HttpRequest& r, ResponseWriter& w) -> asio::awaitable<void> {
                        if (bearer_matches(secret, r.header("authorization").value_or(""))) {
                          co_await handler(r, w);
                          co_return;
                        }
                        w.set_header("WWW-Authenticate", "Bearer");
                        const Status refused(StatusCode::kUnauthenticated,
                                             "cluster secret: missing or wrong; send \"Authorization: Bearer SECRET\"");
                        co_await w.send_error(refused);
                      });
  };
  add(V::post, "/generate",
      [=](const HttpRequest& r, ResponseWriter& w) { return handle_generate(r, w, *service, m); });
  add(V::post, "/prefill", [=](const HttpRequest& r, ResponseWriter& w) { return handle_prefill(r, w, *service, m); });
  add(V::post, "/decode", [=](const HttpRequest& r, ResponseWriter& w) { return handle_decode(r, w, *service, m); });
  add(V::post, "/release", [=](const HttpRequest& r, ResponseWriter& w) { return handle_release(r, w, *service); });
  add(V::post, "/drain", [=](const HttpRequest& r, ResponseWriter& w) { return handle_drain(r, w, *service); });
  add(V::get, "/events", [=](const HttpRequest&, ResponseWriter& w) { return handle_events(w, *telemetry); });
  add(V::get, "/health", [=](const HttpRequest&, ResponseWriter& w) { return handle_health(w, *service, *telemetry); });
  add(V::get, "/metrics",
      [=](const HttpRequest&, ResponseWriter& w) { return handle_metrics(w, *telemetry, *registry, m); });
}

}  // namespace ppd::node
