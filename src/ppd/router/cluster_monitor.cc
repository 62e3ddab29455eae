#include "ppd/router/cluster_monitor.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "ppd/common/check.h"
#include "ppd/common/json_limits.h"
#include "ppd/kv/block_hash.h"

namespace ppd::router {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;
using routing::NodeKind;

struct ClusterMonitor::Node {
  net::HostPort address;
  std::string name;
  std::vector<NodeId> ids;  // one per kind
  int64_t last_line_ns = 0;
  bool incompatible = false;
  std::string kv_address;  // from its /health
};

namespace {

asio::awaitable<void> sleep_ms(int64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

uint64_t parse_hex(const std::string& text, bool* ok) {
  uint64_t value = 0;
  *ok = text.size() == 16 && std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c); });
  if (*ok) value = std::stoull(text, nullptr, 16);
  return value;
}

Result<std::vector<BlockHash>> parse_hashes(const nlohmann::json& array, std::string_view field) {
  std::vector<BlockHash> out;
  if (!array.is_array()) return internal_error("{}: expected an array", field);
  for (const nlohmann::json& h : array) {
    bool ok = h.is_string();
    const uint64_t value = ok ? parse_hex(h.get<std::string>(), &ok) : 0;
    if (!ok) return internal_error("{}: expected 16 hex digits; got {}", field, h.dump());
    out.emplace_back(value);
  }
  return out;
}

}  // namespace

Result<routing::NodeLoad> parse_load(const nlohmann::json& j, std::vector<routing::StepSample>* steps) try {
  routing::NodeLoad load{.num_waiting = j.value("num_waiting", 0),
                         .num_running = j.value("num_running", 0),
                         .num_pending_prefill_tokens = j.value("num_pending_prefill_tokens", int64_t{0}),
                         .num_free_blocks = j.value("num_free_blocks", -1),
                         .transfer_bytes_per_s = j.value("transfer_bytes_per_s", 0.0),
                         .draining = j.value("draining", false)};
  for (const nlohmann::json& s : j.value("recent_steps", nlohmann::json::array())) {
    if (!s.is_array() || s.size() != 5) continue;
    steps->push_back({s[0].get<int>(), s[1].get<int>(), s[2].get<int64_t>(), s[3].get<double>(), s[4].get<double>()});
  }
  return load;
} catch (const nlohmann::json::exception& e) {
  return internal_error("malformed load report: {}", e.what());
}

Result<EngineFacts> parse_engine_facts(const nlohmann::json& health, std::string_view node) {
  auto engine = health.find("engine");
  if (engine == health.end() || !engine->is_object())
    return internal_error("node {}: /health has no engine facts", node);
  try {
    bool ok = false;
    EngineFacts f{.model_identity = parse_hex(engine->at("model_identity").get<std::string>(), &ok),
                  .block_size = engine->at("block_size").get<int>(),
                  .block_bytes = engine->at("block_bytes").get<int64_t>(),
                  .max_model_len = engine->at("max_model_len").get<int>(),
                  .max_prefill_tokens = engine->at("max_prefill_tokens").get<int>(),
                  .max_num_running = engine->value("max_num_running", 0),
                  .vocab_size = engine->at("vocab_size").get<int>()};
    if (!ok) return internal_error("node {}: engine.model_identity: expected 16 hex digits", node);
    f.kv_hash_seed = f.model_identity;
    if (engine->contains("kv_hash_seed")) {
      f.kv_hash_seed = parse_hex(engine->at("kv_hash_seed").get<std::string>(), &ok);
      if (!ok) return internal_error("node {}: engine.kv_hash_seed: expected 16 hex digits", node);
    }
    f.weights = engine->value("weights", std::string("?")).substr(0, 16);
    f.kv_dtype = engine->value("kv_dtype", std::string("?")).substr(0, 16);
    return f;
  } catch (const nlohmann::json::exception& e) {
    return internal_error("node {}: malformed engine facts in /health: {}", node, e.what());
  }
}

ClusterMonitor::ClusterMonitor(asio::any_io_executor executor, routing::RouterLedger* ledger, const Clock* clock,
                               ClusterMonitorOptions options)
    : executor_(std::move(executor)),
      ledger_(ledger),
      view_(&ledger->mutable_view()),
      clock_(clock),
      options_(options) {}

ClusterMonitor::~ClusterMonitor() { stop(); }

Status ClusterMonitor::add(const net::HostPort& address, NodeKind kind) {
  const std::string name = net::format_host_port(address.host, address.port);
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n->name == name; });
  if (it != nodes_.end()) {
    for (NodeId id : (*it)->ids) {
      if (view_->node(id).kind == kind)
        return invalid_argument("nodes: {} is listed twice as a {} node", name, node_kind_name(kind));
    }
  }
  PPD_ASSIGN_OR_RETURN(NodeId id, view_->add_node(name, kind, options_.step_model));
  if (it == nodes_.end()) {
    nodes_.push_back(std::make_shared<Node>(Node{.address = address, .name = name}));
    it = std::prev(nodes_.end());
  }
  (*it)->ids.push_back(id);
  return Status::Ok();
}

