#include "ppd/router/router_service.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/common/secret.h"
#include "ppd/kv/block_hash.h"
#include "ppd/request/sampling_params.h"
#include "ppd/router/dispatch.h"
#include "ppd/router/response_relay.h"
#include "ppd/router/scoped_reservation.h"

namespace ppd::router {
namespace asio = boost::asio;
using router::ApiKind;
using routing::Path;
using routing::RouteDecision;

struct RouterService::Prepare {
  Status status;
  std::unique_ptr<Prepared> prepared;
};

struct RouterService::Prepared {
  router::ApiRequest api;
  router::PromptPlan plan;
  std::vector<BlockHash> hashes;
  router::ResponseMeta meta;
  std::string session;
  int max_tokens = 0;
  int64_t arrival_ns = 0;
};

namespace {

void log_decision(const std::string& id, std::string_view policy, const RouteDecision& d,
                  const routing::ClusterView& view) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  auto ms = [](const std::optional<routing::PathPrediction>& p, bool ttft) {
    return p ? fmt::format("{:.3f}", (ttft ? p->ttft_s : p->tpot_s) * 1e3) : std::string("-");
  };
  spdlog::debug(
      "router route id={} policy={} path={} reason={} decode={} prefill={} decode_cached={} prefill_cached={} "
      "local_ttft_ms={} local_tpot_ms={} remote_ttft_ms={} remote_tpot_ms={}",
      id, policy, path_name(d.path), d.reason, view.node(d.decode).name, d.prefill ? view.node(*d.prefill).name : "-",
      d.num_decode_cached_tokens, d.num_prefill_cached_tokens, ms(d.local, true), ms(d.local, false),
      ms(d.remote, true), ms(d.remote, false));
}

}  // namespace

RouterService::RouterService(RouterServiceOptions options, routing::RouterLedger* ledger, ClusterMonitor* monitor,
                             const routing::RoutingPolicy* policy, router::PromptBuilder prompts,
                             RouterMetrics* metrics, const Clock* clock)
    : options_(std::move(options)),
      ledger_(ledger),
      view_(&ledger->mutable_view()),
      monitor_(monitor),
      policy_(policy),
      prompts_(std::move(prompts)),
      store_(options_.conversation_store_tokens),
      metrics_(metrics),
      clock_(clock),
      prepare_pool_(std::make_unique<asio::thread_pool>(std::max(1, options_.num_prepare_threads))) {}

bool RouterService::authorized(const net::HttpRequest& request) const {
  if (options_.api_key.empty()) return true;
  return bearer_matches(options_.api_key, request.header("authorization").value_or(""));
}

Status RouterService::admit() const {
  if (num_active_ >= options_.max_active_requests) {
    return resource_exhausted("router: {} requests in flight; the limit is {}", num_active_,
                              options_.max_active_requests);
  }
  bool any_room = false, any_healthy = false;
  for (const routing::NodeState& n : view_->nodes()) {
    if (!n.accepting() || n.kind != routing::NodeKind::kDecode) continue;
    any_healthy = true;
    any_room |= n.load.num_waiting <= options_.max_waiting_per_node;
  }
  if (!any_healthy) return unavailable("no healthy decode node takes requests (all are down or draining)");
  if (!any_room) {
    return resource_exhausted("router: every decode node has more than {} requests waiting",
                              options_.max_waiting_per_node);
  }
  return Status::Ok();
}

// Parses, checks the size before tokenizing, builds the prompt, validates and hashes.
Result<std::unique_ptr<RouterService::Prepared>> RouterService::build_prepared(
    const net::HttpRequest& request, ApiKind kind, const std::optional<EngineFacts>& facts) const {
  auto p = std::make_unique<Prepared>();
  PPD_ASSIGN_OR_RETURN(p->api, router::parse_api_request(request.body(), kind));
  if (p->api.model != options_.served_model_name) {
    return not_found("model: unknown \"{}\"; served: {}", p->api.model, options_.served_model_name);
  }
  if (!facts) return unavailable("no healthy decode node");
  PPD_RETURN_IF_ERROR(prompts_.check_size(p->api, facts->max_model_len));
  PPD_ASSIGN_OR_RETURN(p->plan, prompts_.build(p->api, store_));
  const request::RequestLimits limits{.max_model_len = facts->max_model_len, .vocab_size = facts->vocab_size};
  PPD_RETURN_IF_ERROR(request::validate_request(p->plan.token_ids, p->api.sampling, limits));
  p->max_tokens = request::resolve_max_tokens(static_cast<int>(p->plan.token_ids.size()), p->api.sampling, limits);
  p->hashes = kv::hash_full_blocks(facts->kv_hash_seed, p->plan.token_ids, facts->block_size);
  return p;
}

