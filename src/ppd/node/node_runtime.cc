#include "ppd/node/node_runtime.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/transfer/wire_format.h"

namespace ppd::node {
namespace asio = boost::asio;
namespace {

asio::awaitable<void> run_load_reports(Telemetry* telemetry, int64_t period_ms, std::shared_ptr<bool> running) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (*running) {
    timer.expires_after(std::chrono::milliseconds(period_ms));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || !*running) co_return;
    telemetry->publish_load_report();
  }
}

std::string join_host_port(const std::string& host, uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace

Result<std::unique_ptr<NodeRuntime>> NodeRuntime::create(const NodeRuntimeOptions& options,
                                                         asio::any_io_executor executor, const Clock* clock) {
  if (options.load_report_ms < 1)
    return invalid_argument("load_report_ms: must be >= 1; got {}", options.load_report_ms);
  if (options.service.pin_timeout_ms < 1) {
    return invalid_argument("pin_timeout_ms: must be >= 1; got {}", options.service.pin_timeout_ms);
  }
  if (options.service.transfer_timeout_ms < 1) {
    return invalid_argument("transfer_timeout_ms: must be >= 1; got {}", options.service.transfer_timeout_ms);
  }
  std::unique_ptr<NodeRuntime> node(new NodeRuntime());
  PPD_RETURN_IF_ERROR(node->start(options, std::move(executor), clock));
  return node;
}

Status NodeRuntime::start(const NodeRuntimeOptions& o, asio::any_io_executor executor, const Clock* clock) {
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> engine, engine::Engine::create(o.model_dir, o.engine, clock));
  telemetry_ = std::make_unique<Telemetry>(o.service.name, clock);
  // The KV dtype goes on the wire, so that nodes keeping other values refuse each other's blocks.
  const uint16_t block_format = transfer::wire::block_format_of(engine->kv_dtype());
  loop_ = std::make_unique<EngineLoop>(std::move(engine), telemetry_.get());
  tcp_ = std::make_unique<transfer::TcpKvTransport>(
      executor, transfer::TcpTransportOptions{.secret = o.cluster_secret, .block_format = block_format});
  transfer::KvTransport* transport = tcp_.get();
  if (o.link) {
    PPD_ASSIGN_OR_RETURN(link_, transfer::EmulatedLinkTransport::create(*tcp_, *o.link));
    transport = link_.get();
  }
  service_ = std::make_unique<NodeService>(o.service, executor, loop_.get(), transport, telemetry_.get(), clock);
  kv_server_ = std::make_unique<transfer::TcpKvServer>(
      executor, &service_->handles(),
      transfer::TcpServerOptions{
          .bind_address = o.host, .port = o.kv_port, .secret = o.cluster_secret, .block_format = block_format});
  PPD_ASSIGN_OR_RETURN(kv_port_, kv_server_->start());
  // Handles name the KV port, known only once bound.
  service_->set_kv_address(join_host_port(o.host, kv_port_));
  PPD_ASSIGN_OR_RETURN(metrics_, register_node_metrics(&registry_));
  http_ = std::make_unique<net::HttpServer>(
      executor,
      net::HttpServerOptions{.bind_address = o.host, .port = o.http_port, .max_body_bytes = o.max_body_bytes});
  add_node_routes(http_.get(), service_.get(), telemetry_.get(), &registry_, &metrics_, o.cluster_secret);
  PPD_ASSIGN_OR_RETURN(http_port_, http_->start());
  asio::co_spawn(executor, service_->run_pin_expiry(), asio::detached);
  asio::co_spawn(executor, run_load_reports(telemetry_.get(), o.load_report_ms, running_), asio::detached);
  spdlog::info("node start name={} role={} http={} kv={} pin_timeout_ms={} transfer_timeout_ms={}", o.service.name,
               node_role_name(o.service.role), join_host_port(o.host, http_port_), service_->options().kv_address,
               o.service.pin_timeout_ms, o.service.transfer_timeout_ms);
  return Status::Ok();
}

void NodeRuntime::stop() {
  *running_ = false;
  if (service_) service_->stop();
  if (http_) http_->stop();
  if (kv_server_) kv_server_->stop();
}

NodeRuntime::~NodeRuntime() { stop(); }

}  // namespace ppd::node
