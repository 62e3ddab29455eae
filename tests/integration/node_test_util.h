// In-process nodes for tests: a prefill and a decode NodeService (or more) in one process,
// each with its own engine thread, sharing one network io_context thread and an in-process
// (optionally fault-injecting) KV transport. run() drives a coroutine to completion.
#pragma once

#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "ppd/node/node_service.h"
#include "ppd/transfer/fault_injection.h"
#include "ppd/transfer/in_process_transport.h"

namespace ppd::testing {

// co_spawn needs a default-constructible result; Result<T> is not, optional<Result<T>> is.
template <typename T>
boost::asio::awaitable<std::optional<T>> as_optional(boost::asio::awaitable<T> work) {
  co_return std::optional<T>(co_await std::move(work));
}

struct TestNode {
  std::unique_ptr<node::Telemetry> telemetry;
  std::unique_ptr<node::EngineLoop> loop;
  std::unique_ptr<node::NodeService> service;
};

class InProcessCluster {
 public:
  InProcessCluster();
  ~InProcessCluster();

  // Adds a node serving `model_dir` with `num_blocks` KV blocks, reachable as `name`.
  struct NodeOptions {
    int num_blocks = 512;
    int64_t pin_timeout_ms = 60'000;
    int64_t transfer_timeout_ms = 5'000;
  };
  TestNode& add_node(const std::string& name, node::NodeRole role, const std::string& model_dir,
                     const NodeOptions& options);
  TestNode& add_node(const std::string& name, node::NodeRole role, const std::string& model_dir) {
    return add_node(name, role, model_dir, NodeOptions{});
  }

  template <typename T>
  T run(boost::asio::awaitable<T> work) {
    return std::move(*boost::asio::co_spawn(io_, as_optional(std::move(work)), boost::asio::use_future).get());
  }
  void run(boost::asio::awaitable<void> work) {
    boost::asio::co_spawn(io_, std::move(work), boost::asio::use_future).get();
  }
  // Lets detached work (handle releases, their engine calls) finish: a few round trips
  // through the network thread and every engine thread.
  void settle();

  transfer::FaultInjectingTransport& faults() { return *faults_; }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  std::thread thread_;
  SteadyClock clock_;
  transfer::InProcessRegistry registry_;
  std::unique_ptr<transfer::InProcessKvTransport> transport_;
  std::unique_ptr<transfer::FaultInjectingTransport> faults_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

// The tokens of a finished stream (and its final output), read to the end.
struct StreamResult {
  std::vector<TokenId> tokens;
  engine::RequestOutput last;
  Status status;
};
boost::asio::awaitable<StreamResult> read_all(std::unique_ptr<node::TokenStream> stream);

}  // namespace ppd::testing
