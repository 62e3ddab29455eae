#include "ppd/sim/event_queue.h"

#include <tuple>

#include "ppd/common/check.h"

namespace ppd::sim {

bool EventQueue::Later::operator()(const Event& a, const Event& b) const {
  return std::tie(a.time_ns, a.kind, a.seq) > std::tie(b.time_ns, b.kind, b.seq);
}

void EventQueue::push(int64_t time_ns, EventKind kind, uint32_t target, uint64_t payload) {
  PPD_CHECK(time_ns >= now_ns_);
  heap_.push(Event{.time_ns = time_ns, .kind = kind, .seq = next_seq_++, .target = target, .payload = payload});
}

Event EventQueue::pop() {
  PPD_CHECK(!heap_.empty());
  Event e = heap_.top();
  heap_.pop();
  now_ns_ = e.time_ns;
  return e;
}

}  // namespace ppd::sim
