// `ppd up`: a local cluster in one command. Starts the prefill and decode nodes, then the router,
// as child processes running this same binary; prints one "ppd up ready ..." line on stdout and
// runs until SIGINT/SIGTERM, restarting a child that dies; then stops the router, then the nodes.
// Its flags; the running is launch::run_up (launch/up_run.h).
#include <algorithm>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>

#include "ppd/cli/commands.h"
#include "ppd/cli/precision_flags.h"
#include "ppd/launch/up_run.h"

namespace ppd::cli {

void register_up_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<launch::UpOptions>();
  o->num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App* cmd = app.add_subcommand("up",
                                     "Start a local cluster (prefill nodes, decode nodes, router) as child "
                                     "processes; Ctrl-C stops all of it");
  cmd->add_option("--model", o->model, "Model directory (HF layout) or preset: tiny, small, medium")
      ->capture_default_str();
  cmd->add_option("--prefill", o->num_prefill, "Prefill nodes")->check(CLI::Range(0, 256))->capture_default_str();
  cmd->add_option("--decode", o->num_decode, "Decode nodes")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--policy", o->policy, "Router policy (checked by the router)")->capture_default_str();
  cmd->add_option("--host", o->host, "Address the router binds to (the public side)")->capture_default_str();
  cmd->add_option("--node-host", o->node_host, "Address the nodes bind to (the internal side; keep it private)")
      ->capture_default_str();
  cmd->add_option("--port", o->port, "Router HTTP port (0: any free port); nodes take free ports")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", o->num_threads,
                  "Compute threads for all nodes together; each node gets "
                  "max(1, threads / nodes)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--kv-cache-mib", o->kv_cache_mib, "KV block pool size per node in MiB")
      ->check(CLI::Range(1, 1 << 22))
      ->capture_default_str();
  cmd->add_option("--block-size", o->block_size, "Tokens per KV block")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  add_precision_flags(cmd, {&o->dtype, &o->quantize, &o->kv_dtype});
  cmd->add_option("--link-bytes-per-s", o->link_bytes_per_s,
                  "Decode nodes: emulate a KV link of this bandwidth (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency-us", o->link_latency_us, "Decode nodes: latency added per KV pull (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--api-key", o->api_key,
                  "API key the router requires (empty: none); handed to the router in a "
                  "private file under --log-dir, never on its command line")
      ->capture_default_str();
  cmd->add_option("--api-key-file", o->api_key_file, "File whose first line is the API key (instead of --api-key)");
  cmd->add_option("--cluster-secret-file", o->cluster_secret_file,
                  "File whose first line is the cluster secret every node and the router share (default: "
                  "$PPD_CLUSTER_SECRET, or a new random one handed to the children in their environment)");
  cmd->add_option("--router-flags", o->router_flags, "Extra flags for the router, split on whitespace")
      ->capture_default_str();
  cmd->add_option("--node-flags", o->node_flags, "Extra flags for every node, split on whitespace")
      ->capture_default_str();
  cmd->add_option("--log-dir", o->log_dir,
                  "Directory of the children's stderr logs, <name>.log each "
                  "(empty: a new ppd-up-XXXXXX under $TMPDIR or /tmp)")
      ->capture_default_str();
  cmd->add_option("--startup-timeout-ms", o->startup_timeout_ms, "Time for the nodes, then the router, to be ready")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("!--no-restart", o->restart,
                "Do not restart a child that exits unexpectedly (by default it is restarted on its ports after "
                "1 s, doubling to 30 s while it keeps dying); a dead node is then left out, a dead router stops "
                "the cluster");
  cmd->callback([o, exit_code] { *exit_code = launch::run_up(*o); });
}

}  // namespace ppd::cli
