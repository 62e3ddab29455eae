#include "ppd/frontend/dispatch.h"

#include "ppd/router/policies.h"

namespace ppd::frontend {
namespace asio = boost::asio;
using router::Path;

namespace {

bool retryable_code(StatusCode code) { return code != StatusCode::kInvalidArgument; }

nlohmann::json node_request(const std::string& request_id, std::span<const TokenId> token_ids,
                            const sched::SamplingParams& sampling) {
  return {{"request_id", request_id},
          {"token_ids", std::vector<TokenId>(token_ids.begin(), token_ids.end())},
          {"sampling", sampling_json(sampling)}};
}

}  // namespace

nlohmann::json sampling_json(const sched::SamplingParams& p) {
  nlohmann::json j = {{"temperature", p.temperature}, {"top_k", p.top_k},         {"top_p", p.top_p},
                      {"min_tokens", p.min_tokens},   {"ignore_eos", p.ignore_eos}, {"stop_token_ids", p.stop_token_ids}};
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (p.seed) j["seed"] = *p.seed;
  return j;
}

asio::awaitable<AttemptResult> open_path(const Dispatch& x, const router::RouteDecision& d, const std::string& id,
                                         std::span<const TokenId> token_ids, const sched::SamplingParams& sampling) {
  nlohmann::json body = node_request(id, token_ids, sampling);
  const net::HostPort& decode = x.monitor->address(d.decode);
  if (d.path == Path::kLocal) {
    co_return AttemptResult{.stream = NodeStream::start(x.executor, decode, "/generate", body.dump(), x.stream_timeout_ms)};
  }
  const net::HostPort& prefill = x.monitor->address(*d.prefill);
  const std::string prefill_body = body.dump();
  Result<nlohmann::json> handle = co_await call_prefill(prefill, prefill_body, x.prefill_timeout_ms);
  if (!handle.ok()) {
    // A node's own answer names it ("node h:p: ..."); a failed connection names the URL.
    const bool answered = handle.status().message().starts_with("node ");
    co_return AttemptResult{.error = handle.status(), .retryable = retryable_code(handle.status().code()),
                            .failed_node = d.prefill, .unreachable = !answered, .remote_failed = false};
  }
  body["handle"] = std::move(*handle);
  body["transfer"] = std::string(router::transfer_mode_name(d.transfer));
  co_return AttemptResult{.stream = NodeStream::start(x.executor, decode, "/decode", body.dump(), x.stream_timeout_ms)};
}

AttemptResult attribute_stream_failure(const router::RouteDecision& d, const Status& error, const NodeStream& stream) {
  AttemptResult r{.error = error, .retryable = retryable_code(error.code())};
  if (!stream.node_answered()) {
    r.failed_node = d.decode;
    r.unreachable = true;
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

void apply_failure(const AttemptResult& f, router::RouteInput* in, ClusterMonitor* monitor) {
  if (f.failed_node) {
    for (NodeId id : monitor->ids_of_same_node(*f.failed_node)) in->excluded.push_back(id);
    if (f.unreachable) monitor->report_failure(*f.failed_node);
  }
  if (f.remote_failed) in->remote_failed = true;
}

}  // namespace ppd::frontend
