// TokenStream: the outputs of one request as the coroutine serving it reads them, in order,
// ending with the output that carries a finish reason. Fed by the engine thread through an
// OutputChannel. Used from one coroutine at a time.
#pragma once

#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "ppd/node/engine_loop.h"

namespace ppd::node {

class TokenStream {
 public:
  // `first`, when set, is returned before anything from the channel (a remote-path
  // request's first token, sampled by the prefill node).
  TokenStream(RequestId id, std::shared_ptr<OutputChannel> channel, std::optional<engine::RequestOutput> first);
  ~TokenStream();  // closes the channel: later outputs are dropped by the engine thread

  RequestId id() const { return id_; }
  // The next output; nullopt once the finished one was returned. UNAVAILABLE when the
  // channel closes before the request finished (the node is stopping).
  boost::asio::awaitable<Result<std::optional<engine::RequestOutput>>> next();

 private:
  RequestId id_;
  std::shared_ptr<OutputChannel> channel_;
  std::optional<engine::RequestOutput> first_;
  bool done_ = false;
};

}  // namespace ppd::node
