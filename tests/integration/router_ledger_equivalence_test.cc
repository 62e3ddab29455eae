// The real router and the simulator's keep their ClusterView alike. One seeded event sequence
// (requests routed, prefilled, at their first token, finished or failed; nodes' KV events and
// load reports with step samples; time advancing) is fed to both:
//   real:      the router's code path: the RouterLedger RouterRuntime builds, ClusterMonitor
//              applying each node's /events line (as node::Telemetry writes it) and noting a
//              finished answer's blocks, RouterService's ScopedReservation;
//   simulator: sim::SimRouter.
// After every event both must have made the same decisions and hold the same counters.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "ppd/common/clock.h"
#include "ppd/common/splitmix.h"
#include "ppd/kv/block_hash.h"
#include "ppd/router/cluster_monitor.h"
#include "ppd/router/scoped_reservation.h"
#include "ppd/sched/load_report.h"
#include "ppd/sim/sim_router.h"

namespace ppd {
namespace {

constexpr uint64_t kModel = 0x5eed;
constexpr int kBlockSize = 16;
constexpr int kNumPrefill = 1;
constexpr int kNumDecode = 2;
constexpr int64_t kRateWindowNs = 2'000'000'000;
const routing::NodeLimits kLimits{
    .block_size = kBlockSize, .max_prefill_tokens = 256, .max_model_len = 4096, .max_num_running = 32};

struct Request {
  std::vector<TokenId> prompt;
  std::vector<BlockHash> hashes;
  std::vector<TokenId> outputs;
  int max_tokens = 0;
  int stage = 0;  // 0 routed, 1 prefilled (remote), 2 first token
};

struct LoadReport {
  routing::NodeLoad load;
  std::vector<routing::StepSample> steps;
};

// The real side: what RouterRuntime builds, fed through the monitor and ScopedReservation.
struct Real {
  FakeClock clock;
  routing::ClusterView view;
  routing::RouterLedger ledger{&view, kRateWindowNs};
  boost::asio::io_context io;
  router::ClusterMonitor monitor{io.get_executor(), &ledger, &clock, {.model_identity = kModel}};
  std::unique_ptr<routing::RoutingPolicy> policy = std::move(routing::make_policy({.name = "ppd"}).value());
  std::map<int, std::unique_ptr<router::ScopedReservation>> flights;

  Real() {
    for (int i = 0; i < kNumPrefill + kNumDecode; ++i) {
      const auto kind = i < kNumPrefill ? routing::NodeKind::kPrefill : routing::NodeKind::kDecode;
      EXPECT_TRUE(monitor.add({.host = "127.0.0.1", .port = static_cast<uint16_t>(9000 + i)}, kind).ok());
      view.mutable_node(NodeId{static_cast<uint32_t>(i)}).limits = kLimits;  // as from its /health
    }
    view.block_size = kBlockSize;
    view.block_bytes = 1 << 16;
  }
};

std::string hex(BlockHash h) { return fmt::format("{:016x}", h.value); }

// node::Telemetry's kv_events lines for one batch of events (kv::to_wire_messages).
std::vector<std::string> kv_lines(const std::vector<kv::KvEvent>& events) {
  std::vector<std::string> lines;
  for (const kv::KvEventMessage& m : kv::to_wire_messages(events)) {
    nlohmann::json stored = nlohmann::json::array(), removed = nlohmann::json::array();
    for (BlockHash h : m.stored) stored.push_back(hex(h));
    for (BlockHash h : m.removed) removed.push_back(hex(h));
    lines.push_back(
        nlohmann::json{{"type", "kv_events"}, {"node", "n"}, {"stored", stored}, {"removed", removed}}.dump());
  }
  return lines;
}

// node::Telemetry's load line (step_us in whole µs, as a node reports them).
std::string load_line(const LoadReport& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const routing::StepSample& s : r.steps) {
    steps.push_back({s.num_prefill_tokens, s.num_decode_sequences, s.num_decode_context_tokens,
                     static_cast<int64_t>(s.step_us), s.num_prefill_pairs});
  }
  const routing::NodeLoad& l = r.load;
  return nlohmann::json{{"type", "load"},
                        {"node", "n"},
                        {"num_waiting", l.num_waiting},
                        {"num_running", l.num_running},
                        {"num_pending_prefill_tokens", l.num_pending_prefill_tokens},
                        {"num_free_blocks", l.num_free_blocks},
                        {"draining", l.draining},
                        {"transfer_bytes_per_s", l.transfer_bytes_per_s},
                        {"recent_steps", steps}}
      .dump();
}

void expect_same_decision(const routing::RouteDecision& a, const routing::RouteDecision& b, int event) {
  SCOPED_TRACE(fmt::format("event {}", event));
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.decode, b.decode);
  EXPECT_EQ(a.prefill, b.prefill);
  EXPECT_EQ(a.transfer, b.transfer);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.num_decode_cached_tokens, b.num_decode_cached_tokens);
  EXPECT_EQ(a.num_prefill_cached_tokens, b.num_prefill_cached_tokens);
  ASSERT_EQ(a.local.has_value(), b.local.has_value());
  ASSERT_EQ(a.remote.has_value(), b.remote.has_value());
  if (a.local) {
    EXPECT_EQ(a.local->ttft_s, b.local->ttft_s);
    EXPECT_EQ(a.local->tpot_s, b.local->tpot_s);
  }
  if (a.remote) {
    EXPECT_EQ(a.remote->ttft_s, b.remote->ttft_s);
  }
}

