// `ppd router`: the OpenAI-compatible front door of a cluster of `ppd node` processes.
// Prints one "ppd router ready ..." line on stdout once it serves, and runs until SIGINT
// or SIGTERM.
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "ppd/cli/commands.h"
#include "ppd/cli/model_source.h"
#include "ppd/frontend/router_runtime.h"

namespace ppd::cli {
namespace {

struct RouterFlags {
  frontend::RouterRuntimeOptions options;
  std::string model;
  std::vector<std::string> prefill;
  std::vector<std::string> decode;
  std::string transfer = "delta";
  double slo_ttft_ms = 0;
  double slo_tpot_ms = 0;
  double default_link_bytes_per_s = 1e9;
  int64_t threshold_prefill_queue_tokens = -1;
  int threshold_decode_running = -1;
  int table_bypass_tokens = -1;
  int port = 8000;
};

Result<std::vector<net::HostPort>> parse_nodes(const std::vector<std::string>& list, std::string_view flag) {
  std::vector<net::HostPort> out;
  for (const std::string& item : list) {
    Result<net::HostPort> hp = net::parse_host_port(item);
    if (!hp.ok()) return invalid_argument("{}: {}", flag, hp.status().message());
    out.push_back(*hp);
  }
  return out;
}

Status resolve(RouterFlags& f) {
  frontend::RouterRuntimeOptions& o = f.options;
  PPD_ASSIGN_OR_RETURN(o.model_dir, resolve_model_arg(f.model));
  PPD_ASSIGN_OR_RETURN(o.prefill, parse_nodes(f.prefill, "--prefill"));
  PPD_ASSIGN_OR_RETURN(o.decode, parse_nodes(f.decode, "--decode"));
  o.port = static_cast<uint16_t>(f.port);
  const router::TransferMode mode = f.transfer == "full" ? router::TransferMode::kFull : router::TransferMode::kDelta;
  o.policy.pd.transfer = mode;
  o.policy.ppd.transfer = mode;
  o.policy.table.transfer = mode;
  if (f.slo_ttft_ms > 0) o.policy.ppd.slo_ttft_s = f.slo_ttft_ms / 1e3;
  if (f.slo_tpot_ms > 0) o.policy.ppd.slo_tpot_s = f.slo_tpot_ms / 1e3;
  o.policy.ppd.default_link_bytes_per_s = f.default_link_bytes_per_s;
  if (f.threshold_prefill_queue_tokens >= 0) o.policy.threshold.max_prefill_queue_tokens = f.threshold_prefill_queue_tokens;
  if (f.threshold_decode_running >= 0) o.policy.threshold.max_decode_running = f.threshold_decode_running;
  if (f.table_bypass_tokens >= 0) o.policy.table.short_input_bypass_tokens = f.table_bypass_tokens;
  return Status::Ok();
}

Status run_router(RouterFlags& f) {
  PPD_RETURN_IF_ERROR(resolve(f));
  boost::asio::io_context io;
  SteadyClock clock;
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<frontend::RouterRuntime> router,
                       frontend::RouterRuntime::create(f.options, io.get_executor(), &clock));
  std::cout << "ppd router ready http=" << net::format_host_port(f.options.host, router->port())
            << " policy=" << f.options.policy.name << " model=" << router->served_model_name() << std::endl;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    router->stop();
    io.stop();
  });
  io.run();
  return Status::Ok();
}

void add_policy_flags(CLI::App* cmd, RouterFlags* f) {
  router::PolicyOptions& p = f->options.policy;
  cmd->add_option("--policy", p.name, "Routing policy: pd (always remote), local (turn 2+ on the decode node holding the "
                                      "conversation), threshold (Dynamo's rule), table (the paper's lookup table), "
                                      "ppd (online cost model)")
      ->check(CLI::IsMember({"pd", "local", "threshold", "table", "ppd"}))->capture_default_str();
  cmd->add_option("--transfer", f->transfer, "Remote path KV transfer: delta (only the blocks the decode node lacks) or full")
      ->check(CLI::IsMember({"delta", "full"}))->capture_default_str();
  cmd->add_option("--w-ttft", p.ppd.w_ttft, "ppd: weight of the relative TTFT gain")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--w-tpot", p.ppd.w_tpot, "ppd: weight of the relative TPOT loss")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--slo-ttft-ms", f->slo_ttft_ms, "ppd: TTFT guard; a path predicted to miss it is avoided (0: off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--slo-tpot-ms", f->slo_tpot_ms, "ppd: TPOT guard (0: off)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--default-link-bytes-per-s", f->default_link_bytes_per_s,
                  "ppd: link bandwidth assumed before a decode node reports its pulls")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--threshold-tokens", p.threshold.max_local_prefill_tokens, "threshold: local iff uncached tokens < T ...")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--threshold-ratio", p.threshold.max_uncached_ratio, "threshold: ... and uncached / prompt tokens < R")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--threshold-prefill-queue-tokens", f->threshold_prefill_queue_tokens,
                  "threshold: local when every prefill node queues more prefill tokens (-1: off)")->capture_default_str();
  cmd->add_option("--threshold-decode-running", f->threshold_decode_running,
                  "threshold: remote when the decode node runs more requests (-1: off)")->capture_default_str();
  cmd->add_option("--table", p.table_file, "table: the lookup table JSON file (format in docs/architecture.md)");
  cmd->add_option("--table-bypass-tokens", f->table_bypass_tokens, "table: new input below this goes local (-1: off)")
      ->capture_default_str();
}

}  // namespace

void register_router_command(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<RouterFlags>();
  frontend::RouterRuntimeOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand("router", "Run the OpenAI-compatible router in front of prefill and decode nodes");
  cmd->add_option("--model", f->model, "Model directory or preset the nodes serve (tokenizer, chat template, identity)")->required();
  cmd->add_option("--prefill", f->prefill, "Prefill nodes' internal API addresses, comma-separated HOST:PORT")->delimiter(',');
  cmd->add_option("--decode", f->decode, "Decode nodes' internal API addresses, comma-separated HOST:PORT")->delimiter(',')->required();
  cmd->add_option("--host", o.host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", f->port, "Port (0: any free port)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--served-model-name", o.service.served_model_name, "The `model` clients must name (default: the model directory's name)");
  cmd->add_option("--api-key", o.service.api_key, "Require \"Authorization: Bearer KEY\" (default: no authentication)");
  cmd->add_option("--chat-template", o.chat_template, "auto, chatml, llama-2, llama-3 or plain")->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body; larger ones get 413")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-active-requests", o.service.max_active_requests, "Requests in flight before 429")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-waiting-per-node", o.service.max_waiting_per_node, "429 when every decode node queues more")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-attempts", o.service.max_attempts, "Tries per request before its first token")->check(CLI::Range(1, 10))->capture_default_str();
  cmd->add_option("--node-timeout-ms", o.monitor.node_timeout_ms, "A node without a load report for this long is unhealthy")
      ->check(CLI::PositiveNumber)->capture_default_str();
  add_policy_flags(cmd, f.get());
  cmd->callback([f, exit_code] {
    const Status status = run_router(*f);
    if (!status.ok()) std::cerr << "ppd router: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
