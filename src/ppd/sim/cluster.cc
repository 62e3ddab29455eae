#include "ppd/sim/cluster.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <unordered_map>

#include "ppd/common/check.h"
#include "ppd/kv/block_table.h"
#include "ppd/sched/load_report.h"
#include "ppd/sim/event_queue.h"

namespace ppd::sim {
namespace {

using routing::Path;

// A node's copy of a prompt, with room for `max_tokens` outputs so that the sequence takes
// it over without copying it again.
std::vector<TokenId> prompt_with_room(std::span<const TokenId> prompt, int max_tokens) {
  std::vector<TokenId> tokens;
  tokens.reserve(prompt.size() + static_cast<size_t>(std::max(max_tokens, 0)));  // checked later
  tokens.assign(prompt.begin(), prompt.end());
  return tokens;
}

struct NodeSlot {
  std::unique_ptr<SimNode> node;
  int64_t step_start_ns = 0;
  std::vector<routing::StepSample> steps;    // since the last load report (sched/load_report.h)
  sched::TransferRateAverage transfer_rate;  // of its pulls
  std::deque<RequestId> pending_imports;     // decode node: remote requests waiting for blocks
  // Import calls that reached the node during a step: as on a real node, whose engine thread
  // runs them between steps in arrival order. finish = true: the pull ended, run the request.
  struct EngineCall {
    bool finish = false;
    RequestId id;
  };
  std::deque<EngineCall> calls;
};

// A request between its arrival and its end.
struct Flight {
  routing::RouteDecision decision;
  routing::Reservation reservation;
  std::span<const TokenId> prompt;  // the client's, valid until the end
  std::span<const BlockHash> prompt_hashes;
  int max_tokens = 0;
  TokenId first_token = sched::kInvalidToken;  // remote path: sampled by the prefill node
  int64_t cached_tokens = 0;
  int64_t transfer_bytes = 0;
  int64_t transfer_start_ns = 0;
  int64_t send_ns = 0;
  int64_t first_token_ns = -1;
};

// A node's KV events or load report on its way to the router.
struct Message {
  int node = 0;
  std::vector<kv::KvEvent> events;
  bool is_load = false;
  routing::NodeLoad load;
  std::vector<routing::StepSample> steps;
};

routing::StepSample step_sample(const StepShape& shape, int64_t duration_ns) {
  routing::StepSample s{.num_prefill_tokens = static_cast<int>(shape.num_prefill_tokens()),
                        .num_decode_sequences = static_cast<int>(shape.num_decode_sequences()),
                        .step_us = static_cast<double>(duration_ns) * 1e-3};
  s.num_decode_context_tokens = shape.total_decode_context_tokens();
  for (const PrefillChunk& c : shape.prefill_chunks)
    s.num_prefill_pairs += routing::prefill_pairs(c.num_tokens, c.num_context_tokens);
  return s;
}

class ClusterSim {
 public:
  ClusterSim(const ClusterOptions& o, const StepCostModel& cost, const workload::Workload& w,
             const ClientOptions& client, SimObserver* observer, std::unique_ptr<SimRouter> router)
      : options_(o),
        observer_(observer),
        router_(std::move(router)),
        client_(&w, client,
                {.vocab_size = o.node.vocab_size,
                 .model_identity = o.node.scheduler.model_identity,
                 .block_size = o.node.kv_cache.block_size}),
        num_conversations_(static_cast<int64_t>(w.conversations.size())),
        sessions_(w.conversations.size()) {
    for (int i = 0; i < o.num_prefill + o.num_decode; ++i) {
      nodes_.push_back({.node = std::make_unique<SimNode>(o.node, &cost)});
    }
    for (int i = 0; i < o.num_decode; ++i) links_.push_back({.link = SharedLink(o.link)});
  }

  Result<SimResult> run();

 private:
  struct LinkSlot {
    SharedLink link;
    int64_t armed_ns = -1;                             // the time of the delivery event in the queue; -1: none
    std::unordered_map<uint64_t, RequestId> requests;  // transfer id -> request
  };