void expect_same_nodes(const routing::ClusterView& a, const routing::ClusterView& b, const std::map<int, Request>& live,
                       int event) {
  SCOPED_TRACE(fmt::format("event {}", event));
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const routing::NodeState &x = a.nodes()[i], &y = b.nodes()[i];
    SCOPED_TRACE(fmt::format("node {}", i));
    EXPECT_EQ(x.healthy, y.healthy);
    EXPECT_EQ(x.last_report_ns, y.last_report_ns);
    EXPECT_EQ(x.num_router_active, y.num_router_active);
    EXPECT_EQ(x.num_router_prefill_tokens, y.num_router_prefill_tokens);
    EXPECT_EQ(x.num_router_decoding, y.num_router_decoding);
    EXPECT_EQ(x.router_inverse_outputs, y.router_inverse_outputs);
    EXPECT_EQ(x.load.num_waiting, y.load.num_waiting);
    EXPECT_EQ(x.load.num_running, y.load.num_running);
    EXPECT_EQ(x.load.num_free_blocks, y.load.num_free_blocks);
    EXPECT_EQ(x.load.transfer_bytes_per_s, y.load.transfer_bytes_per_s);
    EXPECT_EQ(x.load.mean_decode_context_tokens, y.load.mean_decode_context_tokens);
    EXPECT_EQ(x.load.mean_decode_step_s, y.load.mean_decode_step_s);
    EXPECT_EQ(x.step_model.coefficients(), y.step_model.coefficients());
  }
  EXPECT_EQ(a.prefix_index().num_hashes(), b.prefix_index().num_hashes());
  for (const auto& [id, r] : live) EXPECT_EQ(a.cached_blocks(r.hashes), b.cached_blocks(r.hashes)) << "request " << id;
}

