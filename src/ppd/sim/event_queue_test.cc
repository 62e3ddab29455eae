#include "ppd/sim/event_queue.h"

#include <vector>

#include <gtest/gtest.h>

namespace ppd::sim {
namespace {

TEST(EventQueueTest, OrdersByTimeThenKindThenInsertion) {
  EventQueue q;
  q.push(20, EventKind::kArrival, 1);
  q.push(10, EventKind::kWake, 2);
  q.push(10, EventKind::kStepDone, 3);
  q.push(10, EventKind::kWake, 4);
  q.push(10, EventKind::kTransferDone, 5);
  std::vector<uint32_t> order;
  while (!q.empty()) {
    const Event e = q.pop();
    order.push_back(e.target);
    EXPECT_EQ(q.now(), e.time_ns);
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{5, 3, 2, 4, 1}));
}

TEST(EventQueueTest, SequenceNumbersFollowInsertion) {
  EventQueue q;
  q.push(5, EventKind::kWake, 0, 7);
  q.push(5, EventKind::kWake, 0, 8);
  EXPECT_EQ(q.pop().payload, 7u);
  const Event second = q.pop();
  EXPECT_EQ(second.payload, 8u);
  EXPECT_EQ(second.seq, 1u);
}

// push_many() keeps its events out of the heap, yet pop() gives the order of pushing them one by one.
TEST(EventQueueTest, ABatchPopsAsIfPushedOneByOne) {
  EventQueue batched, single;
  std::vector<EventSpec> specs;
  for (uint32_t i = 0; i < 50; ++i) specs.push_back({.time_ns = (i * 37) % 11, .target = i, .payload = i});
  batched.push_many(EventKind::kArrival, specs);
  for (const EventSpec& e : specs) single.push(e.time_ns, EventKind::kArrival, e.target, e.payload);
  for (EventQueue* q : {&batched, &single}) {
    q->push(3, EventKind::kStepDone, 100);
    q->push(3, EventKind::kWake, 101);
    q->push(10, EventKind::kArrival, 102);
  }
  EXPECT_EQ(batched.size(), single.size());
  while (!single.empty()) {
    ASSERT_FALSE(batched.empty());
    const Event a = batched.pop(), b = single.pop();
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.seq, b.seq);
    EXPECT_EQ(batched.now(), single.now());
    if (a.target == 0) batched.push(12, EventKind::kArrival, 200);  // pushed mid-run, after the batch
    if (b.target == 0) single.push(12, EventKind::kArrival, 200);
  }
  EXPECT_TRUE(batched.empty());
}

}  // namespace
}  // namespace ppd::sim
