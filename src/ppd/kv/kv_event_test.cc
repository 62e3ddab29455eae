#include "ppd/kv/kv_event.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

namespace ppd::kv {
namespace {

constexpr KvEventKind kS = KvEventKind::kStored;
constexpr KvEventKind kR = KvEventKind::kRemoved;

// The cached set after applying `events` one by one, and after applying their messages.
std::set<uint64_t> apply_in_order(const std::vector<KvEvent>& events) {
  std::set<uint64_t> cached;
  for (const KvEvent& e : events) {
    if (e.kind == kS) cached.insert(e.hash.value);
    if (e.kind == kR) cached.erase(e.hash.value);
  }
  return cached;
}
std::set<uint64_t> apply_messages(const std::vector<KvEventMessage>& messages) {
  std::set<uint64_t> cached;
  for (const KvEventMessage& m : messages) {
    for (BlockHash h : m.stored) cached.insert(h.value);
    for (BlockHash h : m.removed) cached.erase(h.value);
  }
  return cached;
}

TEST(KvEventTest, AHashEvictedAndStoredAgainStaysCachedOnTheWire) {
  const std::vector<KvEvent> events = {{kS, BlockHash{1}}, {kR, BlockHash{1}}, {kS, BlockHash{1}}};
  const std::vector<KvEventMessage> messages = to_wire_messages(events);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].stored, std::vector<BlockHash>{BlockHash{1}});
  EXPECT_EQ(messages[0].removed, std::vector<BlockHash>{BlockHash{1}});
  EXPECT_EQ(messages[1].stored, std::vector<BlockHash>{BlockHash{1}});
  EXPECT_TRUE(messages[1].removed.empty());
  EXPECT_EQ(apply_messages(messages), std::set<uint64_t>{1});
}

TEST(KvEventTest, StoresThenRemovesStayOneMessage) {
  const std::vector<KvEvent> events = {{kS, BlockHash{1}}, {kS, BlockHash{2}}, {kR, BlockHash{3}}};
  ASSERT_EQ(to_wire_messages(events).size(), 1u);
  EXPECT_TRUE(to_wire_messages({}).empty());
}

TEST(KvEventTest, MessagesApplyLikeTheEventsInOrder) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<KvEvent> events(rng() % 24);
    for (KvEvent& e : events) e = {rng() % 2 == 0 ? kS : kR, BlockHash{rng() % 5}};
    EXPECT_EQ(apply_messages(to_wire_messages(events)), apply_in_order(events)) << "trial " << trial;
  }
}

}  // namespace
}  // namespace ppd::kv
