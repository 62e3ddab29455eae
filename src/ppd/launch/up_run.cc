// Running `ppd up`: starts the prefill and decode nodes, then the router, as child processes of
// this same binary; prints one "ppd up ready ..." line on stdout and runs until SIGINT/SIGTERM,
// restarting a child that dies (up_cluster.h); then stops the router, then the nodes.
// SIGINT and SIGTERM are blocked in every thread (before any exists) and taken with
// sigtimedwait(), so no handler runs; the children start with an empty signal mask.
#include "ppd/launch/up_run.h"

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

#include "ppd/common/secret.h"
#include "ppd/launch/child_process.h"
#include "ppd/launch/log_dir.h"
#include "ppd/launch/up_cluster.h"
#include "ppd/launch/up_plan.h"
#include "ppd/model/model_source.h"

namespace ppd::launch {
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

// A child's ready line and the http= address in it.
struct Ready {
  std::string line;
  std::string http;
};

// Waits for m's ready line. CANCELLED on SIGINT/SIGTERM.
Result<Ready> wait_ready(UpCluster& cluster, UpMember& m, Clock::time_point deadline, int64_t timeout_ms) {
  for (;;) {
    if (take_stop_signal(0) != 0) return Status(StatusCode::kCancelled, "interrupted while starting");
    const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left_ms <= 0) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("{}: not ready within {} ms (--startup-timeout-ms); see {}", m.plan.name, timeout_ms,
                                m.log_path));
    }
    Result<std::string> line = m.process->wait_for_line(m.ready_prefix, std::min(left_ms, kPollMs));
    if (line.ok()) {
      PPD_ASSIGN_OR_RETURN(std::string http, ready_line_value(*line, "http"));
      cluster.mark_ready(m, *line);
      progress(fmt::format("{} ready at http://{}", m.plan.name, http));
      return Ready{*std::move(line), std::move(http)};
    }
    if (line.status().code() != StatusCode::kDeadlineExceeded) return line.status().with_context(m.plan.name);
  }
}

// Starts the nodes, waits for all of them, then starts the router and returns its ready line.
Result<Ready> start_nodes_then_router(const UpOptions& o, const std::string& model_dir, UpCluster* cluster) {
  PPD_ASSIGN_OR_RETURN(const std::string binary, self_binary_path());
  for (ChildPlan& plan : plan_nodes(o, binary, model_dir)) {
    PPD_RETURN_IF_ERROR(cluster->start(std::move(plan), "ppd node ready"));
  }
  const auto timeout = std::chrono::milliseconds(o.startup_timeout_ms);
  const Clock::time_point nodes_deadline = Clock::now() + timeout;
  RouterTargets targets;
  for (UpMember& m : cluster->members()) {
    PPD_ASSIGN_OR_RETURN(Ready ready, wait_ready(*cluster, m, nodes_deadline, o.startup_timeout_ms));
    (m.plan.role == ChildRole::kPrefill ? targets.prefill : targets.decode).push_back(std::move(ready.http));
  }
  PPD_RETURN_IF_ERROR(cluster->start(plan_router(o, binary, model_dir, targets), "ppd router ready"));
  return wait_ready(*cluster, cluster->members().back(), Clock::now() + timeout, o.startup_timeout_ms);
}

void announce(const UpOptions& o, const Ready& router, const std::string& log_dir) {
  std::cout << fmt::format("ppd up ready http={} policy={} prefill={} decode={} logs={}", router.http, o.policy,
                           o.num_prefill, o.num_decode, log_dir)
            << std::endl;
  // The router names the model clients must ask for in its ready line.
  const Result<std::string> model = ready_line_value(router.line, "model");
  const std::string model_field = model.ok() ? fmt::format("\"model\": \"{}\", ", *model) : "";
  const std::string auth =
      o.api_key_file.empty() ? "" : fmt::format(" -H \"Authorization: Bearer $(cat {})\"", o.api_key_file);
  progress(
      fmt::format("try: curl http://{}/v1/chat/completions -H 'Content-Type: application/json'{} "
                  "-d '{{{}\"messages\": [{{\"role\": \"user\", \"content\": \"Tell me a story.\"}}], "
                  "\"max_tokens\": 32}}'",
                  router.http, auth, model_field));
  progress("Ctrl-C stops the cluster");
}

// Runs until a stop signal (returns 0) or until the cluster cannot serve on (returns 1).
int supervise(UpCluster& cluster) {
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
Status prepare_secrets(UpOptions& o, const std::string& log_dir) {
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

}  // namespace

int run_up(UpOptions o) {
  // Before any thread exists, so that every thread inherits the mask.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const Result<std::string> model_dir = model::resolve_model_arg(o.model);  // a preset is synthesized here, once
  if (!model_dir.ok()) {
    progress(model_dir.status().message());
    return 1;
  }
  const Result<std::string> log_dir = make_log_dir(o.log_dir, "ppd-up");
  if (!log_dir.ok()) {
    progress(log_dir.status().message());
    return 1;
  }
  if (const Status s = prepare_secrets(o, *log_dir); !s.ok()) {
    progress(s.message());
    return 1;
  }
  UpCluster cluster(*log_dir, o.startup_timeout_ms, o.restart, progress);
  const Result<Ready> router = start_nodes_then_router(o, *model_dir, &cluster);
  if (!router.ok()) {
    const bool interrupted = router.status().code() == StatusCode::kCancelled;
    progress(interrupted ? "interrupted; stopping" : router.status().message());
    return interrupted ? 0 : 1;
  }
  announce(o, *router, *log_dir);
  return supervise(cluster);  // the cluster stops on the way out
}

}  // namespace ppd::launch
