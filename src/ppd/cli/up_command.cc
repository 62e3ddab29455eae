// `ppd up`: a local cluster in one command. Starts the prefill and decode nodes, then the router,
// as child processes running this same binary; prints one "ppd up ready ..." line on stdout and
// runs until SIGINT/SIGTERM, restarting a child that dies (up_cluster.h); then stops the router,
// then the nodes.
// SIGINT and SIGTERM are blocked in every thread (before any exists) and taken with
// sigtimedwait(), so no handler runs; the children start with an empty signal mask.
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "ppd/launch/child_process.h"
#include "ppd/cli/commands.h"
#include "ppd/model/model_source.h"
#include "ppd/launch/up_cluster.h"
#include "ppd/launch/up_plan.h"
#include "ppd/common/secret.h"

namespace ppd::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kPollMs = 200;

void progress(const std::string& line) { std::cerr << "ppd up: " << line << std::endl; }

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Returns SIGINT or SIGTERM once one is pending, else 0 after timeout_ms.
int take_stop_signal(int64_t timeout_ms) {
  const sigset_t set = stop_signals();
  const timespec timeout{.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1'000'000};
  const int signal_number = sigtimedwait(&set, nullptr, &timeout);
  return signal_number > 0 ? signal_number : 0;
}

// Creates (or truncates) `path` readable and writable by this user only, and writes `text`.
Status write_private_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot write {}: {}", path, std::strerror(errno));
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return unavailable("cannot write {}: {}", path, std::strerror(errno));
  return Status::Ok();
}

Result<std::string> make_log_dir(const std::string& log_dir) {
  if (log_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = fmt::format("{}/ppd-up-XXXXXX", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
    if (::mkdtemp(path.data()) == nullptr) {
      return unavailable("log-dir: cannot create {}: {}", path, std::strerror(errno));
    }
    return path;
  }
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) return unavailable("log-dir: cannot create {}: {}", log_dir, ec.message());
  return log_dir;
}

// A child's ready line and the http= address in it.
struct Ready {
  std::string line;
  std::string http;
};

// Waits for m's ready line. CANCELLED on SIGINT/SIGTERM.
Result<Ready> wait_ready(launch::UpCluster& cluster, launch::UpMember& m, Clock::time_point deadline, int64_t timeout_ms) {
  for (;;) {
    if (take_stop_signal(0) != 0) return Status(StatusCode::kCancelled, "interrupted while starting");
    const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left_ms <= 0) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("{}: not ready within {} ms (--startup-timeout-ms); see {}", m.plan.name,
                                timeout_ms, m.log_path));
    }
    Result<std::string> line = m.process->wait_for_line(m.ready_prefix, std::min(left_ms, kPollMs));
    if (line.ok()) {
      PPD_ASSIGN_OR_RETURN(std::string http, launch::ready_line_value(*line, "http"));
      cluster.mark_ready(m, *line);
      progress(fmt::format("{} ready at http://{}", m.plan.name, http));
      return Ready{*std::move(line), std::move(http)};
    }
    if (line.status().code() != StatusCode::kDeadlineExceeded) return line.status().with_context(m.plan.name);
  }
}

// Starts the nodes, waits for all of them, then starts the router and returns its ready line.
Result<Ready> start_cluster(const launch::UpOptions& o, const std::string& model_dir, launch::UpCluster* cluster) {
  PPD_ASSIGN_OR_RETURN(const std::string binary, launch::self_binary_path());
  for (launch::ChildPlan& plan : launch::plan_nodes(o, binary, model_dir)) {
    PPD_RETURN_IF_ERROR(cluster->start(std::move(plan), "ppd node ready"));
  }
  const auto timeout = std::chrono::milliseconds(o.startup_timeout_ms);
  const Clock::time_point nodes_deadline = Clock::now() + timeout;
  launch::RouterTargets targets;
  for (launch::UpMember& m : cluster->members()) {
    PPD_ASSIGN_OR_RETURN(Ready ready, wait_ready(*cluster, m, nodes_deadline, o.startup_timeout_ms));
    (m.plan.role == launch::ChildRole::kPrefill ? targets.prefill : targets.decode).push_back(std::move(ready.http));
  }
  PPD_RETURN_IF_ERROR(cluster->start(launch::plan_router(o, binary, model_dir, targets), "ppd router ready"));
  return wait_ready(*cluster, cluster->members().back(), Clock::now() + timeout, o.startup_timeout_ms);
}

