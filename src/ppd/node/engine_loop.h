// EngineLoop: one node's Engine on its own thread (the event loop that owns the scheduler).
// Other threads reach the engine only through call(), which runs a function on that thread
// between two steps and resumes the awaiting coroutine on its own executor. Steps run back
// to back while any request is unfinished and the last step progressed (an empty step means
// nothing fits until a call changes the queue, which restarts them); each step's outputs go to the requests' output
// channels and its KV events and statistics to the StepObserver. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/engine/engine.h"

namespace ppd::node {

// Carries one request's outputs from the engine thread to the coroutine serving it.
using OutputChannel =
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code, engine::RequestOutput)>;

// Receives every step's results on the engine thread. Must not block.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void on_step(const engine::StepStats& stats) = 0;
  // The queue state after a call() changed it outside a step (and once at start).
  virtual void on_state(const engine::StepStats& state) = 0;
  // Prefix-cache changes, after every step and every call() that made some.
  virtual void on_kv_events(std::vector<kv::KvEvent> events) = 0;
};

class EngineLoop {
 public:
  // Starts the engine thread. `observer` may be null; it must outlive the loop.
  EngineLoop(std::unique_ptr<engine::Engine> engine, StepObserver* observer);
  ~EngineLoop();  // stops the thread; unfinished requests are dropped
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Runs f(engine) on the engine thread; returns its (non-void) result on the caller's
  // executor. f must not throw. Steps resume afterwards if work is left.
  template <typename F>
  boost::asio::awaitable<std::invoke_result_t<F, engine::Engine&>> call(F f) {
    using R = std::invoke_result_t<F, engine::Engine&>;
    // co_spawn needs a default-constructible result type; optional<R> is one.
    // Named: coroutine rule 1 (docs/decisions/0005).
    auto on_engine = [this, f = std::move(f)]() mutable -> boost::asio::awaitable<std::optional<R>> {
      std::optional<R> r(f(*engine_));
      publish_kv_events();
      if (observer_ != nullptr) observer_->on_state(engine_->queue_stats());
      kick();
      co_return r;
    };
    std::optional<R> result =
        co_await boost::asio::co_spawn(context_.get_executor(), std::move(on_engine), boost::asio::use_awaitable);
    co_return std::move(*result);
  }

  // Engine thread only (inside call()): routes request `id`'s outputs to `channel` until
  // its finished output, after which the route is dropped.
  void route_outputs(RequestId id, std::shared_ptr<OutputChannel> channel);
  // Engine thread only: drops the route of `id` (aborted or never admitted).
  void drop_route(RequestId id);

  // The engine, for reads that are safe from any thread (config, block size, identity).
  const engine::Engine& engine() const { return *engine_; }

 private:
  void kick();  // engine thread: schedules a step if work is left
  void publish_kv_events();
  void run_step();

  std::unique_ptr<engine::Engine> engine_;
  StepObserver* observer_;
  std::unordered_map<RequestId, std::shared_ptr<OutputChannel>> routes_;
  bool step_posted_ = false;
  boost::asio::io_context context_;
  std::thread thread_;
};

}  // namespace ppd::node
