#include "ppd/routing/router_ledger.h"

#include <gtest/gtest.h>

namespace ppd::routing {
namespace {

struct TwoNodes {
  ClusterView view;
  NodeId p = *view.add_node("p", NodeKind::kPrefill);
  NodeId d = *view.add_node("d", NodeKind::kDecode);
  RouterLedger ledger{&view, 10'000'000'000};
  RouteDecision decision(Path path) const {
    RouteDecision r{.path = path, .decode = d, .num_decode_cached_tokens = 96, .num_prefill_cached_tokens = 32};
    if (path == Path::kRemote) r.prefill = p;
    return r;
  }
};

TEST(RouterLedgerTest, RemoteHoldsThePromptOnThePrefillNodeUntilItIsPrefilled) {
  TwoNodes c;
  Reservation r = c.ledger.reserve(c.decision(Path::kRemote), 128, 11);
  EXPECT_EQ(c.view.node(c.p).num_router_prefill_tokens, 96);  // 128 less the 32 cached there
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 0);  // not decoding there before its first token
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
  c.ledger.prefill_done(&r);
  c.ledger.prefill_done(&r);  // idempotent
  EXPECT_EQ(c.view.node(c.p).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  c.ledger.first_token(&r);
  c.ledger.first_token(&r);  // idempotent
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 1);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 0.1);  // 1 / (11 - 1)
  c.ledger.release(&r);
  c.ledger.release(&r);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_decoding, 0);
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
}

TEST(RouterLedgerTest, LocalHoldsTheAppendOnTheDecodeNode) {
  TwoNodes c;
  Reservation a = c.ledger.reserve(c.decision(Path::kLocal), 128, 1);
  Reservation b = c.ledger.reserve(c.decision(Path::kLocal), 200, 4);
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 32 + 104);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 2);
  c.ledger.first_token(&a);  // its first token: its append is done
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 104);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 1);  // one output counts as 1
  c.ledger.release(&b);                                          // ended before its first token: the prefill goes too
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).num_router_active, 1);
  EXPECT_DOUBLE_EQ(c.view.node(c.d).router_inverse_outputs, 1);
  c.ledger.release(&a);
  EXPECT_EQ(c.view.node(c.d).num_router_prefill_tokens, 0);
  EXPECT_EQ(c.view.node(c.d).router_inverse_outputs, 0);
}

TEST(RouterLedgerTest, TheRequestRateCountsTheArrivalsWithinTheWindow) {
  TwoNodes c;
  RouterLedger ledger(&c.view, 2'000'000'000);  // 2 s
  EXPECT_DOUBLE_EQ(ledger.note_arrival(0), 0.5);
  EXPECT_DOUBLE_EQ(ledger.note_arrival(1'000'000'000), 1.0);
  EXPECT_DOUBLE_EQ(ledger.note_arrival(2'000'000'000), 1.5);  // the window's edge still counts
  EXPECT_DOUBLE_EQ(ledger.note_arrival(3'500'000'000), 1.0);  // 0 and 1 s have left it
}

TEST(RouterLedgerTest, KvEventsApplyInOrderAndNotedBlocksLeadThem) {
  TwoNodes c;
  const std::vector<BlockHash> h = {BlockHash{11}, BlockHash{12}, BlockHash{13}};
  c.ledger.note_cached(c.d, h);
  EXPECT_EQ(c.view.cached_blocks(h)[c.d.value], 3);
  const std::vector<kv::KvEvent> events = {{kv::KvEventKind::kRemoved, h[1]},
                                           {kv::KvEventKind::kStored, BlockHash{99}},
                                           {kv::KvEventKind::kRemoved, h[0]},
                                           {kv::KvEventKind::kStored, h[0]}};  // evicted, then stored again
  c.ledger.apply_kv_events(c.d, events);
  EXPECT_EQ(c.view.cached_blocks(h)[c.d.value], 1);
  // The wire's form: stored first, then removed.
  c.ledger.apply_kv_events(c.p, h, std::vector<BlockHash>{h[2]});
  EXPECT_EQ(c.view.cached_blocks(h)[c.p.value], 2);
}

TEST(RouterLedgerTest, ALoadReportMakesTheNodeHealthyAndFitsItsSteps) {
  TwoNodes c;
  const std::vector<StepSample> steps = {{.num_prefill_tokens = 64, .step_us = 900},
                                         {.num_decode_sequences = 4, .num_decode_context_tokens = 400, .step_us = 500}};
  c.ledger.apply_load(c.d, {.num_waiting = 2, .num_running = 4}, steps, 7'000);
  const NodeState& n = c.view.node(c.d);
  EXPECT_TRUE(n.healthy);
  EXPECT_EQ(n.last_report_ns, 7'000);
  EXPECT_EQ(n.load.num_waiting, 2);
  EXPECT_DOUBLE_EQ(n.load.mean_decode_context_tokens, 100);
  EXPECT_DOUBLE_EQ(n.load.mean_decode_step_s, 500e-6);
}

}  // namespace
}  // namespace ppd::routing