  bool is_prefill(int node) const { return node < options_.num_prefill; }
  int link_of(NodeId decode) const { return static_cast<int>(decode.value) - options_.num_prefill; }
  int64_t now() const { return queue_.now(); }

  void on_arrival(int64_t conversation);
  void on_step_done(int node);
  void on_transfer_done(int link);
  void on_report(int node);
  void on_message();

  void kick(int node);
  void start_import(RequestId id);
  void call_engine(int node, NodeSlot::EngineCall call);
  void begin_import(RequestId id);
  void finish_import(int node, RequestId id);
  void unpin(int prefill, RequestId id);
  void retry_imports(int node);
  void arm(int link);
  void deliver_token(RequestId id);
  void drain_finished(int node);
  void end_request(RequestId id, const sched::Sequence* seq, std::string error);
  void note_decision(const Flight& f, int turn, size_t num_outputs);
  void schedule_turn(int64_t conversation, std::optional<int64_t> due);
  void send_kv_events(int node);
  Status check_nodes_clean() const;

  ClusterOptions options_;
  SimObserver* observer_;
  std::unique_ptr<SimRouter> router_;
  SimClient client_;
  int64_t num_conversations_;
  EventQueue queue_;
  std::vector<NodeSlot> nodes_;
  std::vector<LinkSlot> links_;
  std::unordered_map<uint64_t, Flight> flights_;
  // Per conversation: the decode node that answered its last turn and when (-1: none yet), as
  // the real router keeps sessions (X-Session-ID).
  struct Session {
    NodeId decode;
    int64_t answered_ns = -1;
  };
  std::vector<Session> sessions_;
  std::deque<Message> messages_;  // in send order; one delay for all, so delivery order too
  SimResult result_;
  bool stalled_ = false;
};

Result<SimResult> ClusterSim::run() {
  std::vector<EventSpec> arrivals;
  for (int64_t c = 0; c < num_conversations_; ++c) {
    if (const std::optional<int64_t> due = client_.first_send_ns(c)) {
      arrivals.push_back({.time_ns = *due, .payload = static_cast<uint64_t>(c)});
    }
  }
  queue_.push_many(EventKind::kArrival, arrivals);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    queue_.push(options_.load_report_ns, EventKind::kWake, static_cast<uint32_t>(i));
  }
  while (!client_.done() && !queue_.empty()) {
    const Event e = queue_.pop();
    ++result_.num_events;
    switch (e.kind) {
      case EventKind::kArrival:
        on_arrival(static_cast<int64_t>(e.payload));
        break;
      case EventKind::kStepDone:
        on_step_done(static_cast<int>(e.target));
        break;
      case EventKind::kTransferDone:
        if (links_[e.target].armed_ns == e.time_ns) on_transfer_done(static_cast<int>(e.target));
        break;
      case EventKind::kWake:
        on_report(static_cast<int>(e.target));
        break;
      case EventKind::kMessage:
        on_message();
        break;
    }
    if (stalled_) {
      return internal_error(
          "simulation stalled at {:.3f} s: {} requests in flight and nothing left to run "
          "(a node cannot schedule what it holds)",
          static_cast<double>(now()) * 1e-9, client_.num_in_flight());
    }
  }
  PPD_RETURN_IF_ERROR(check_nodes_clean());
  result_.simulated_s = static_cast<double>(now()) * 1e-9;
  result_.records = std::move(client_.records());
  result_.num_warmup_requests = client_.num_warmup_requests();
  result_.num_skipped_turns = client_.num_skipped_turns();
  result_.duration_s = client_.duration_s();
  result_.router = router_->totals();
  return std::move(result_);
}

// After the run: no request left anywhere, nothing pinned, every reference and router
// reservation accounted for.
Status ClusterSim::check_nodes_clean() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const sched::Scheduler& s = nodes_[i].node->scheduler();
    if (s.has_unfinished() || !s.pinned_ids().empty() || !nodes_[i].pending_imports.empty() ||
        !nodes_[i].calls.empty()) {
      return internal_error("node {}: requests left after the run ({} waiting, {} running, {} pinned)", i,
                            s.num_waiting(), s.num_running(), s.pinned_ids().size());
    }
    PPD_RETURN_IF_ERROR(s.check_invariants());
    const routing::NodeState& v = router_->view().node(NodeId{static_cast<uint32_t>(i)});
    if (v.num_router_active != 0 || v.num_router_prefill_tokens != 0 || v.num_router_decoding != 0) {
      return internal_error("node {}: the router still counts {} requests and {} prefill tokens on it after the run", i,
                            v.num_router_active, v.num_router_prefill_tokens);
    }
  }
  return Status::Ok();
}