void ClusterMonitor::start() {
  *running_ = true;
  for (const auto& node : nodes_) asio::co_spawn(executor_, follow(node), asio::detached);
  asio::co_spawn(executor_, expire_loop(), asio::detached);
}

void ClusterMonitor::stop() { *running_ = false; }

const net::HostPort& ClusterMonitor::address(NodeId id) const {
  for (const auto& n : nodes_) {
    if (std::find(n->ids.begin(), n->ids.end(), id) != n->ids.end()) return n->address;
  }
  PPD_CHECK(false && "unknown node id");
  return nodes_.front()->address;
}

const std::string& ClusterMonitor::kv_address(NodeId id) const {
  for (const auto& n : nodes_) {
    if (std::find(n->ids.begin(), n->ids.end(), id) != n->ids.end()) return n->kv_address;
  }
  static const std::string kNone;
  return kNone;
}

std::vector<std::pair<std::string, std::string>> secret_headers(const std::string& cluster_secret) {
  if (cluster_secret.empty()) return {};
  return {{"Authorization", "Bearer " + cluster_secret}};
}

std::vector<NodeId> ClusterMonitor::ids_of_same_node(NodeId id) const {
  for (const auto& n : nodes_) {
    if (std::find(n->ids.begin(), n->ids.end(), id) != n->ids.end()) return n->ids;
  }
  return {id};
}

void ClusterMonitor::report_failure(NodeId id) {
  for (NodeId same : ids_of_same_node(id)) view_->mutable_node(same).healthy = false;
}

void ClusterMonitor::note_cached(NodeId id, std::span<const BlockHash> hashes) {
  for (NodeId same : ids_of_same_node(id)) ledger_->note_cached(same, hashes);
}

void ClusterMonitor::note_answered(const routing::RouteDecision& d, std::span<const TokenId> prompt,
                                   std::span<const TokenId> outputs, std::span<const BlockHash> prompt_hashes) {
  std::vector<TokenId> held(prompt.begin(), prompt.end());
  if (!outputs.empty()) held.insert(held.end(), outputs.begin(), outputs.end() - 1);
  // Every node the router uses hashes with the same seed (check_facts).
  const uint64_t seed = facts_ ? facts_->kv_hash_seed : options_.model_identity;
  note_cached(d.decode, kv::hash_full_blocks(seed, held, view_->block_size));
  if (d.prefill) note_cached(*d.prefill, prompt_hashes);
}

void ClusterMonitor::set_healthy(Node& node, bool healthy) {
  for (NodeId id : node.ids) view_->mutable_node(id).healthy = healthy;
}

asio::awaitable<void> ClusterMonitor::follow(std::shared_ptr<Node> node) {
  auto running = running_;
  int64_t backoff_ms = options_.reconnect_ms;
  while (*running && !node->incompatible) {
    const Status s = co_await follow_once(*node);
    if (!*running) break;
    set_healthy(*node, false);
    for (NodeId id : node->ids) view_->forget_prefix_cache(id);
    spdlog::warn("router node_lost node={} reason=\"{}\" retry_ms={}", node->name, s.message(), backoff_ms);
    co_await sleep_ms(backoff_ms);
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
    if (node->last_line_ns > 0 && clock_->now_ns() - node->last_line_ns < 5'000'000'000) {
      backoff_ms = options_.reconnect_ms;
    }
  }
}

asio::awaitable<Status> ClusterMonitor::follow_once(Node& node) {
  net::HttpRequestSpec health{.host = node.address.host,
                              .port = node.address.port,
                              .target = "/health",
                              .headers = secret_headers(options_.cluster_secret),
                              .timeout_ms = options_.node_timeout_ms};
  Result<net::HttpResponse> r = co_await net::http_request(health);
  if (!r.ok()) co_return r.status();
  if (r->status_code == 401) {
    co_return Status(StatusCode::kUnauthenticated,
                     "GET /health answered 401: the node wants a cluster secret (is "
                     "--cluster-secret-file or PPD_CLUSTER_SECRET the same here?)");
  }
  if (r->status_code != 200) co_return unavailable("GET /health answered {}", r->status_code);
  const nlohmann::json body = parse_peer_json(r->body);
  PPD_CO_ASSIGN_OR_RETURN(EngineFacts facts, parse_engine_facts(body, node.name));
  PPD_CO_RETURN_IF_ERROR(check_facts(node, facts));
  if (auto kv = body.find("kv_address"); kv != body.end() && kv->is_string()) node.kv_address = kv->get<std::string>();
  net::HttpRequestSpec events{.host = node.address.host,
                              .port = node.address.port,
                              .target = "/events",
                              .headers = secret_headers(options_.cluster_secret),
                              .timeout_ms = std::numeric_limits<int32_t>::max()};
  node.last_line_ns = clock_->now_ns();
  auto on_line = [this, &node](std::string_view line) { return apply_node_line(node, line); };
  std::variant<Result<net::HttpResponse>, std::monostate> ended =
      co_await (net::http_stream(events, on_line) || watchdog(node));
  if (ended.index() == 1) co_return unavailable("no report for {} ms", options_.node_timeout_ms);
  const Result<net::HttpResponse>& stream = std::get<0>(ended);
  if (!stream.ok()) co_return stream.status();
  co_return unavailable("GET /events ended (HTTP {})", stream->status_code);
}

