#include "ppd/sim/event_queue.h"

#include <algorithm>

#include "ppd/common/check.h"

namespace ppd::sim {

void EventQueue::push(int64_t time_ns, EventKind kind, uint32_t target, uint64_t payload) {
  PPD_CHECK(time_ns >= now_ns_);
  heap_.push(Event{.time_ns = time_ns, .kind = kind, .seq = next_seq_++, .target = target, .payload = payload});
}

void EventQueue::push_many(EventKind kind, std::span<const EventSpec> events) {
  PPD_CHECK(run_next_ == run_.size());
  run_.clear();
  run_next_ = 0;
  run_.reserve(events.size());
  for (const EventSpec& e : events) {
    PPD_CHECK(e.time_ns >= now_ns_);
    run_.push_back({.time_ns = e.time_ns, .kind = kind, .seq = next_seq_++, .target = e.target, .payload = e.payload});
  }
  std::sort(run_.begin(), run_.end(), [](const Event& a, const Event& b) { return Later()(b, a); });
}

Event EventQueue::pop() {
  PPD_CHECK(!empty());
  Event e;
  if (run_next_ < run_.size() && (heap_.empty() || Later()(heap_.top(), run_[run_next_]))) {
    e = run_[run_next_++];
  } else {
    e = heap_.top();
    heap_.pop();
  }
  now_ns_ = e.time_ns;
  return e;
}

}  // namespace ppd::sim