class Equivalence : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ = std::move(sim::SimRouter::create({.num_prefill = kNumPrefill,
                                             .num_decode = kNumDecode,
                                             .policy = {.name = "ppd"},
                                             .limits = kLimits,
                                             .block_bytes = real_.view.block_bytes,
                                             .rate_window_ns = kRateWindowNs})
                         .value());
    for (int d = 0; d < 6; ++d) {  // shared prefixes (documents, system prompts) of 2..20 blocks
      std::vector<TokenId> doc(static_cast<size_t>(kBlockSize * (2 + next(19))));
      for (TokenId& t : doc) t = static_cast<TokenId>(next(30000));
      docs_.push_back(std::move(doc));
    }
  }

  uint64_t next(uint64_t n) { return uniform_below(splitmix64_mix(rng_ += kGoldenGamma), static_cast<uint32_t>(n)); }
  NodeId node_of(int i) const { return NodeId{static_cast<uint32_t>(i)}; }

  void at(int64_t now_ns) { now_ns_ = now_ns, real_.clock.advance_ns(now_ns - real_.clock.now_ns()); }
  void new_request(int event);
  void advance_request();
  void kv_events();
  void load_report();

  uint64_t rng_ = 42;
  int64_t now_ns_ = 0;
  Real real_;
  std::unique_ptr<sim::SimRouter> sim_;
  std::vector<std::vector<TokenId>> docs_;
  std::map<int, Request> live_;
  std::map<int, sim::SimRouter::Routed> sim_flights_;
  std::map<int, routing::RouteDecision> real_decisions_;
  int next_id_ = 0;
  int num_remote_ = 0;
};

void Equivalence::new_request(int event) {
  Request r;
  r.prompt = docs_[next(docs_.size())];
  for (uint64_t i = 0, n = 1 + next(200); i < n; ++i) r.prompt.push_back(static_cast<TokenId>(next(30000)));
  r.hashes = kv::hash_full_blocks(kModel, r.prompt, kBlockSize);
  r.max_tokens = 1 + static_cast<int>(next(64));
  routing::RouteInput in{.num_prompt_tokens = static_cast<int>(r.prompt.size()),
                         .block_hashes = r.hashes,
                         .num_history_tokens = static_cast<int>(r.prompt.size()) / 2,
                         .num_new_tokens = static_cast<int>(r.prompt.size() - r.prompt.size() / 2),
                         .max_tokens = r.max_tokens,
                         .turn = 1 + static_cast<int>(next(2))};
  // Real: RouterService::run's order: the windowed rate, the policy, the reservation.
  routing::RouteInput real_in = in;
  real_in.request_rate = real_.ledger.note_arrival(real_.clock.now_ns());
  Result<routing::RouteDecision> d = real_.policy->route(real_.view, real_in);
  Result<sim::SimRouter::Routed> s = sim_->route(in, now_ns_);
  ASSERT_EQ(d.ok(), s.ok());
  if (!d.ok()) return;
  EXPECT_EQ(real_in.request_rate, s->request_rate) << "event " << event;
  expect_same_decision(*d, s->decision, event);
  num_remote_ += d->path == routing::Path::kRemote;
  const int id = next_id_++;
  real_.flights[id] =
      std::make_unique<router::ScopedReservation>(&real_.ledger, *d, in.num_prompt_tokens, in.max_tokens);
  real_decisions_[id] = *d;
  sim_flights_[id] = std::move(*s);
  live_[id] = std::move(r);
}

void Equivalence::advance_request() {
  if (live_.empty()) return;
  auto it = std::next(live_.begin(), static_cast<long>(next(live_.size())));
  const int id = it->first;
  Request& r = it->second;
  sim::SimRouter::Routed& s = sim_flights_.at(id);
  const bool remote = s.decision.path == routing::Path::kRemote;
  if (r.stage == 0 && remote) {
    real_.flights.at(id)->prefill_done();  // the prefill node answered
    sim_->prefill_done(&s.reservation);
    r.stage = 1;
  } else if (r.stage < 2) {
    real_.flights.at(id)->first_token();
    sim_->first_token(&s.reservation);
    r.stage = 2;
  } else {
    const bool failed = next(8) == 0;
    for (int i = 0; i < r.max_tokens && !failed; ++i) r.outputs.push_back(static_cast<TokenId>(next(30000)));
    std::vector<TokenId> held = r.prompt;
    if (!r.outputs.empty()) held.insert(held.end(), r.outputs.begin(), r.outputs.end() - 1);
    if (!failed) real_.monitor.note_answered(real_decisions_.at(id), r.prompt, r.outputs, r.hashes);
    real_.flights.erase(id);  // the attempt's scope ends: its reservation is released
    const std::vector<BlockHash> decode_hashes =
        failed ? std::vector<BlockHash>() : kv::hash_full_blocks(kModel, held, kBlockSize);
    sim_->finish(s.decision, &s.reservation, failed ? std::span<const BlockHash>() : r.hashes, decode_hashes,
                 static_cast<int64_t>(r.prompt.size()), 0, 0);
    sim_flights_.erase(id);
    real_decisions_.erase(id);
    live_.erase(it);
  }
}

