// `ppd router`: the OpenAI-compatible front door of a cluster of `ppd node` processes.
// Prints one "ppd router ready ..." line on stdout once it serves, and runs until SIGINT
// or SIGTERM.
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "ppd/cli/commands.h"
#include "ppd/cli/policy_flags.h"
#include "ppd/common/secret.h"
#include "ppd/model/model_source.h"
#include "ppd/router/router_runtime.h"

namespace ppd::cli {
namespace {

struct RouterFlags {
  router::RouterRuntimeOptions options;
  std::string model;
  std::vector<std::string> prefill;
  std::vector<std::string> decode;
  experiment::PolicyFlags policy;
  int port = 8000;
  std::string api_key_file;
  std::string cluster_secret_file;
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
  router::RouterRuntimeOptions& o = f.options;
  PPD_ASSIGN_OR_RETURN(o.model_dir, model::resolve_model_arg(f.model));
  PPD_ASSIGN_OR_RETURN(o.prefill, parse_nodes(f.prefill, "--prefill"));
  PPD_ASSIGN_OR_RETURN(o.decode, parse_nodes(f.decode, "--decode"));
  o.port = static_cast<uint16_t>(f.port);
  o.policy = experiment::resolve_policy_flags(f.policy);
  if (!f.api_key_file.empty()) {
    if (!o.service.api_key.empty()) return invalid_argument("--api-key and --api-key-file: give one, not both");
    PPD_ASSIGN_OR_RETURN(o.service.api_key, read_secret_file(f.api_key_file, "--api-key-file"));
  }
  PPD_ASSIGN_OR_RETURN(o.monitor.cluster_secret, load_cluster_secret(f.cluster_secret_file));
  return Status::Ok();
}

Status run_router(RouterFlags& f) {
  PPD_RETURN_IF_ERROR(resolve(f));
  boost::asio::io_context io;
  SteadyClock clock;
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<router::RouterRuntime> router,
                       router::RouterRuntime::create(f.options, io.get_executor(), &clock));
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

}  // namespace

void register_router_command(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<RouterFlags>();
  router::RouterRuntimeOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand("router", "Run the OpenAI-compatible router in front of prefill and decode nodes");
  cmd->add_option("--model", f->model, "Model directory or preset the nodes serve (tokenizer, chat template, identity)")
      ->required();
  cmd->add_option("--prefill", f->prefill, "Prefill nodes' internal API addresses, comma-separated HOST:PORT")
      ->delimiter(',');
  cmd->add_option("--decode", f->decode, "Decode nodes' internal API addresses, comma-separated HOST:PORT")
      ->delimiter(',')
      ->required();
  cmd->add_option("--host", o.host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", f->port, "Port (0: any free port)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--served-model-name", o.service.served_model_name,
                  "The `model` clients must name (default: the model directory's name)");
  cmd->add_option("--api-key", o.service.api_key,
                  "Require \"Authorization: Bearer KEY\" (default: no authentication); "
                  "`ps` shows it, so prefer --api-key-file");
  cmd->add_option("--api-key-file", f->api_key_file, "File whose first line is the API key (as --api-key)");
  cmd->add_flag("--protect-status", o.service.protect_status,
                "With an API key, /metrics and the node details of /health need it too; /health without the key "
                "says only its status");
  cmd->add_option("--cluster-secret-file", f->cluster_secret_file,
                  "File whose first line is the cluster secret the nodes require (default: $PPD_CLUSTER_SECRET; "
                  "neither: none)");
  cmd->add_option("--chat-template", o.chat_template, "auto, chatml, llama-2, llama-3 or plain")->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body; larger ones get 413")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-active-requests", o.service.max_active_requests, "Requests in flight before 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-waiting-per-node", o.service.max_waiting_per_node, "429 when every decode node queues more")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-attempts", o.service.max_attempts, "Tries per request before its first token")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  cmd->add_option("--prefill-timeout-ms", o.service.prefill_timeout_ms,
                  "Deadline of one /prefill call on a prefill node; it is given up sooner when the node's load "
                  "reports stop")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->capture_default_str();
  cmd->add_option("--first-token-timeout-ms", o.service.first_token_timeout_ms,
                  "A node's stream with no output this long after it started is given up (retried elsewhere if "
                  "the client has seen nothing; else the stream ends with an error)")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->capture_default_str();
  cmd->add_option("--token-timeout-ms", o.service.token_timeout_ms,
                  "A node's stream with no output this long after its previous one is given up the same way")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->capture_default_str();
  cmd->add_option("--stream-timeout-ms", o.service.stream_timeout_ms,
                  "Deadline of one whole /generate or /decode stream")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}))
      ->capture_default_str();
  cmd->add_option("--conversation-store-tokens", o.service.conversation_store_tokens,
                  "Token ids of earlier answers kept for reusing them exactly in later turns (4 bytes each, "
                  "least recently used out first)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32))
      ->capture_default_str();
  cmd->add_option("--prepare-threads", o.service.num_prepare_threads,
                  "Threads that parse, render and tokenize requests, off the event loop that serves and follows "
                  "the nodes")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--node-timeout-ms", o.monitor.node_timeout_ms,
                  "A node without a load report for this long is unhealthy")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_policy_flags(cmd, &f->policy, "--slo");
  cmd->callback([f, exit_code] {
    const Status status = run_router(*f);
    if (!status.ok()) std::cerr << "ppd router: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
