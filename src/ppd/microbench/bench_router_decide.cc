// Part 1 of `ppd bench router` (see bench_router.h): a ClusterView of 2 prefill and 6 decode
// nodes with realistic loads and fitted step models, 10,000 cached conversations in its prefix
// index, and the time of each policy's route() next to the prefix lookup alone.
#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <random>
#include <span>

#include <fmt/format.h>

#include "ppd/kv/block_hash.h"
#include "ppd/microbench/bench_router.h"
#include "ppd/routing/policies.h"

namespace ppd::microbench {
namespace {

using routing::ClusterView;
using routing::NodeKind;
using routing::RouteInput;
using routing::StepSample;
using SteadyTime = std::chrono::steady_clock;

constexpr int kNumPrefill = 2;
constexpr int kNumDecode = 6;
constexpr int kBlockSize = 16;
constexpr int64_t kBlockBytes = int64_t{64} << 10;
constexpr uint64_t kModelIdentity = 0x70706462656e6368;  // "ppdbench"
constexpr int kVocab = 32000;
constexpr int kMinConversationTokens = 500;
constexpr int kMaxConversationTokens = 4000;
constexpr int kNewTokens = 64;
constexpr int kBatch = 1000;  // requests hashed ahead of a timed pass
// The "true" step time the load reports follow: µs = c0 + c1·prefill + c2·decodes + c3·ctx/1000
// + c4·prefill pairs/10^6.
constexpr double kStepUs[5] = {2000, 60, 150, 30, 400};

struct Conversation {
  int num_tokens = 0;
  NodeId decode;
  NodeId prefill;
};

// The conversation's tokens, a fixed function of (seed, index).
std::vector<TokenId> conversation_tokens(uint32_t seed, int index, int num_tokens) {
  std::seed_seq seq{seed, static_cast<uint32_t>(index)};
  std::mt19937 rng(seq);
  std::uniform_int_distribution<TokenId> token(3, kVocab - 1);
  std::vector<TokenId> tokens(static_cast<size_t>(num_tokens));
  for (TokenId& t : tokens) t = token(rng);
  return tokens;
}

StepSample step(int prefill, int decodes, int64_t context, int64_t prefill_before = 0) {
  const double pairs = routing::prefill_pairs(prefill, prefill_before);
  const double us = kStepUs[0] + kStepUs[1] * prefill + kStepUs[2] * decodes + kStepUs[3] * context / 1000.0 +
                    kStepUs[4] * pairs / 1e6;
  return {.num_prefill_tokens = prefill,
          .num_decode_sequences = decodes,
          .num_decode_context_tokens = context,
          .step_us = us,
          .num_prefill_pairs = pairs};
}

// Recent steps of a node: prefill chunks on a prefill node; decodes with some append-prefill
// chunks on a decode node.
std::vector<StepSample> recent_steps(NodeKind kind, int num_running) {
  std::vector<StepSample> steps;
  for (int i = 0; i < 16; ++i) {
    if (kind == NodeKind::kPrefill) {
      steps.push_back(step(512, 0, 0, 512 * (i % 8)));
    } else {
      const int prefill = i % 4 == 0 ? 256 : 0;
      steps.push_back(step(prefill, num_running, int64_t{2200} * num_running, 1024));
    }
  }
  return steps;
}

Status add_nodes(ClusterView* view, std::vector<NodeId>* prefill, std::vector<NodeId>* decode) {
  for (int i = 0; i < kNumPrefill + kNumDecode; ++i) {
    const bool is_prefill = i < kNumPrefill;
    const int k = is_prefill ? i : i - kNumPrefill;
    const NodeKind kind = is_prefill ? NodeKind::kPrefill : NodeKind::kDecode;
    PPD_ASSIGN_OR_RETURN(const NodeId id, view->add_node(fmt::format("127.0.0.1:{}", 9000 + i), kind));
    routing::NodeLoad load{.num_waiting = is_prefill ? 2 + k : k % 2,
                           .num_running = is_prefill ? 1 : 16 + 4 * k,
                           .num_pending_prefill_tokens = is_prefill ? 3072 + 1024 * k : 256 * k,
                           .num_free_blocks = is_prefill ? 30000 : 20000 - 1000 * k,
                           .transfer_bytes_per_s = is_prefill ? 0.0 : 1.5e9,
                           .mean_decode_context_tokens = is_prefill ? 0.0 : 2200.0};
    view->mutable_node(id).limits.max_model_len = 8192;
    view->apply_load(id, load, recent_steps(kind, load.num_running), 0);
    (is_prefill ? prefill : decode)->push_back(id);
  }
  return Status::Ok();
}

// Caches every conversation on one decode node (round robin) and its first quarter on one
// prefill node (round robin).
std::vector<Conversation> add_conversations(const RouterBenchOptions& o, ClusterView* view,
                                            const std::vector<NodeId>& prefill, const std::vector<NodeId>& decode) {
  std::mt19937 rng(o.seed);
  std::uniform_int_distribution<int> length(kMinConversationTokens, kMaxConversationTokens);
  std::vector<Conversation> conversations;
  for (int i = 0; i < o.num_conversations; ++i) {
    Conversation c{
        .num_tokens = length(rng), .decode = decode[i % decode.size()], .prefill = prefill[i % prefill.size()]};
    const std::vector<TokenId> tokens = conversation_tokens(o.seed, i, c.num_tokens);
    const std::vector<BlockHash> hashes = kv::hash_full_blocks(kModelIdentity, tokens, kBlockSize);
    view->apply_kv_events(c.decode, hashes, {});
    view->apply_kv_events(c.prefill, std::span(hashes).first(hashes.size() / 4), {});
    conversations.push_back(c);
  }
  return conversations;
}

// One turn-2 request: its hashes are computed here, before any timing.
struct Request {
  std::vector<BlockHash> hashes;
  RouteInput input;
};

std::vector<Request> make_batch(const RouterBenchOptions& o, const std::vector<Conversation>& conversations, int size,
                                std::mt19937* rng) {
  std::uniform_int_distribution<int> pick(0, static_cast<int>(conversations.size()) - 1);
  std::uniform_int_distribution<TokenId> token(3, kVocab - 1);
  std::uniform_int_distribution<int> max_tokens(32, 512);
  std::vector<Request> batch(static_cast<size_t>(size));
  for (Request& r : batch) {
    const int index = pick(*rng);
    std::vector<TokenId> prompt = conversation_tokens(o.seed, index, conversations[index].num_tokens);
    for (int i = 0; i < kNewTokens; ++i) prompt.push_back(token(*rng));
    r.hashes = kv::hash_full_blocks(kModelIdentity, prompt, kBlockSize);
    r.input = RouteInput{.num_prompt_tokens = static_cast<int>(prompt.size()),
                         .num_history_tokens = conversations[index].num_tokens,
                         .num_new_tokens = kNewTokens,
                         .max_tokens = max_tokens(*rng),
                         .turn = 2,
                         .request_rate = 8};
  }
  for (Request& r : batch) r.input.block_hashes = r.hashes;  // after the vector stopped moving
  return batch;
}

routing::LookupTable in_memory_table() {
  routing::LookupTable table;
  table.rate_points.assign(routing::kPaperRatePoints.begin(), routing::kPaperRatePoints.end());
  for (const routing::ContextClass context : {routing::ContextClass::kSmall, routing::ContextClass::kLarge}) {
    for (int io = 0; io <= static_cast<int>(routing::IoClass::kHugePaste); ++io) {
      for (size_t r = 0; r < table.rate_points.size(); ++r) {
        const routing::TableCellKey key{
            .context = context, .io = static_cast<routing::IoClass>(io), .rate_point = table.rate_points[r]};
        table.cells[key] = (io + static_cast<int>(r)) % 2 == 0;
      }
    }
  }
  return table;
}

Result<std::vector<std::unique_ptr<routing::RoutingPolicy>>> make_policies() {
  std::vector<std::unique_ptr<routing::RoutingPolicy>> policies;
  policies.push_back(routing::make_pd_policy({}));
  policies.push_back(routing::make_local_policy());
  PPD_ASSIGN_OR_RETURN(auto threshold, routing::make_threshold_policy({}));
  policies.push_back(std::move(threshold));
  policies.push_back(routing::make_table_policy(in_memory_table(), {}));
  PPD_ASSIGN_OR_RETURN(auto ppd, routing::make_ppd_policy({}));
  policies.push_back(std::move(ppd));
  return policies;
}

double elapsed_us(SteadyTime::time_point start, SteadyTime::time_point end) {
  return std::chrono::duration<double, std::micro>(end - start).count();
}

// Samples per timed thing (index 0: the lookup, then one per policy) and local decisions.
// make_report() moves the samples out.
struct Samples {
  std::vector<std::vector<double>> us;
  std::vector<int64_t> num_local;
  int64_t sink = 0;  // uses the lookups' results
  int64_t num_blocks = 0;
};

// One timed pass of thing `k` over the batch. Each pass meets the caches as the previous
// requests left them, as the router would.
Status time_pass(const ClusterView& view, const std::vector<std::unique_ptr<routing::RoutingPolicy>>& policies,
                 const std::vector<Request>& batch, size_t k, Samples* s) {
  for (const Request& r : batch) {
    if (k == 0) {
      const SteadyTime::time_point start = SteadyTime::now();
      const std::vector<int> blocks = view.cached_blocks(r.input.block_hashes);
      const SteadyTime::time_point end = SteadyTime::now();
      s->us[0].push_back(elapsed_us(start, end));
      s->sink += blocks[kNumPrefill];
      continue;
    }
    const SteadyTime::time_point start = SteadyTime::now();
    const Result<routing::RouteDecision> d = policies[k - 1]->route(view, r.input);
    const SteadyTime::time_point end = SteadyTime::now();
    if (!d.ok()) return d.status().with_context(fmt::format("policy {}", policies[k - 1]->name()));
    s->us[k].push_back(elapsed_us(start, end));
    s->num_local[k] += d->path == routing::Path::kLocal;
  }
  return Status::Ok();
}

DecisionReport make_report(const ClusterView& view,
                           const std::vector<std::unique_ptr<routing::RoutingPolicy>>& policies, Samples* s,
                           int num_conversations) {
  DecisionReport report{.num_prefill = kNumPrefill, .num_decode = kNumDecode, .num_conversations = num_conversations};
  report.num_cached_hashes = static_cast<int64_t>(view.prefix_index().num_hashes());
  report.lookup = summarize(std::move(s->us[0]));
  report.mean_prompt_blocks = static_cast<double>(s->num_blocks) / std::max<int64_t>(report.lookup.count, 1);
  for (size_t k = 1; k < s->us.size(); ++k) {
    DecisionRow row{.policy = std::string(policies[k - 1]->name()), .route = summarize(std::move(s->us[k]))};
    row.ratio_p50 = row.route.p50_us / std::max(report.lookup.p50_us, 1e-9);
    row.ratio_p99 = row.route.p99_us / std::max(report.lookup.p99_us, 1e-9);
    row.local_fraction = static_cast<double>(s->num_local[k]) / std::max<int64_t>(row.route.count, 1);
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace

Result<DecisionReport> run_decision_bench(const RouterBenchOptions& o, std::ostream& log) {
  ClusterView view;
  view.block_size = kBlockSize;
  view.block_bytes = kBlockBytes;
  std::vector<NodeId> prefill, decode;
  PPD_RETURN_IF_ERROR(add_nodes(&view, &prefill, &decode));
  log << fmt::format("decision time: caching {} conversations on {} nodes\n", o.num_conversations,
                     kNumPrefill + kNumDecode)
      << std::flush;
  const std::vector<Conversation> conversations = add_conversations(o, &view, prefill, decode);
  PPD_ASSIGN_OR_RETURN(const auto policies, make_policies());
  Samples s{.us = std::vector<std::vector<double>>(policies.size() + 1),
            .num_local = std::vector<int64_t>(policies.size() + 1)};
  std::mt19937 rng(o.seed ^ 0x5bd1e995u);
  for (int done = 0; done < o.num_decisions;) {
    const std::vector<Request> batch = make_batch(o, conversations, std::min(kBatch, o.num_decisions - done), &rng);
    for (const Request& r : batch) s.num_blocks += static_cast<int64_t>(r.hashes.size());
    // Rotate which pass goes first, so none always follows the same one.
    const size_t first = static_cast<size_t>(done / kBatch) % s.us.size();
    for (size_t i = 0; i < s.us.size(); ++i) {
      PPD_RETURN_IF_ERROR(time_pass(view, policies, batch, (first + i) % s.us.size(), &s));
    }
    done += static_cast<int>(batch.size());
    if (done % 20000 == 0 || done == o.num_decisions) {
      log << fmt::format("  {} / {} requests\n", done, o.num_decisions) << std::flush;
    }
  }
  return make_report(view, policies, &s, o.num_conversations);
}

}  // namespace ppd::microbench
