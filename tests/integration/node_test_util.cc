#include "node_test_util.h"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "engine_test_util.h"

namespace ppd::testing {

InProcessCluster::InProcessCluster()
    : transport_(std::make_unique<transfer::InProcessKvTransport>(&registry_)),
      faults_(std::make_unique<transfer::FaultInjectingTransport>(*transport_)) {
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

InProcessCluster::~InProcessCluster() {
  settle();
  io_.stop();
  thread_.join();
  nodes_.clear();  // engine threads stop after the network thread
}

TestNode& InProcessCluster::add_node(const std::string& name, node::NodeRole role, const std::string& model_dir,
                                     const NodeOptions& o) {
  auto n = std::make_unique<TestNode>();
  n->telemetry = std::make_unique<node::Telemetry>(name, &clock_);
  n->loop = std::make_unique<node::EngineLoop>(make_engine(model_dir, test_options(o.num_blocks)), n->telemetry.get());
  const node::NodeServiceOptions options{.name = name,
                                         .role = role,
                                         .kv_address = name,
                                         .pin_timeout_ms = o.pin_timeout_ms,
                                         .transfer_timeout_ms = o.transfer_timeout_ms};
  n->service = std::make_unique<node::NodeService>(options, io_.get_executor(), n->loop.get(), faults_.get(),
                                                   n->telemetry.get(), &clock_);
  EXPECT_TRUE(registry_.add(name, &n->service->handles()).ok());
  boost::asio::co_spawn(io_, n->service->run_pin_expiry(), boost::asio::detached);
  nodes_.push_back(std::move(n));
  return *nodes_.back();
}

void InProcessCluster::settle() {
  for (int round = 0; round < 3; ++round) {
    for (auto& n : nodes_) {
      run(n->loop->call([](engine::Engine&) { return 0; }));
    }
  }
}

boost::asio::awaitable<StreamResult> read_all(std::unique_ptr<node::TokenStream> stream) {
  StreamResult r;
  for (;;) {
    Result<std::optional<engine::RequestOutput>> out = co_await stream->next();
    if (!out.ok()) {
      r.status = out.status();
      co_return r;
    }
    if (!*out) co_return r;
    r.tokens.push_back((*out)->token);
    r.last = std::move(**out);
  }
}

}  // namespace ppd::testing