void ClusterSim::on_arrival(int64_t conversation) {
  const TurnRequest r = client_.send(conversation, now());
  routing::RouteInput in{.num_prompt_tokens = static_cast<int>(r.prompt.size()),
                         .block_hashes = r.hashes,
                         .num_history_tokens = r.num_history_tokens,
                         .num_new_tokens = static_cast<int>(r.prompt.size()) - r.num_history_tokens,
                         .max_tokens = r.max_tokens,
                         .turn = r.turn};
  if (const Session& s = sessions_[static_cast<size_t>(conversation)]; s.answered_ns >= 0) {
    in.session_decode = s.decode;
    in.since_session_answer_s = static_cast<double>(now() - s.answered_ns) * 1e-9;
  }
  Result<SimRouter::Routed> d = router_->route(in, now());
  if (!d.ok()) {
    schedule_turn(conversation, client_.on_finish(r.id, now(), 0, {}, d.status().to_string()));
    return;
  }
  Flight& f = flights_[r.id.value];
  f.decision = std::move(d->decision);
  f.reservation = d->reservation;
  f.prompt = r.prompt;
  f.prompt_hashes = r.hashes;
  f.max_tokens = r.max_tokens;
  f.send_ns = now();
  const bool local = f.decision.path == Path::kLocal;
  const int node = static_cast<int>(local ? f.decision.decode.value : f.decision.prefill->value);
  const int max_tokens = local ? r.max_tokens : 1;  // a remote prefill samples the first token only
  // The nodes start from the client's block hashes (same model identity and block size).
  const Status added =
      nodes_[node].node->add_request(r.id, prompt_with_room(r.prompt, max_tokens), max_tokens,
                                     local ? sched::BlocksOnFinish::kRelease : sched::BlocksOnFinish::kPin, r.hashes);
  if (!added.ok()) {
    end_request(r.id, nullptr, added.to_string());
    return;
  }
  kick(node);
}

void ClusterSim::kick(int node) {
  NodeSlot& n = nodes_[node];
  if (n.node->in_step()) return;
  if (const std::optional<int64_t> ns = n.node->begin_step()) {
    n.step_start_ns = now();
    queue_.push(now() + *ns, EventKind::kStepDone, static_cast<uint32_t>(node));
  }
}

void ClusterSim::on_step_done(int node) {
  NodeSlot& n = nodes_[node];
  ++result_.num_steps;
  const std::vector<sched::SequenceUpdate>& updates = n.node->end_step();
  const StepShape& shape = n.node->last_shape();
  if (observer_) observer_->on_step(node, n.step_start_ns, now(), shape);
  sched::push_report_step(&n.steps, step_sample(shape, now() - n.step_start_ns));
  for (const sched::SequenceUpdate& u : updates) {
    if (!is_prefill(node)) {
      // The answer reaches the client whole at the end (end_request); a token on its own
      // only when it is the first or the client keeps token times.
      if (u.num_output_tokens == 1 || client_.wants_every_token()) deliver_token(u.id);
      continue;
    }
    Flight& f = flights_.at(u.id.value);  // a prefill node runs remote requests only
    f.first_token = u.token;
    router_->prefill_done(&f.reservation);  // as the real router, when the prefill node answers
    start_import(u.id);
  }
  drain_finished(node);
  while (!n.calls.empty()) {
    const NodeSlot::EngineCall call = n.calls.front();
    n.calls.pop_front();
    call_engine(node, call);
  }
  send_kv_events(node);
  if (!is_prefill(node)) retry_imports(node);
  kick(node);
}