void Equivalence::kv_events() {
  const int node = static_cast<int>(next(kNumPrefill + kNumDecode));
  const std::vector<TokenId>& doc = docs_[next(docs_.size())];
  const std::vector<BlockHash> hashes = kv::hash_full_blocks(kModel, doc, kBlockSize);
  std::vector<kv::KvEvent> events;
  // Any order, a hash stored, evicted and stored again within one batch included: the node
  // splits such a batch into lines that keep its effect (kv::to_wire_messages).
  const size_t num_events = next(2 * hashes.size() + 1);
  for (size_t i = 0; i < num_events; ++i) {
    const bool stored = next(2) == 0;
    events.push_back({stored ? kv::KvEventKind::kStored : kv::KvEventKind::kRemoved, hashes[next(hashes.size())]});
  }
  for (const std::string& line : kv_lines(events)) ASSERT_TRUE(real_.monitor.apply_line(node_of(node), line).ok());
  sim_->apply_kv_events(node_of(node), events);
}

void Equivalence::load_report() {
  const int node = static_cast<int>(next(kNumPrefill + kNumDecode));
  LoadReport r{.load = {.num_waiting = static_cast<int>(next(4)),
                        .num_running = static_cast<int>(next(20)),
                        .num_pending_prefill_tokens = static_cast<int64_t>(next(2000)),
                        .num_free_blocks = static_cast<int>(next(5000))}};
  sched::TransferRateAverage rate;
  for (uint64_t i = 0, n = next(3); i < n; ++i)
    rate.record(static_cast<int64_t>(1 + next(1 << 24)), 1 + next(50'000'000));
  r.load.transfer_bytes_per_s = rate.bytes_per_s();
  for (uint64_t i = 0, n = next(12); i < n; ++i) {
    routing::StepSample s{.num_prefill_tokens = static_cast<int>(next(3) == 0 ? 0 : next(512)),
                          .num_decode_sequences = static_cast<int>(next(16)),
                          .step_us = static_cast<double>(2'000 + next(60'000))};
    s.num_decode_context_tokens = s.num_decode_sequences * static_cast<int64_t>(next(3000));
    s.num_prefill_pairs = routing::prefill_pairs(s.num_prefill_tokens, static_cast<int64_t>(next(1000)));
    r.steps.push_back(s);
  }
  ASSERT_TRUE(real_.monitor.apply_line(node_of(node), load_line(r)).ok());
  sim_->apply_load(node_of(node), r.load, r.steps, now_ns_);
}

TEST_F(Equivalence, OneEventSequenceLeavesBothRoutersAlike) {
  for (int i = 0; i < kNumPrefill + kNumDecode; ++i) {  // every node reports once before any request
    ASSERT_TRUE(real_.monitor.apply_line(node_of(i), load_line({})).ok());
    sim_->apply_load(node_of(i), {}, {}, now_ns_);
  }
  for (int event = 0; event < 3000; ++event) {
    at(now_ns_ + static_cast<int64_t>(next(40'000'000)));
    const uint64_t kind = next(10);
    if (kind < 3) {
      new_request(event);
    } else if (kind < 7) {
      advance_request();
    } else if (kind < 9) {
      kv_events();
    } else {
      load_report();
    }
    expect_same_nodes(real_.view, sim_->view(), live_, event);
    if (HasFailure()) return;
  }
  // The sequence means something: many requests, both paths.
  EXPECT_GT(next_id_, 500);
  EXPECT_GT(num_remote_, 50);
  EXPECT_GT(next_id_ - num_remote_, 50);
  EXPECT_GT(real_.view.prefix_index().num_hashes(), 0u);
}

}  // namespace
}  // namespace ppd
