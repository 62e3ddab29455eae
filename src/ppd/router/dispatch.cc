#include "ppd/router/dispatch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/routing/policies.h"

namespace ppd::router {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using routing::Path;

namespace {

bool retryable_code(StatusCode code) { return code != StatusCode::kInvalidArgument; }

nlohmann::json node_request(const std::string& request_id, std::span<const TokenId> token_ids,
                            const request::SamplingParams& sampling) {
  return {{"request_id", request_id},
          {"token_ids", std::vector<TokenId>(token_ids.begin(), token_ids.end())},
          {"sampling", sampling_json(sampling)}};
}

StreamWatch watch_of(const Dispatch& x, NodeId node) {
  return {.first_line_ms = x.first_token_timeout_ms,
          .line_gap_ms = x.token_timeout_ms,
          .node_alive = [view = x.view, node] { return view->node(node).healthy; }};
}

// Returns once `node` is unhealthy in the view (checked every 100 ms).
asio::awaitable<void> until_unhealthy(const routing::ClusterView* view, NodeId node) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (view->node(node).healthy) {
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// /prefill on `node`, given up when the node turns unhealthy before it answers.
asio::awaitable<Result<nlohmann::json>> watched_prefill(const Dispatch& x, NodeId node, std::string body) {
  auto ended = co_await (
      call_prefill(x.monitor->address(node), std::move(body), x.prefill_timeout_ms, x.monitor->cluster_secret()) ||
      until_unhealthy(x.view, node));
  if (ended.index() == 0) co_return std::move(std::get<0>(ended));
  co_return unavailable("prefill node {}: its load reports stopped; the call is given up",
                        net::format_host_port(x.monitor->address(node).host, x.monitor->address(node).port));
}

// A handle may only send the decode node to the KV server its prefill node told the router of.
Status check_kv_address(const nlohmann::json& handle, const std::string& known) {
  auto it = handle.find("kv_address");
  const std::string named = it != handle.end() && it->is_string() ? it->get<std::string>() : std::string();
  if (!known.empty() && named == known) return Status::Ok();
  return internal_error("prefill handle: kv_address \"{:.80}\" is not the prefill node's KV server \"{}\"", named,
                        known);
}

}  // namespace

nlohmann::json sampling_json(const request::SamplingParams& p) {
  nlohmann::json j = {
      {"temperature", p.temperature}, {"top_k", p.top_k},           {"top_p", p.top_p},
      {"min_tokens", p.min_tokens},   {"ignore_eos", p.ignore_eos}, {"stop_token_ids", p.stop_token_ids}};
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (p.seed) j["seed"] = *p.seed;
  return j;
}

asio::awaitable<AttemptResult> open_path(const Dispatch& x, const routing::RouteDecision& d, const std::string& id,
                                         std::span<const TokenId> token_ids, const request::SamplingParams& sampling) {
  nlohmann::json body = node_request(id, token_ids, sampling);
  const net::HostPort& decode = x.monitor->address(d.decode);
  if (d.path == Path::kLocal) {
    co_return AttemptResult{.stream =
                                NodeStream::start(x.executor, decode, "/generate", body.dump(), x.stream_timeout_ms,
                                                  watch_of(x, d.decode), x.monitor->cluster_secret())};
  }
  Result<nlohmann::json> handle = co_await watched_prefill(x, *d.prefill, body.dump());
  if (!handle.ok()) {
    // A node's own answer names it ("node h:p: ..."); a failed connection names the URL.
    const bool answered = handle.status().message().starts_with("node ");
    // A full prefill node (429) sends the retry down the local path.
    co_return AttemptResult{.error = handle.status(),
                            .retryable = retryable_code(handle.status().code()),
                            .failed_node = d.prefill,
                            .unreachable = !answered,
                            .remote_failed = handle.status().code() == StatusCode::kResourceExhausted};
  }
  std::optional<uint64_t> handle_id;
  if (auto it = handle->find("handle"); it != handle->end() && it->is_number_unsigned())
    handle_id = it->get<uint64_t>();
  if (Status s = check_kv_address(*handle, x.monitor->kv_address(*d.prefill)); !s.ok()) {
    if (handle_id) release_after_failure(x, d, *handle_id);
    co_return AttemptResult{.error = s, .retryable = true, .failed_node = d.prefill, .handle = handle_id};
  }
  body["handle"] = std::move(*handle);
  body["transfer"] = std::string(routing::transfer_mode_name(d.transfer));
  co_return AttemptResult{.stream = NodeStream::start(x.executor, decode, "/decode", body.dump(), x.stream_timeout_ms,
                                                      watch_of(x, d.decode), x.monitor->cluster_secret()),
                          .handle = handle_id};
}

void release_after_failure(const Dispatch& x, const routing::RouteDecision& d, uint64_t handle) {
  if (!d.prefill) return;
  asio::co_spawn(x.executor, release_handle(x.monitor->address(*d.prefill), handle, x.monitor->cluster_secret()),
                 asio::detached);
}

AttemptResult attribute_stream_failure(const routing::RouteDecision& d, const Status& error, const NodeStream& stream) {
  AttemptResult r{.error = error, .retryable = retryable_code(error.code())};
  if (!stream.node_answered()) {
    r.failed_node = d.decode;
    r.unreachable = true;
    return r;
  }
  if (stream.node_refused() && error.code() != StatusCode::kInvalidArgument) {
    // The decode node turned the request away (draining, full): another decode node may take it.
    r.failed_node = d.decode;
    return r;
  }
  if (d.path == Path::kRemote) {
    // The decode node answered: its pull from the prefill node (or its import) failed.
    r.remote_failed = true;
    if (error.code() == StatusCode::kResourceExhausted) r.failed_node = d.decode;
    return r;
  }
  r.failed_node = d.decode;
  return r;
}

void apply_failure(const AttemptResult& f, routing::RouteInput* in, ClusterMonitor* monitor) {
  if (f.failed_node) {
    for (NodeId id : monitor->ids_of_same_node(*f.failed_node)) in->excluded.push_back(id);
    if (f.unreachable) monitor->report_failure(*f.failed_node);
  }
  if (f.remote_failed) in->remote_failed = true;
}

}  // namespace ppd::router
