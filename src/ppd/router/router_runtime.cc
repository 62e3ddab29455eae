#include "ppd/router/router_runtime.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "ppd/model/model_identity.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::router {

namespace {

Status validate(const RouterRuntimeOptions& o) {
  if (o.decode.empty()) return invalid_argument("router.decode: at least one decode node is required");
  const RouterServiceOptions& s = o.service;
  if (s.max_active_requests < 1)
    return invalid_argument("router.max_active_requests: must be >= 1; got {}", s.max_active_requests);
  if (s.max_waiting_per_node < 1) {
    return invalid_argument("router.max_waiting_per_node: must be >= 1; got {}", s.max_waiting_per_node);
  }
  if (s.max_attempts < 1) return invalid_argument("router.max_attempts: must be >= 1; got {}", s.max_attempts);
  if (s.num_prepare_threads < 1) {
    return invalid_argument("router.num_prepare_threads: must be >= 1; got {}", s.num_prepare_threads);
  }
  if (s.rate_window_ms < 1) return invalid_argument("router.rate_window_ms: must be >= 1; got {}", s.rate_window_ms);
  if (o.monitor.node_timeout_ms < 1) {
    return invalid_argument("router.node_timeout_ms: must be >= 1; got {}", o.monitor.node_timeout_ms);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RouterRuntime>> RouterRuntime::create(RouterRuntimeOptions options,
                                                             boost::asio::any_io_executor executor,
                                                             const Clock* clock) {
  PPD_RETURN_IF_ERROR(validate(options));
  std::unique_ptr<RouterRuntime> router(new RouterRuntime());
  PPD_RETURN_IF_ERROR(router->start(std::move(options), std::move(executor), clock));
  return router;
}

Status RouterRuntime::start(RouterRuntimeOptions o, boost::asio::any_io_executor executor, const Clock* clock) {
  PPD_ASSIGN_OR_RETURN(tokenizer::Tokenizer tok, tokenizer::Tokenizer::load(o.model_dir));
  PPD_ASSIGN_OR_RETURN(tokenizer::ChatTemplateKind chat_template,
                       tokenizer::select_chat_template(o.chat_template, tok));
  PPD_ASSIGN_OR_RETURN(o.monitor.model_identity, model::compute_model_identity(o.model_dir));
  PPD_ASSIGN_OR_RETURN(policy_, routing::make_policy(o.policy));
  if (o.service.served_model_name.empty()) {
    o.service.served_model_name = std::filesystem::path(o.model_dir).lexically_normal().filename().string();
    if (o.service.served_model_name.empty()) o.service.served_model_name = "ppd";
  }
  ledger_ = std::make_unique<routing::RouterLedger>(&view_, o.service.rate_window_ms * 1'000'000);
  monitor_ = std::make_unique<ClusterMonitor>(executor, ledger_.get(), clock, o.monitor);
  for (const net::HostPort& p : o.prefill) PPD_RETURN_IF_ERROR(monitor_->add(p, routing::NodeKind::kPrefill));
  for (const net::HostPort& d : o.decode) PPD_RETURN_IF_ERROR(monitor_->add(d, routing::NodeKind::kDecode));
  PPD_ASSIGN_OR_RETURN(metrics_, register_router_metrics(&registry_));
  service_ = std::make_unique<RouterService>(o.service, ledger_.get(), monitor_.get(), policy_.get(),
                                             router::PromptBuilder(tok, chat_template), &metrics_, clock);
  http_ = std::make_unique<net::HttpServer>(
      executor, net::HttpServerOptions{.bind_address = o.host, .port = o.port, .max_body_bytes = o.max_body_bytes});
  add_router_routes(http_.get(), service_.get(), &view_, &registry_);
  PPD_ASSIGN_OR_RETURN(port_, http_->start());
  monitor_->start();
  spdlog::info("router start model={} policy={} chat_template={} prefill_nodes={} decode_nodes={} port={}",
               o.service.served_model_name, policy_->name(), tokenizer::chat_template_name(chat_template),
               o.prefill.size(), o.decode.size(), port_);
  return Status::Ok();
}

void RouterRuntime::stop() {
  if (monitor_) monitor_->stop();
  if (http_) http_->stop();
}

RouterRuntime::~RouterRuntime() { stop(); }

}  // namespace ppd::router
