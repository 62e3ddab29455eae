// NodeService's remote path on a decode node: check the handle against this node's own
// block hashes of the prompt, reserve blocks, pull the ones it lacks under a deadline,
// verify their checksums, release the handle on the prefill node and start decoding.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "ppd/node/node_service.h"

namespace ppd::node {
namespace asio = boost::asio;
namespace {

Status check_handle(const KvHandle& h, const std::vector<TokenId>& prompt, const engine::Engine& engine) {
  if (h.block_size != engine.block_size()) {
    return invalid_argument("handle.block_size: must equal this node's {}; got {}", engine.block_size(), h.block_size);
  }
  if (h.num_prompt_tokens != std::ssize(prompt)) {
    return invalid_argument("handle.num_prompt_tokens: must equal the {} token_ids; got {}", prompt.size(),
                            h.num_prompt_tokens);
  }
  const std::vector<BlockHash> mine = engine.block_hashes(prompt);
  if (h.block_hashes.size() != mine.size()) {
    return invalid_argument("handle.block_hashes: must hold {} hashes; got {}", mine.size(), h.block_hashes.size());
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    if (h.block_hashes[i] != mine[i]) {
      return invalid_argument(
          "handle.block_hashes[{}]: {:016x} differs from this node's {:016x} (another model or other tokens)", i,
          h.block_hashes[i].value, mine[i].value);
    }
  }
  return Status::Ok();
}

}  // namespace

asio::awaitable<Result<DecodeStarted>> NodeService::decode(NodeRequest request) {
  if (Status s = admit("decode", options_.role != NodeRole::kPrefill); !s.ok()) co_return s;
  const KvHandle handle = *request.handle;
  if (Status s = check_handle(handle, request.token_ids, loop_->engine()); !s.ok()) {
    release_remote(handle);
    co_return s;
  }
  request.sampling.seed = handle.sampling_seed;  // sampling goes on exactly as on the prefill node
  engine::ImportSpec spec{.request = {.prompt = std::move(request.token_ids), .params = std::move(request.sampling)},
                          .first_token = handle.first_token,
                          .mode = request.mode};
  auto begin = [spec = std::move(spec)](engine::Engine& e) mutable { return e.begin_import(std::move(spec)); };
  Result<engine::ImportTarget> target = co_await loop_->call(std::move(begin));
  if (!target.ok()) {
    release_remote(handle);
    co_return target.status();
  }
  Result<TransferStats> moved = co_await pull_blocks(handle, *target);
  release_remote(handle);
  if (!moved.ok()) {
    co_await abort(target->id);
    spdlog::warn("decode failed request_id={} id={} error=\"{}\"", request.request_id, target->id.value,
                 moved.status().to_string());
    co_return moved.status();
  }
  const size_t capacity = static_cast<size_t>(loop_->engine().max_model_len()) + 1;
  auto channel = std::make_shared<OutputChannel>(co_await asio::this_coro::executor, capacity);
  auto finish = [this, id = target->id, channel](engine::Engine& e) {
    Result<engine::RequestOutput> r = e.finish_import(id);
    if (r.ok() && r->finish_reason == sched::FinishReason::kNone) loop_->route_outputs(id, channel);
    return r;
  };
  Result<engine::RequestOutput> first = co_await loop_->call(std::move(finish));
  if (!first.ok()) co_return first.status();
  spdlog::debug("decode id={} request_id={} local_blocks={} pulled_blocks={} bytes={} transfer_us={}", target->id.value,
                request.request_id, moved->num_local_blocks, moved->num_pulled_blocks, moved->bytes,
                moved->duration_ns / 1000);
  co_return DecodeStarted{std::make_unique<TokenStream>(target->id, channel, std::move(*first)), *moved};
}

asio::awaitable<Result<TransferStats>> NodeService::pull_blocks(const KvHandle& handle,
                                                                const engine::ImportTarget& target) {
  transfer::PullRequest pull{.source = handle.kv_address, .handle = handle.handle};
  for (int i = target.num_local_blocks; i < target.num_prompt_blocks; ++i)
    pull.indices.push_back(static_cast<uint32_t>(i));
  TransferStats stats{.num_local_blocks = target.num_local_blocks,
                      .num_pulled_blocks = static_cast<int>(pull.indices.size())};
  if (pull.indices.empty()) co_return stats;
  const int64_t start_ns = clock_->now_ns();
  const std::span<const std::span<uint8_t>> dest(target.dest);
  Result<transfer::PullResult> got = co_await transfer::pull_with_deadline(
      *transport_, pull, dest, std::chrono::milliseconds(options_.transfer_timeout_ms));
  const std::string context =
      fmt::format("decode: kv pull of {} blocks from {} ({})", pull.indices.size(), handle.node, handle.kv_address);
  if (!got.ok()) co_return got.status().with_context(context);
  if (Status s = transfer::verify_checksums(pull, dest, got->checksums); !s.ok()) co_return s.with_context(context);
  stats.bytes = got->bytes;
  stats.duration_ns = clock_->now_ns() - start_ns;
  telemetry_->record_transfer(stats.bytes, stats.duration_ns);
  co_return stats;
}

void NodeService::release_remote(const KvHandle& handle) {
  asio::co_spawn(
      executor_,
      [this, address = handle.kv_address, h = handle.handle]() -> asio::awaitable<void> {
        const Status s = co_await transport_->release(address, h);
        if (!s.ok())
          spdlog::info("kv handle release failed address={} handle={} error=\"{}\"", address, h, s.to_string());
      },
      asio::detached);
}

}  // namespace ppd::node