// Runs the call now when the node is between steps (the caller starts the next step), else
// queues it for the end of the running step.
void ClusterSim::call_engine(int node, NodeSlot::EngineCall call) {
  if (nodes_[node].node->in_step()) {
    nodes_[node].calls.push_back(call);
  } else if (call.finish) {
    finish_import(node, call.id);
  } else {
    begin_import(call.id);
  }
}

void ClusterSim::start_import(RequestId id) {
  call_engine(static_cast<int>(flights_.at(id.value).decision.decode.value), {.finish = false, .id = id});
}

void ClusterSim::begin_import(RequestId id) {
  Flight& f = flights_.at(id.value);
  const int decode = static_cast<int>(f.decision.decode.value);
  NodeSlot& d = nodes_[decode];
  const sched::ImportMode mode =
      f.decision.transfer == routing::TransferMode::kFull ? sched::ImportMode::kFull : sched::ImportMode::kDelta;
  Result<int> local =
      d.node->add_importing(id, prompt_with_room(f.prompt, f.max_tokens), f.max_tokens, mode, f.prompt_hashes);
  if (local.status().code() == StatusCode::kResourceExhausted) {
    d.pending_imports.push_back(id);
    return;
  }
  if (!local.ok()) {
    unpin(static_cast<int>(f.decision.prefill->value), id);
    end_request(id, nullptr, local.status().to_string());
    return;
  }
  const int block_size = options_.node.kv_cache.block_size;
  f.cached_tokens = int64_t{*local} * block_size;  // what the real node reports: the blocks it did not pull
  const int num_blocks = kv::num_blocks_for(static_cast<int>(f.prompt.size()), block_size);
  f.transfer_bytes = static_cast<int64_t>(num_blocks - *local) * options_.block_bytes;
  f.transfer_start_ns = now();
  LinkSlot& l = links_[link_of(f.decision.decode)];
  l.requests[l.link.start(now(), f.transfer_bytes)] = id;
  arm(link_of(f.decision.decode));
}

// The prefill node drops a request's pin. Its freed blocks may let a waiting request in: a
// node idle because pins filled its pool steps again (the scheduler does not retry on its own).
void ClusterSim::unpin(int prefill, RequestId id) {
  nodes_[prefill].node->unpin(id);
  send_kv_events(prefill);
  kick(prefill);
}

void ClusterSim::retry_imports(int node) {
  NodeSlot& n = nodes_[node];
  const size_t waiting = n.pending_imports.size();
  for (size_t i = 0; i < waiting; ++i) {
    const RequestId id = n.pending_imports.front();
    n.pending_imports.pop_front();
    begin_import(id);  // re-queued at the back when still short of blocks
  }
}

void ClusterSim::arm(int link) {
  LinkSlot& l = links_[link];
  const std::optional<int64_t> next = l.link.next_delivery_ns();
  if (!next || *next == l.armed_ns) return;
  l.armed_ns = *next;
  queue_.push(*next, EventKind::kTransferDone, static_cast<uint32_t>(link));
}

void ClusterSim::on_transfer_done(int link) {
  LinkSlot& l = links_[link];
  l.armed_ns = -1;
  const int decode = link + options_.num_prefill;
  NodeSlot& d = nodes_[decode];
  for (uint64_t transfer : l.link.advance(now())) {
    const RequestId id = l.requests.at(transfer);
    l.requests.erase(transfer);
    Flight& f = flights_.at(id.value);
    const int64_t took_ns = now() - f.transfer_start_ns;
    if (observer_) observer_->on_transfer(decode, id, f.transfer_start_ns, now(), f.transfer_bytes);
    d.transfer_rate.record(f.transfer_bytes, took_ns);
    unpin(static_cast<int>(f.decision.prefill->value), id);
    call_engine(decode, {.finish = true, .id = id});
  }
  kick(decode);
  arm(link);
}

