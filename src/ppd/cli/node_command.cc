// `ppd node`: one serving node (prefill, decode or mixed) as its own process. Prints one
// "ppd node ready ..." line with both bound addresses on stdout once it serves, and runs
// until SIGINT or SIGTERM.
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "ppd/cli/commands.h"
#include "ppd/cli/precision_flags.h"
#include "ppd/common/secret.h"
#include "ppd/model/model_source.h"
#include "ppd/node/node_runtime.h"

namespace ppd::cli {
namespace {

struct NodeFlags {
  node::NodeRuntimeOptions options;
  std::string role = "mixed";
  std::string model;
  int64_t kv_cache_mib = 1024;
  double link_bytes_per_s = 0;
  int64_t link_latency_us = 0;
  int http_port = 0;
  int kv_port = 0;
  std::string cluster_secret_file;
};

Status run_node(NodeFlags& f) {
  node::NodeRuntimeOptions& o = f.options;
  PPD_ASSIGN_OR_RETURN(o.service.role, node::parse_node_role(f.role));
  PPD_ASSIGN_OR_RETURN(o.model_dir, model::resolve_model_arg(f.model));
  PPD_ASSIGN_OR_RETURN(o.cluster_secret, load_cluster_secret(f.cluster_secret_file));
  o.engine.kv_cache_bytes = f.kv_cache_mib << 20;
  o.http_port = static_cast<uint16_t>(f.http_port);
  o.kv_port = static_cast<uint16_t>(f.kv_port);
  if (f.link_bytes_per_s > 0) {
    o.link = transfer::EmulatedLinkOptions{.bandwidth_bytes_per_s = f.link_bytes_per_s,
                                           .latency_ns = f.link_latency_us * 1000};
  }
  boost::asio::io_context io;
  SteadyClock clock;
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<node::NodeRuntime> runtime,
                       node::NodeRuntime::create(o, io.get_executor(), &clock));
  std::cout << "ppd node ready name=" << o.service.name << " role=" << f.role << " http=" << o.host << ":"
            << runtime->http_port() << " kv=" << runtime->service().options().kv_address << std::endl;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    runtime->stop();
    io.stop();
  });
  io.run();
  return Status::Ok();
}

}  // namespace

void register_node_command(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<NodeFlags>();
  node::NodeRuntimeOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand("node", "Run one serving node: prefill, decode (prefill-capable) or mixed");
  cmd->add_option("--role", f->role,
                  "prefill: computes prompts and pins their KV for decode nodes; decode: decodes, "
                  "pulling KV from prefill nodes or append-prefilling locally; mixed: both")
      ->check(CLI::IsMember({"prefill", "decode", "mixed"}))
      ->capture_default_str();
  cmd->add_option("--model", f->model, "Model directory (HF layout) or preset: tiny, small, medium")->required();
  cmd->add_option("--name", o.service.name, "Node name, in handles, events and logs")->capture_default_str();
  cmd->add_option("--host", o.host, "Address both servers bind to")->capture_default_str();
  cmd->add_option("--port", f->http_port, "HTTP port of the internal API (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--kv-port", f->kv_port, "TCP port of the KV transfer server (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", o.engine.num_threads, "Compute threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--kernels", o.engine.kernels, "Kernel path: auto, scalar or avx2")->capture_default_str();
  add_precision_flags(cmd, {&o.engine.dtype, &o.engine.quantize, &o.engine.kv_dtype});
  cmd->add_option("--kv-cache-mib", f->kv_cache_mib, "KV block pool size in MiB")
      ->check(CLI::Range(1, 1 << 22))
      ->capture_default_str();
  cmd->add_option("--block-size", o.engine.block_size, "Tokens per KV block")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-model-len", o.engine.max_model_len, "Cap on prompt + output tokens (0: the model's)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-num-batched-tokens", o.engine.scheduler.max_num_batched_tokens, "Tokens per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-prefill-tokens", o.engine.scheduler.max_prefill_tokens, "Prefill tokens per step (chunk size)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--pin-timeout-ms", o.service.pin_timeout_ms,
                  "Prefill node: unpin a handle no decode node released by then")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--transfer-timeout-ms", o.service.transfer_timeout_ms, "Decode node: deadline of one KV pull")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--link-bytes-per-s", f->link_bytes_per_s,
                  "Emulate a link of this bandwidth for this node's KV pulls, "
                  "shared per prefill node (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency-us", f->link_latency_us, "With --link-bytes-per-s: latency added per pull")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-pinned-fraction", o.service.max_pinned_fraction,
                  "Prefill node: refuse new prefills (429; the router then prefills locally) while handles pin more "
                  "than this share of the KV pool")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  cmd->add_option("--cluster-secret-file", f->cluster_secret_file,
                  "File whose first line is the cluster secret; every endpoint and KV connection then requires it, "
                  "and this node's KV pulls present it (default: $PPD_CLUSTER_SECRET; neither: open, for one "
                  "machine)");
  cmd->add_option("--load-report-ms", o.load_report_ms, "Period of load reports on /events")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Largest internal API request body, in bytes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([f, exit_code] {
    const Status status = run_node(*f);
    if (!status.ok()) std::cerr << "ppd node: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
