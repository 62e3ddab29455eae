#include "ppd/sim/event_queue.h"

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

}  // namespace
}  // namespace ppd::sim