asio::awaitable<RouterService::Prepare> RouterService::prepare_off_loop(const RouterService* self,
                                                                        const net::HttpRequest* request, ApiKind kind,
                                                                        std::optional<EngineFacts> facts) {
  Result<std::unique_ptr<Prepared>> p = self->build_prepared(*request, kind, facts);
  if (!p.ok()) co_return Prepare{.status = p.status()};
  co_return Prepare{.status = Status::Ok(), .prepared = std::move(*p)};
}

asio::awaitable<Result<std::unique_ptr<RouterService::Prepared>>> RouterService::prepare(
    const net::HttpRequest& request, ApiKind kind) {
  const int64_t arrival_ns = clock_->now_ns();
  Prepare done = co_await asio::co_spawn(
      prepare_pool_->get_executor(), prepare_off_loop(this, &request, kind, monitor_->facts()), asio::use_awaitable);
  if (!done.status.ok()) co_return done.status;
  PPD_CO_RETURN_IF_ERROR(admit());
  std::unique_ptr<Prepared> p = std::move(done.prepared);
  p->arrival_ns = arrival_ns;
  const std::optional<std::string_view> session = request.header("x-session-id");
  p->session = session ? std::string(*session) : p->api.user;
  const uint64_t n = next_id_++;
  p->meta = {
      .kind = kind,
      .id = fmt::format("{}-{:016x}", kind == ApiKind::kChat ? "chatcmpl" : "cmpl", n),
      .created =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
      .model = options_.served_model_name};
  co_return std::move(p);
}

asio::awaitable<void> RouterService::serve(const net::HttpRequest& request, net::ResponseWriter& writer, ApiKind kind) {
  Result<std::unique_ptr<Prepared>> prepared = co_await prepare(request, kind);
  if (!prepared.ok()) {
    metrics_->requests->with({std::string(status_code_name(prepared.status().code()))}).inc();
    co_await writer.send_error(prepared.status());
    co_return;
  }
  ++num_active_;
  metrics_->active_requests->with({}).set(num_active_);
  const Status s = co_await run(**prepared, writer);
  --num_active_;
  metrics_->active_requests->with({}).set(num_active_);
  metrics_->requests->with({s.ok() ? std::string("ok") : std::string(status_code_name(s.code()))}).inc();
  if (!s.ok() && !writer.responded()) co_await writer.send_error(s);
}

asio::awaitable<Status> RouterService::run(Prepared& p, net::ResponseWriter& writer) {
  routing::RouteInput in{.num_prompt_tokens = static_cast<int>(p.plan.token_ids.size()),
                         .block_hashes = p.hashes,
                         .num_history_tokens = p.plan.num_history_tokens,
                         .num_new_tokens = static_cast<int>(p.plan.token_ids.size()) - p.plan.num_history_tokens,
                         .max_tokens = p.max_tokens,
                         .turn = p.plan.turn,
                         .request_rate = ledger_->note_arrival(clock_->now_ns())};
  if (auto it = sessions_.find(p.session); !p.session.empty() && it != sessions_.end()) {
    in.session_decode = it->second.decode;
    in.since_session_answer_s = static_cast<double>(clock_->now_ns() - it->second.answered_ns) * 1e-9;
  }
  Status last = unavailable("no attempt made");
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    Result<RouteDecision> d = policy_->route(*view_, in);
    if (!d.ok()) co_return d.status();
    if (attempt > 0) d->reason = "retry";
    log_decision(p.meta.id, policy_->name(), *d, *view_);
    metrics_->decisions->with({std::string(policy_->name()), std::string(path_name(d->path)), d->reason}).inc();
    ScopedReservation reservation(ledger_, *d, in.num_prompt_tokens, in.max_tokens);
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    Dispatch dispatch{.executor = executor,
                      .view = view_,
                      .monitor = monitor_,
                      .prefill_timeout_ms = options_.prefill_timeout_ms,
                      .stream_timeout_ms = options_.stream_timeout_ms,
                      .first_token_timeout_ms = options_.first_token_timeout_ms,
                      .token_timeout_ms = options_.token_timeout_ms};
    AttemptResult opened = co_await open_path(dispatch, *d, p.meta.id, p.plan.token_ids, p.api.sampling);
    if (d->path == Path::kRemote) reservation.prefill_done();  // the prefill node has answered
    const std::optional<uint64_t> handle = opened.handle;
    if (opened.stream) {
      ResponseRelay relay(p.api, p.meta, prompts_.tokenizer(), writer, clock_);
      relay.on_first_token([&reservation] { reservation.first_token(); });
      const RelayOutcome outcome = co_await relay.run(*opened.stream);
      opened.stream->cancel();
      if (outcome.status.ok()) {
        finish(p, *d, relay);
        co_return Status::Ok();
      }
      if (handle) release_after_failure(dispatch, *d, *handle);
      if (outcome.client_saw_bytes) {
        if (outcome.status.code() == StatusCode::kUnavailable) monitor_->report_failure(d->decode);
        co_return outcome.status;
      }
      opened = attribute_stream_failure(*d, outcome.status, *opened.stream);
    }
    last = opened.error;
    if (!opened.retryable) break;
    metrics_->retries->with({std::string(path_name(d->path))}).inc();
    spdlog::info("router retry id={} attempt={} path={} error=\"{}\"", p.meta.id, attempt + 1, path_name(d->path),
                 last.message());
    apply_failure(opened, &in, monitor_);
  }
  co_return last;
}

