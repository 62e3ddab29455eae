// EventQueue: the simulator's clock and agenda. Events are ordered by (time in integer
// nanoseconds, kind, sequence number): equal times resolve by kind, then by insertion order,
// so a run is a pure function of its inputs. Popping advances now(). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <span>
#include <vector>

namespace ppd::sim {

// At equal times, lower kinds run first: finished work frees resources before new work
// arrives and is scheduled.
enum class EventKind : uint8_t {
  kTransferDone = 0,  // a link's transfer delivered its last byte
  kStepDone = 1,      // a node finished an engine step
  kMessage = 2,       // a delayed message (KV events, load reports) reached its receiver
  kArrival = 3,       // a request reached the router
  kWake = 4,          // a component asked to run again (e.g. a node with queued work)
};

struct Event {
  int64_t time_ns = 0;
  EventKind kind = EventKind::kWake;
  uint64_t seq = 0;      // insertion order, assigned by the queue
  uint32_t target = 0;   // the node, link or client the event is for
  uint64_t payload = 0;  // meaning set by the kind (a request id, a transfer id)
};

// What push_many() takes: an event without its sequence number.
struct EventSpec {
  int64_t time_ns = 0;
  uint32_t target = 0;
  uint64_t payload = 0;
};

class EventQueue {
 public:
  // Schedules an event. REQUIRES: time_ns >= now(). Mutates.
  void push(int64_t time_ns, EventKind kind, uint32_t target, uint64_t payload = 0);
  // Schedules events of one kind as if push()ed one by one in the given order, but keeps
  // them out of the heap, in a sorted run that pop() merges with it: a workload's arrivals,
  // preloaded, cost the heap no depth. REQUIRES: every time >= now(); no earlier
  // push_many() run still pending. Mutates.
  void push_many(EventKind kind, std::span<const EventSpec> events);
  // Removes and returns the earliest event, moving now() to its time. REQUIRES: !empty().
  Event pop();
  bool empty() const { return heap_.empty() && run_next_ == run_.size(); }
  size_t size() const { return heap_.size() + (run_.size() - run_next_); }
  int64_t now() const { return now_ns_; }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      if (a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
      if (a.kind != b.kind) return a.kind > b.kind;
      return a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::vector<Event> run_;  // push_many()'s events, earliest first, from run_next_ on
  size_t run_next_ = 0;
  uint64_t next_seq_ = 0;
  int64_t now_ns_ = 0;
};

}  // namespace ppd::sim
