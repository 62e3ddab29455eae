#include "ppd/node/engine_loop.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

namespace ppd::node {

EngineLoop::EngineLoop(std::unique_ptr<engine::Engine> engine, StepObserver* observer)
    : engine_(std::move(engine)), observer_(observer) {
  if (observer_ != nullptr) observer_->on_state(engine_->queue_stats());
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(context_);
    context_.run();
  });
}

EngineLoop::~EngineLoop() {
  context_.stop();
  thread_.join();
  for (auto& [id, channel] : routes_) channel->close();
}

void EngineLoop::route_outputs(RequestId id, std::shared_ptr<OutputChannel> channel) {
  routes_[id] = std::move(channel);
}

void EngineLoop::drop_route(RequestId id) {
  auto it = routes_.find(id);
  if (it == routes_.end()) return;
  it->second->close();
  routes_.erase(it);
}

void EngineLoop::kick() {
  if (step_posted_ || !engine_->has_unfinished()) return;
  step_posted_ = true;
  boost::asio::post(context_, [this] { run_step(); });
}

void EngineLoop::run_step() {
  step_posted_ = false;
  engine::StepResult result = engine_->step();
  for (engine::RequestOutput& out : result.outputs) {
    auto it = routes_.find(out.id);
    if (it == routes_.end()) continue;
    const bool finished = out.finish_reason != sched::FinishReason::kNone;
    // The channel holds max_tokens outputs, so a send fails only when the receiver closed
    // it; that request was aborted and its route is dropped below.
    if (!it->second->try_send(boost::system::error_code{}, std::move(out)) || finished) routes_.erase(it);
  }
  if (observer_ != nullptr) observer_->on_step(result.stats);
  publish_kv_events();
  // A step that changed nothing would repeat forever (a spin at full CPU): the loop idles
  // until a call() (a new request, an abort, an unpin, an import) changes the queue and kicks.
  if (result.stats.progressed()) kick();
}

void EngineLoop::publish_kv_events() {
  std::vector<kv::KvEvent> events = engine_->take_kv_events();  // taken always, so none pile up
  if (observer_ != nullptr && !events.empty()) observer_->on_kv_events(std::move(events));
}

}  // namespace ppd::node
