#include "ppd/routing/reservation.h"

#include <gtest/gtest.h>

namespace ppd::routing {
namespace {

struct TwoNodes {
  ClusterView view;
  NodeId p = *view.add_node("p", NodeKind::kPrefill);
  NodeId d = *view.add_node("d", NodeKind::kDecode);
  RouteDecision decision(Path path) const {
    RouteDecision r{.path = path, .decode = d, .num_decode_cached_tokens = 96, .num_prefill_cached_tokens = 32};
    if (path == Path::kRemote) r.prefill = p;
    return r;
  }
};

TEST(ReservationTest, RemoteHoldsThePromptOnThePrefillNodeUntilItIsPrefilled) {
  TwoNodes c;
  Reservation r = reserve(&c.view, c.decision(Path::kRemote), 128, 11);
  EXPECT_EQ(c.view.node(c.p).num_router_prefill_tokens, 96);  // 128 less the 32 cached there
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 0);  // not decoding there before its first token
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
  release_prefill(&c.view, &r);
  release_prefill(&c.view, &r);  // idempotent
  EXPECT_EQ(c.view.node(c.p).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  start_decoding(&c.view, &r);
  start_decoding(&c.view, &r);  // idempotent
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 1);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 0.1);  // 1 / (11 - 1)
  release(&c.view, &r);
  release(&c.view, &r);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 0);
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
}

TEST(ReservationTest, LocalHoldsTheAppendOnTheDecodeNode) {
  TwoNodes c;
  Reservation a = reserve(&c.view, c.decision(Path::kLocal), 128, 1);
  Reservation b = reserve(&c.view, c.decision(Path::kLocal), 200, 4);
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 32 + 104);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 2);
  start_decoding(&c.view, &a);  // its first token: its append is done
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 104);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 1);  // one output counts as 1
  release(&c.view, &b);  // ended before its first token: the prefill goes too
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 1);
  release(&c.view, &a);
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
}

}  // namespace
}  // namespace ppd::routing