void announce(const launch::UpOptions& o, const Ready& router, const std::string& log_dir) {
  std::cout << fmt::format("ppd up ready http={} policy={} prefill={} decode={} logs={}", router.http, o.policy,
                           o.num_prefill, o.num_decode, log_dir)
            << std::endl;
  // The router names the model clients must ask for in its ready line.
  const Result<std::string> model = launch::ready_line_value(router.line, "model");
  const std::string model_field = model.ok() ? fmt::format("\"model\": \"{}\", ", *model) : "";
  const std::string auth =
      o.api_key_file.empty() ? "" : fmt::format(" -H \"Authorization: Bearer $(cat {})\"", o.api_key_file);
  progress(fmt::format("try: curl http://{}/v1/chat/completions -H 'Content-Type: application/json'{} "
                       "-d '{{{}\"messages\": [{{\"role\": \"user\", \"content\": \"Tell me a story.\"}}], "
                       "\"max_tokens\": 32}}'",
                       router.http, auth, model_field));
  progress("Ctrl-C stops the cluster");
}

// Runs until a stop signal (returns 0) or until the cluster cannot serve on (returns 1).
int supervise(launch::UpCluster& cluster) {
  for (;;) {
    if (const int signal_number = take_stop_signal(kPollMs); signal_number != 0) {
      progress(fmt::format("got {}; stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM"));
      return 0;
    }
    if (!cluster.supervise_once()) return 1;
  }
}

// Keeps secrets off every command line: an --api-key goes into a file only this user can read
// (the router gets --api-key-file), and without a --cluster-secret-file the children share a
// secret through $PPD_CLUSTER_SECRET, generated here unless already set.
Status prepare_secrets(launch::UpOptions& o, const std::string& log_dir) {
  if (!o.api_key.empty()) {
    if (!o.api_key_file.empty()) return invalid_argument("--api-key and --api-key-file: give one, not both");
    o.api_key_file = (std::filesystem::path(log_dir) / "api-key").string();
    PPD_RETURN_IF_ERROR(write_private_file(o.api_key_file, o.api_key + "\n"));
    o.api_key.clear();
  }
  if (o.cluster_secret_file.empty()) {
    PPD_ASSIGN_OR_RETURN(const std::string inherited, load_cluster_secret(""));
    if (inherited.empty()) ::setenv(std::string(kClusterSecretEnv).c_str(), generate_secret().c_str(), 1);
    progress(inherited.empty() ? "cluster secret: a new one, in the children's environment (PPD_CLUSTER_SECRET)"
                               : "cluster secret: PPD_CLUSTER_SECRET from this environment");
  }
  return Status::Ok();
}

int run_up(launch::UpOptions o) {
  // Before any thread exists, so that every thread inherits the mask.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const Result<std::string> model_dir = model::resolve_model_arg(o.model);  // a preset is synthesized here, once
  if (!model_dir.ok()) {
    progress(model_dir.status().message());
    return 1;
  }
  const Result<std::string> log_dir = make_log_dir(o.log_dir);
  if (!log_dir.ok()) {
    progress(log_dir.status().message());
    return 1;
  }
  if (const Status s = prepare_secrets(o, *log_dir); !s.ok()) {
    progress(s.message());
    return 1;
  }
  launch::UpCluster cluster(*log_dir, o.startup_timeout_ms, o.restart, progress);
  const Result<Ready> router = start_cluster(o, *model_dir, &cluster);
  if (!router.ok()) {
    const bool interrupted = router.status().code() == StatusCode::kCancelled;
    progress(interrupted ? "interrupted; stopping" : router.status().message());
    return interrupted ? 0 : 1;
  }
  announce(o, *router, *log_dir);
  return supervise(cluster);  // the cluster stops on the way out
}

}  // namespace

void register_up_command(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<launch::UpOptions>();
  o->num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App* cmd = app.add_subcommand("up", "Start a local cluster (prefill nodes, decode nodes, router) as child "
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
      ->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--threads", o->num_threads, "Compute threads for all nodes together; each node gets "
                                               "max(1, threads / nodes)")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--kv-cache-mib", o->kv_cache_mib, "KV block pool size per node in MiB")
      ->check(CLI::Range(1, 1 << 22))->capture_default_str();
  cmd->add_option("--block-size", o->block_size, "Tokens per KV block")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--link-bytes-per-s", o->link_bytes_per_s,
                  "Decode nodes: emulate a KV link of this bandwidth (0: off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--link-latency-us", o->link_latency_us, "Decode nodes: latency added per KV pull (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--api-key", o->api_key, "API key the router requires (empty: none); handed to the router in a "
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
  cmd->add_option("--log-dir", o->log_dir, "Directory of the children's stderr logs, <name>.log each "
                                           "(empty: a new ppd-up-XXXXXX under $TMPDIR or /tmp)")
      ->capture_default_str();
  cmd->add_option("--startup-timeout-ms", o->startup_timeout_ms, "Time for the nodes, then the router, to be ready")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("!--no-restart", o->restart,
                "Do not restart a child that exits unexpectedly (by default it is restarted on its ports after "
                "1 s, doubling to 30 s while it keeps dying); a dead node is then left out, a dead router stops "
                "the cluster");
  cmd->callback([o, exit_code] { *exit_code = run_up(*o); });
}

}  // namespace ppd::cli
