// EventQueue: the simulator's clock and agenda. Events are ordered by (time in integer
// nanoseconds, kind, sequence number): equal times resolve by kind, then by insertion order,
// so a run is a pure function of its inputs. Popping advances now(). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
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

class EventQueue {
 public:
  // Schedules an event. REQUIRES: time_ns >= now(). Mutates.
  void push(int64_t time_ns, EventKind kind, uint32_t target, uint64_t payload = 0);
  // Removes and returns the earliest event, moving now() to its time. REQUIRES: !empty().
  Event pop();
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  int64_t now() const { return now_ns_; }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const;
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
  int64_t now_ns_ = 0;
};

}  // namespace ppd::sim
