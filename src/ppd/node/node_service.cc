#include "ppd/node/node_service.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "ppd/common/secret.h"

namespace ppd::node {
namespace asio = boost::asio;

Result<NodeRole> parse_node_role(std::string_view name) {
  if (name == "prefill") return NodeRole::kPrefill;
  if (name == "decode") return NodeRole::kDecode;
  if (name == "mixed") return NodeRole::kMixed;
  return invalid_argument("role: unknown \"{}\"; supported: prefill, decode, mixed", name);
}

std::string_view node_role_name(NodeRole role) {
  switch (role) {
    case NodeRole::kPrefill:
      return "prefill";
    case NodeRole::kDecode:
      return "decode";
    case NodeRole::kMixed:
      return "mixed";
  }
  return "unknown";
}

NodeService::NodeService(const NodeServiceOptions& options, asio::any_io_executor executor, EngineLoop* loop,
                         transfer::KvTransport* transport, Telemetry* telemetry, const Clock* clock)
    : options_(options),
      executor_(std::move(executor)),
      loop_(loop),
      transport_(transport),
      telemetry_(telemetry),
      clock_(clock),
      handles_([this](uint64_t owner) { unpin(owner); }) {}

void NodeService::unpin(uint64_t owner) {
  auto release = [owner](engine::Engine& e) {
    const bool released = e.unpin(RequestId{owner});
    spdlog::debug("kv handle unpinned request={} held={}", owner, released);
    return released;
  };
  asio::co_spawn(executor_, loop_->call(std::move(release)), asio::detached);
  telemetry_->set_num_pinned_handles(handles_.size());
}

void NodeService::set_draining(bool draining) {
  draining_ = draining || stopped_;
  if (telemetry_ == nullptr) return;
  telemetry_->set_draining(draining_);
  telemetry_->publish_load_report();
}

Status NodeService::admit(std::string_view kind, bool allowed_here) const {
  if (!allowed_here) {
    return failed_precondition("{}: not served by a {} node ({})", kind, node_role_name(options_.role), options_.name);
  }
  if (draining_) return unavailable("{}: node {} is draining", kind, options_.name);
  return Status::Ok();
}

asio::awaitable<Result<std::unique_ptr<TokenStream>>> NodeService::generate(NodeRequest request) {
  if (Status s = admit("generate", options_.role != NodeRole::kPrefill); !s.ok()) co_return s;
  engine::RequestSpec spec{.prompt = std::move(request.token_ids), .params = std::move(request.sampling)};
  Result<std::unique_ptr<TokenStream>> stream = co_await submit(std::move(spec));
  if (stream.ok()) spdlog::debug("generate id={} request_id={}", (*stream)->id().value, request.request_id);
  co_return stream;
}

Status NodeService::check_pinned_room() const {
  const engine::Engine& e = loop_->engine();
  const int64_t pool = e.options().num_kv_blocks > 0
                           ? e.options().num_kv_blocks
                           : e.options().kv_cache_bytes / static_cast<int64_t>(std::max<size_t>(e.block_bytes(), 1));
  const auto limit = static_cast<int64_t>(options_.max_pinned_fraction * static_cast<double>(pool));
  const int64_t pinned = handles_.num_blocks();
  if (pinned <= limit) return Status::Ok();
  return resource_exhausted(
      "prefill: node {} pins {} of its {} KV blocks for decode nodes that have not pulled them; "
      "the limit is {} (--max-pinned-fraction {})",
      options_.name, pinned, pool, limit, options_.max_pinned_fraction);
}

asio::awaitable<Result<KvHandle>> NodeService::prefill(NodeRequest request) {
  if (Status s = admit("prefill", options_.role != NodeRole::kDecode); !s.ok()) co_return s;
  if (Status s = check_pinned_room(); !s.ok()) co_return s;
  request::SamplingParams params = std::move(request.sampling);
  params.max_tokens = 1;
  params.min_tokens = std::min(params.min_tokens, 1);
  engine::RequestSpec spec{.prompt = std::move(request.token_ids),
                           .params = std::move(params),
                           .blocks_on_finish = sched::BlocksOnFinish::kPin};
  Result<std::unique_ptr<TokenStream>> stream = co_await submit(std::move(spec));
  if (!stream.ok()) co_return stream.status();
  Result<std::optional<engine::RequestOutput>> out = co_await (*stream)->next();
  if (!out.ok()) co_return out.status();
  const RequestId id = (*stream)->id();
  if ((*out)->finish_reason == sched::FinishReason::kError) {
    co_return internal_error("prefill: request {} produced non-finite logits", id.value);
  }
  const std::shared_ptr<engine::PinnedRequest> pinned = std::move((*out)->pinned);
  if (!pinned) co_return internal_error("prefill: request {} finished without pinning its blocks", id.value);
  // Unguessable: a handle id is all a KV pull or a release names.
  uint64_t handle_id = random_u64();
  while (handle_id == 0 || handles_.contains(handle_id)) handle_id = random_u64();
  KvHandle handle{.node = options_.name,
                  .kv_address = options_.kv_address,
                  .handle = handle_id,
                  .num_prompt_tokens = pinned->num_prompt_tokens,
                  .block_size = loop_->engine().block_size(),
                  .num_cached_tokens = (*out)->num_cached_tokens,
                  .block_hashes = pinned->block_hashes,
                  .first_token = pinned->first_token,
                  .sampling_seed = pinned->sampling_seed};
  handle.block_ids = std::move(pinned->block_ids);
  handles_.add(handle_id, id.value, std::move(pinned->blocks), clock_->now_ns());
  telemetry_->set_num_pinned_handles(handles_.size());
  spdlog::debug("prefill id={} handle={:016x} request_id={} prompt_tokens={} cached_tokens={} blocks={}", id.value,
                handle_id, request.request_id, handle.num_prompt_tokens, handle.num_cached_tokens, handle.num_blocks());
  co_return handle;
}

asio::awaitable<Result<std::unique_ptr<TokenStream>>> NodeService::submit(engine::RequestSpec spec) {
  // Room for every output the request can make, so the engine thread never waits.
  const size_t capacity = static_cast<size_t>(loop_->engine().max_model_len()) + 1;
  auto channel = std::make_shared<OutputChannel>(co_await asio::this_coro::executor, capacity);
  auto add = [this, spec = std::move(spec), channel](engine::Engine& e) mutable {
    Result<RequestId> r = e.add_request(std::move(spec));
    if (r.ok()) loop_->route_outputs(*r, channel);
    return r;
  };
  Result<RequestId> id = co_await loop_->call(std::move(add));
  if (!id.ok()) co_return id.status();
  co_return std::make_unique<TokenStream>(*id, channel, std::nullopt);
}

asio::awaitable<void> NodeService::abort(RequestId id) {
  auto drop = [this, id](engine::Engine& e) {
    loop_->drop_route(id);
    return e.abort_request(id);
  };
  co_await loop_->call(std::move(drop));
}

asio::awaitable<Status> NodeService::check_invariants() {
  auto check = [](engine::Engine& e) { return e.check_invariants(); };
  co_return co_await loop_->call(std::move(check));
}

asio::awaitable<void> NodeService::run_pin_expiry() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const int64_t period_ms = std::max<int64_t>(10, options_.pin_timeout_ms / 4);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(period_ms));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopped_) co_return;
    const int64_t cutoff = clock_->now_ns() - options_.pin_timeout_ms * 1'000'000;
    for (uint64_t h : handles_.release_older_than(cutoff)) {
      spdlog::warn("kv handle expired node={} handle={} pin_timeout_ms={}", options_.name, h, options_.pin_timeout_ms);
    }
  }
}

}  // namespace ppd::node