// How far the policy's prediction for the path taken was off (ppd predicts; others do not).
void RouterService::note_prediction(const RouteDecision& d, std::string_view turn, const std::string& path, double ttft,
                                    double tpot) {
  const std::optional<routing::PathPrediction>& p = d.path == Path::kLocal ? d.local : d.remote;
  if (!p || !(ttft > 0)) return;
  metrics_->prediction_error->with({"ttft", std::string(turn), path}).observe(std::abs(p->ttft_s - ttft) / ttft);
  if (tpot > 0)
    metrics_->prediction_error->with({"tpot", std::string(turn), path}).observe(std::abs(p->tpot_s - tpot) / tpot);
  spdlog::debug(
      "router prediction turn={} path={} predicted_ttft_ms={:.3f} ttft_ms={:.3f} predicted_tpot_ms={:.3f} "
      "tpot_ms={:.3f}",
      turn, path, p->ttft_s * 1e3, ttft * 1e3, p->tpot_s * 1e3, tpot * 1e3);
}

void RouterService::finish(Prepared& p, const RouteDecision& d, const ResponseRelay& relay) {
  const std::string_view turn = turn_class(p.plan.turn);
  const std::string path(path_name(d.path));
  const double ttft = static_cast<double>(relay.first_token_ns() - p.arrival_ns) * 1e-9;
  const double e2e = static_cast<double>(relay.last_token_ns() - p.arrival_ns) * 1e-9;
  const auto num_out = static_cast<double>(relay.output_ids().size());
  metrics_->ttft->with({std::string(turn), path}).observe(ttft);
  metrics_->e2e->with({std::string(turn), path}).observe(e2e);
  if (num_out > 1) metrics_->tpot->with({std::string(turn), path}).observe((e2e - ttft) / (num_out - 1));
  const double tpot = num_out > 1 ? (e2e - ttft) / (num_out - 1) : -1;
  note_prediction(d, turn, path, ttft, tpot);
  metrics_->transfer_bytes->with({}).inc(static_cast<double>(relay.transfer_bytes()));
  metrics_->prefix_hit_tokens->with({path}).inc(relay.num_cached_tokens());
  metrics_->prompt_tokens->with({}).inc(relay.num_prompt_tokens());
  metrics_->generation_tokens->with({}).inc(num_out);
  monitor_->note_answered(d, p.plan.token_ids, relay.output_ids(), p.hashes);
  if (!relay.cut_by_stop_string()) {
    std::span<const TokenId> answer = relay.output_ids();
    if (relay.finish_reason() == "stop") answer = answer.first(answer.size() - 1);
    prompts_.remember(p.api, p.plan, relay.text(), answer, store_);
    metrics_->store_tokens->with({}).set(static_cast<double>(store_.num_tokens()));
  }
  if (!p.session.empty()) {
    if (sessions_.size() >= options_.max_sessions && !sessions_.contains(p.session)) sessions_.erase(sessions_.begin());
    sessions_[p.session] = {.decode = d.decode, .answered_ns = relay.last_token_ns()};
  }
  spdlog::debug(
      "router finish id={} turn={} path={} prompt_tokens={} cached_tokens={} output_tokens={} ttft_ms={:.2f} "
      "e2e_ms={:.2f} transfer_bytes={}",
      p.meta.id, turn, path, relay.num_prompt_tokens(), relay.num_cached_tokens(), relay.output_ids().size(),
      ttft * 1e3, e2e * 1e3, relay.transfer_bytes());
}

}  // namespace ppd::router