asio::awaitable<void> ClusterMonitor::watchdog(Node& node) {
  auto running = running_;
  const int64_t timeout_ns = options_.node_timeout_ms * 1'000'000;
  while (*running && clock_->now_ns() - node.last_line_ns <= timeout_ns) {
    co_await sleep_ms(std::max<int64_t>(options_.node_timeout_ms / 4, 1));
  }
}

Status ClusterMonitor::check_facts(Node& node, const EngineFacts& facts) {
  if (facts.model_identity != options_.model_identity) {
    node.incompatible = true;
    spdlog::error("router node_rejected node={} reason=\"model identity {:016x} differs from the router's {:016x}\"",
                  node.name, facts.model_identity, options_.model_identity);
    return failed_precondition("node {} serves another model", node.name);
  }
  if (facts_ && facts_->kv_hash_seed != facts.kv_hash_seed) {
    node.incompatible = true;
    spdlog::error(
        "router node_rejected node={} reason=\"weights {} with kv_dtype {} (kv_hash_seed {:016x}) differ from the "
        "cluster's weights {} with kv_dtype {} ({:016x}): nodes must share both to share KV\"",
        node.name, facts.weights, facts.kv_dtype, facts.kv_hash_seed, facts_->weights, facts_->kv_dtype,
        facts_->kv_hash_seed);
    return failed_precondition("node {} keeps its KV in another precision", node.name);
  }
  if (facts_ && facts_->block_size != facts.block_size) {
    node.incompatible = true;
    spdlog::error("router node_rejected node={} reason=\"block_size {} differs from {}\"", node.name, facts.block_size,
                  facts_->block_size);
    return failed_precondition("node {} uses another block size", node.name);
  }
  if (!facts_) {
    facts_ = facts;
    view_->block_size = facts.block_size;
    view_->block_bytes = facts.block_bytes;
  }
  for (NodeId id : node.ids) {
    view_->mutable_node(id).limits = {.block_size = facts.block_size,
                                      .max_prefill_tokens = facts.max_prefill_tokens,
                                      .max_model_len = facts.max_model_len,
                                      .max_num_running = facts.max_num_running};
  }
  return Status::Ok();
}

Status ClusterMonitor::apply_line(NodeId id, std::string_view line) {
  for (const auto& n : nodes_) {
    if (std::find(n->ids.begin(), n->ids.end(), id) != n->ids.end()) return apply_node_line(*n, line);
  }
  return invalid_argument("node id {}: unknown", id.value);
}

Status ClusterMonitor::apply_node_line(Node& node, std::string_view line) {
  node.last_line_ns = clock_->now_ns();
  const nlohmann::json j = parse_peer_json(line);
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type == "kv_events") {
    PPD_ASSIGN_OR_RETURN(std::vector<BlockHash> stored, parse_hashes(j.value("stored", nlohmann::json()), "stored"));
    PPD_ASSIGN_OR_RETURN(std::vector<BlockHash> removed, parse_hashes(j.value("removed", nlohmann::json()), "removed"));
    for (NodeId id : node.ids) ledger_->apply_kv_events(id, stored, removed);
  } else if (type == "load") {
    std::vector<routing::StepSample> steps;
    PPD_ASSIGN_OR_RETURN(const routing::NodeLoad load, parse_load(j, &steps));
    for (NodeId id : node.ids) ledger_->apply_load(id, load, steps, node.last_line_ns);
  }
  return Status::Ok();
}

asio::awaitable<void> ClusterMonitor::expire_loop() {
  auto running = running_;
  while (*running) {
    co_await sleep_ms(std::max<int64_t>(options_.node_timeout_ms / 4, 1));
    view_->expire(clock_->now_ns(), options_.node_timeout_ms * 1'000'000);
  }
}

}  // namespace ppd::router
