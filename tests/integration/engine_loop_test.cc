// The node's engine loop idles, rather than spinning, when no step can progress: pinned
// blocks fill the pool and a waiting request does not fit. It steps again when a call
// (here the unpin) changes the queue.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "engine_test_util.h"
#include "ppd/node/engine_loop.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

class CountingObserver final : public node::StepObserver {
 public:
  void on_step(const engine::StepStats&) override { ++steps; }
  void on_state(const engine::StepStats&) override {}
  void on_kv_events(std::vector<kv::KvEvent>) override {}
  std::atomic<int> steps{0};
};

class EngineLoopTest : public ::testing::Test {
 protected:
  // Runs f(engine) on the engine thread and returns its result.
  template <typename F>
  auto call(F f) {
    auto work = [this, f = std::move(f)]() mutable -> boost::asio::awaitable<std::invoke_result_t<F, engine::Engine&>> {
      co_return co_await loop_->call(std::move(f));
    };
    return boost::asio::co_spawn(io_, work(), boost::asio::use_future).get();
  }

  void SetUp() override {
    // 8 blocks of 16 tokens: a pinned 100-token prompt (7 blocks) leaves 1.
    auto engine = make_engine(tiny_model_dir(), test_options(8));
    ASSERT_NE(engine, nullptr);
    loop_ = std::make_unique<node::EngineLoop>(std::move(engine), &observer_);
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  void TearDown() override {
    io_.stop();
    thread_.join();
    loop_.reset();
  }

  CountingObserver observer_;
  std::unique_ptr<node::EngineLoop> loop_;
  boost::asio::io_context io_;
  std::thread thread_;
};

TEST_F(EngineLoopTest, IdlesWhilePinsFillThePoolAndResumesOnTheUnpin) {
  const RequestId pinned = call([](engine::Engine& e) {
    return *e.add_request({.prompt = random_tokens(1, 100, 1, 200),
                           .params = greedy(1),
                           .blocks_on_finish = sched::BlocksOnFinish::kPin});
  });
  // Wait (bounded) until the prefill ran and the request is pinned.
  for (int i = 0; i < 2000 && !call([&](engine::Engine& e) { return e.pinned(pinned).has_value(); }); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(call([&](engine::Engine& e) { return e.pinned(pinned).has_value(); }));
  // 40 tokens need 3 blocks; 1 is allocatable: the request waits, and no step can progress.
  call([](engine::Engine& e) {
    return e.add_request({.prompt = random_tokens(2, 40, 1, 200), .params = greedy(4)}).ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int steps_while_blocked = observer_.steps.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A spinning loop ran thousands of empty steps here; an idle one none.
  EXPECT_EQ(observer_.steps.load(), steps_while_blocked);
  EXPECT_TRUE(call([](engine::Engine& e) { return e.queue_stats().num_waiting == 1; }));

  ASSERT_TRUE(call([&](engine::Engine& e) { return e.unpin(pinned); }));
  bool done = false;
  for (int i = 0; i < 5000 && !done; ++i) {
    done = !call([](engine::Engine& e) { return e.has_unfinished(); });
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(done) << "the waiting request never ran after the unpin";
  EXPECT_EQ(call([](engine::Engine& e) { return e.num_allocatable_blocks(); }), 8);
}

}  // namespace
}  // namespace ppd::testing
