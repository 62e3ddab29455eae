#include "ppd/node/token_stream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

// Coroutine rule 2 (docs/decisions/0005): GCC 12's false "maybe uninitialized" on a returned
// optional, off for this file's coroutines only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ppd::node {

TokenStream::TokenStream(RequestId id, std::shared_ptr<OutputChannel> channel,
                         std::optional<engine::RequestOutput> first)
    : id_(id), channel_(std::move(channel)), first_(std::move(first)) {}

TokenStream::~TokenStream() { channel_->close(); }

boost::asio::awaitable<Result<std::optional<engine::RequestOutput>>> TokenStream::next() {
  if (done_) co_return std::optional<engine::RequestOutput>();
  engine::RequestOutput out;
  if (first_) {
    out = std::move(*first_);
    first_.reset();
  } else {
    auto [ec, received] = co_await channel_->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return unavailable("request {}: the node stopped before it finished", id_.value);
    out = std::move(received);
  }
  done_ = out.finish_reason != sched::FinishReason::kNone;
  co_return std::optional<engine::RequestOutput>(std::move(out));
}

}  // namespace ppd::node

#pragma GCC diagnostic pop