// The first token (sampled by the prefill node) reaches the client now. The caller starts the
// node's next step.
void ClusterSim::finish_import(int node, RequestId id) {
  deliver_token(id);
  nodes_[node].node->finish_import(id, flights_.at(id.value).first_token);
  drain_finished(node);
  retry_imports(node);
}

// A token reaches the client now; at the first one the router counts the request as decoding
// (and a local request's prompt as prefilled). The request's flight is looked up for that one
// only: tokens are the simulator's hottest path, and a lookup per token cost 5% of an hour's run.
void ClusterSim::deliver_token(RequestId id) {
  if (!client_.on_token(id, now())) return;
  Flight& f = flights_.at(id.value);
  router_->first_token(&f.reservation);
  f.first_token_ns = now();
}

void ClusterSim::drain_finished(int node) {
  for (const std::unique_ptr<sched::Sequence>& seq : nodes_[node].node->take_finished()) {
    end_request(seq->id(), seq.get(), "");
  }
}

void ClusterSim::end_request(RequestId id, const sched::Sequence* seq, std::string error) {
  auto it = flights_.find(id.value);
  PPD_CHECK(it != flights_.end());
  Flight f = std::move(it->second);
  flights_.erase(it);
  const bool local = f.decision.path == Path::kLocal;
  int64_t cached = f.cached_tokens;
  if (seq && local) cached = seq->num_cached_prompt_tokens();
  std::span<const BlockHash> decode_hashes, prompt_hashes;
  if (seq) decode_hashes = seq->block_hashes(), prompt_hashes = f.prompt_hashes;
  router_->finish(f.decision, &f.reservation, prompt_hashes, decode_hashes, static_cast<int64_t>(f.prompt.size()),
                  cached, f.transfer_bytes);
  const int64_t conversation = client_.conversation_of(id);
  if (seq) sessions_[static_cast<size_t>(conversation)] = {.decode = f.decision.decode, .answered_ns = now()};
  const std::span<const TokenId> answer = seq ? seq->output_tokens() : std::span<const TokenId>();
  const size_t num_records = client_.records().size();
  schedule_turn(conversation, client_.on_finish(id, now(), cached, answer, std::move(error)));
  if (seq && client_.records().size() > num_records) note_decision(f, client_.records().back().turn, answer.size());
}

void ClusterSim::note_decision(const Flight& f, int turn, size_t num_outputs) {
  if (f.first_token_ns < 0) return;
  const routing::RouteDecision& d = f.decision;
  DecisionRecord r{.turn = turn, .path = d.path};
  r.ttft_s = static_cast<double>(f.first_token_ns - f.send_ns) * 1e-9;
  if (num_outputs > 1)
    r.tpot_s = static_cast<double>(now() - f.first_token_ns) * 1e-9 / static_cast<double>(num_outputs - 1);
  if (const std::optional<routing::PathPrediction>& p = d.path == Path::kLocal ? d.local : d.remote) {
    r.predicted = true;
    r.predicted_ttft_s = p->ttft_s;
    r.predicted_tpot_s = p->tpot_s;
    if (turn > 1 && r.ttft_s > 0) router_->note_ttft_prediction(r.predicted_ttft_s, r.ttft_s);
  }
  result_.decisions.push_back(r);
}

void ClusterSim::schedule_turn(int64_t conversation, std::optional<int64_t> due) {
  if (due) queue_.push(*due, EventKind::kArrival, 0, static_cast<uint64_t>(conversation));
}

void ClusterSim::send_kv_events(int node) {
  std::vector<kv::KvEvent> events = nodes_[node].node->take_kv_events();
  if (events.empty()) return;
  messages_.push_back({.node = node, .events = std::move(events)});
  queue_.push(now() + options_.message_delay_ns, EventKind::kMessage, static_cast<uint32_t>(node));
}

void ClusterSim::on_report(int node) {
  // Only the other nodes' report ticks are left: no step, transfer, message or arrival
  // will ever come, yet conversations are open.
  stalled_ = queue_.size() + 1 == nodes_.size() && messages_.empty() && !client_.done();
  NodeSlot& n = nodes_[node];
  const sched::Scheduler& s = n.node->scheduler();
  const routing::NodeLoad load{.num_waiting = s.num_waiting(),
                               .num_running = s.num_running(),
                               .num_pending_prefill_tokens = s.num_pending_prefill_tokens(),
                               .num_free_blocks = n.node->kv_cache().num_allocatable_blocks(),
                               .transfer_bytes_per_s = n.transfer_rate.bytes_per_s()};
  messages_.push_back({.node = node, .is_load = true, .load = load, .steps = std::move(n.steps)});
  n.steps.clear();
  queue_.push(now() + options_.message_delay_ns, EventKind::kMessage, static_cast<uint32_t>(node));
  queue_.push(now() + options_.load_report_ns, EventKind::kWake, static_cast<uint32_t>(node));
}

void ClusterSim::on_message() {
  const Message m = std::move(messages_.front());
  messages_.pop_front();
  const NodeId id{static_cast<uint32_t>(m.node)};
  if (m.is_load) {
    router_->apply_load(id, m.load, m.steps, now());
  } else {
    router_->apply_kv_events(id, m.events);
  }
}

}  // namespace

Status validate_cluster_options(const ClusterOptions& o) {
  if (o.num_prefill < 0) return invalid_argument("num_prefill: must be >= 0; got {}", o.num_prefill);
  if (o.num_decode < 1) return invalid_argument("num_decode: must be >= 1; got {}", o.num_decode);
  if (o.num_prefill + o.num_decode > static_cast<int>(routing::PrefixIndex::kMaxNodes)) {
    return invalid_argument("nodes: at most {} in all; got {}", routing::PrefixIndex::kMaxNodes,
                            o.num_prefill + o.num_decode);
  }
  PPD_RETURN_IF_ERROR(sched::validate_scheduler_options(o.node.scheduler));
  if (o.node.kv_cache.num_blocks < 1) {
    return invalid_argument("kv_blocks: must be >= 1; got {}", o.node.kv_cache.num_blocks);
  }
  if (o.node.kv_cache.block_size < 1) {
    return invalid_argument("block_size: must be >= 1; got {}", o.node.kv_cache.block_size);
  }
  if (o.node.vocab_size < 1) return invalid_argument("vocab_size: must be >= 1; got {}", o.node.vocab_size);
  PPD_RETURN_IF_ERROR(validate_link_options(o.link));
  if (o.block_bytes < 1) return invalid_argument("block_bytes: must be >= 1; got {}", o.block_bytes);
  if (o.load_report_ns < 1) return invalid_argument("load_report_ns: must be >= 1; got {}", o.load_report_ns);
  if (o.message_delay_ns < 0) return invalid_argument("message_delay_ns: must be >= 0; got {}", o.message_delay_ns);
  if (o.rate_window_ns < 1) return invalid_argument("rate_window_ns: must be >= 1; got {}", o.rate_window_ns);
  return Status::Ok();
}

Result<SimResult> simulate_cluster(const ClusterOptions& options, const StepCostModel& cost,
                                   const workload::Workload& w, const ClientOptions& client, SimObserver* observer) {
  PPD_RETURN_IF_ERROR(validate_cluster_options(options));
  PPD_RETURN_IF_ERROR(validate_client_options(client));
  PPD_RETURN_IF_ERROR(workload::validate_workload(w));
  routing::NodeLimits limits{.block_size = options.node.kv_cache.block_size,
                             .max_prefill_tokens = options.node.scheduler.max_prefill_tokens,
                             .max_model_len = options.max_model_len,
                             .max_num_running = options.node.scheduler.max_num_running};
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<SimRouter> router,
                       SimRouter::create({.num_prefill = options.num_prefill,
                                          .num_decode = options.num_decode,
                                          .policy = options.policy,
                                          .step_model = options.step_model,
                                          .limits = limits,
                                          .block_bytes = options.block_bytes,
                                          .rate_window_ns = options.rate_window_ns}));
  ClusterSim sim(options, cost, w, client, observer, std::move(router));
  return sim.run();
}

}  // namespace ppd::sim
