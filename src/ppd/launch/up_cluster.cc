#include "ppd/launch/up_cluster.h"

#include <algorithm>
#include <csignal>
#include <filesystem>

#include <fmt/format.h>

namespace ppd::launch {
namespace {

using Clock = UpMember::Clock;

constexpr int64_t kStopGraceMs = 5000;
constexpr auto kHealthyFor = std::chrono::seconds(60);  // ready this long: the backoff starts over

int64_t ms_until(Clock::time_point t) {
  return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count());
}

}  // namespace

UpCluster::UpCluster(std::string log_dir, int64_t startup_timeout_ms, bool restart, Progress progress)
    : log_dir_(std::move(log_dir)),
      startup_timeout_ms_(startup_timeout_ms),
      restart_(restart),
      progress_(std::move(progress)) {}

Status UpCluster::start(ChildPlan plan, std::string ready_prefix) {
  const std::string log_path = (std::filesystem::path(log_dir_) / (plan.name + ".log")).string();
  progress_(fmt::format("starting {} (log {})", plan.name, log_path));
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> process,
                       ChildProcess::spawn({.argv = plan.argv, .stderr_path = log_path}));
  members_.push_back({.plan = std::move(plan),
                      .log_path = log_path,
                      .ready_prefix = std::move(ready_prefix),
                      .process = std::move(process),
                      .since = Clock::now()});
  return Status::Ok();
}

void UpCluster::mark_ready(UpMember& m, std::string_view ready_line) {
  m.state = UpMember::State::kReady;
  m.since = Clock::now();
  if (m.ports_pinned) return;
  Result<ChildPlan> pinned = pin_ports(m.plan, ready_line);
  if (pinned.ok()) {
    m.plan = *std::move(pinned);
    m.ports_pinned = true;
  }
}

bool UpCluster::supervise_once() {
  for (UpMember& m : members_) {
    switch (m.state) {
      case UpMember::State::kReady:
        if (const std::optional<int> status = m.process->poll_exit()) {
          on_exit(m, fmt::format("exited unexpectedly ({})", m.process->exit_text()));
        } else if (m.restarts > 0 && Clock::now() - m.since >= kHealthyFor) {
          m.restarts = 0;
        }
        break;
      case UpMember::State::kStarting:
        check_starting(m);
        break;
      case UpMember::State::kWaiting:
        if (Clock::now() >= m.restart_at) respawn(m);
        break;
      case UpMember::State::kGone:
        break;
    }
  }
  return !router_lost_;
}

void UpCluster::on_exit(UpMember& m, const std::string& why) {
  if (m.process != nullptr) m.process->kill_now();
  m.process.reset();
  const bool router = m.plan.role == ChildRole::kRouter;
  if (!restart_) {
    m.state = UpMember::State::kGone;
    router_lost_ = router_lost_ || router;
    progress_(fmt::format("{} {}; not restarting it (--no-restart); {}; see {}", m.plan.name, why,
                          router ? "stopping" : "the cluster serves on without it", m.log_path));
    return;
  }
  ++m.restarts;
  const int64_t delay_ms = restart_delay_ms(m.restarts);
  m.state = UpMember::State::kWaiting;
  m.restart_at = Clock::now() + std::chrono::milliseconds(delay_ms);
  progress_(fmt::format("{} {}; {}; restarting it in {} ms (restart {}); see {}", m.plan.name, why,
                        router ? "clients are refused until then" : "the cluster serves on without it", delay_ms,
                        m.restarts, m.log_path));
}

void UpCluster::respawn(UpMember& m) {
  Result<std::unique_ptr<ChildProcess>> process = ChildProcess::spawn({.argv = m.plan.argv, .stderr_path = m.log_path});
  if (!process.ok()) {
    on_exit(m, fmt::format("could not be started: {}", process.status().message()));
    return;
  }
  m.process = std::move(*process);
  m.state = UpMember::State::kStarting;
  m.since = Clock::now();
}

void UpCluster::check_starting(UpMember& m) {
  const Result<std::string> line = m.process->wait_for_line(m.ready_prefix, 0);
  if (line.ok()) {
    mark_ready(m, *line);
    const Result<std::string> http = ready_line_value(*line, "http");
    progress_(fmt::format("{} ready again at http://{}", m.plan.name, http.ok() ? *http : "?"));
    return;
  }
  if (line.status().code() != StatusCode::kDeadlineExceeded) {
    on_exit(m, fmt::format("exited while starting ({})", line.status().message()));
  } else if (Clock::now() - m.since >= std::chrono::milliseconds(startup_timeout_ms_)) {
    on_exit(m, fmt::format("was not ready within {} ms (--startup-timeout-ms)", startup_timeout_ms_));
  }
}

void UpCluster::stop() {
  if (members_.empty()) return;
  const Clock::time_point router_deadline = Clock::now() + std::chrono::milliseconds(kStopGraceMs);
  for (UpMember& m : members_) {
    if (m.plan.role == ChildRole::kRouter) stop_member(m, router_deadline);
  }
  for (UpMember& m : members_) {
    if (m.process != nullptr) m.process->request_stop();
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kStopGraceMs);
  for (UpMember& m : members_) stop_member(m, deadline);
  members_.clear();
  progress_("stopped");
}

void UpCluster::stop_member(UpMember& m, Clock::time_point deadline) {
  if (m.process == nullptr) return;
  const bool was_running = !m.process->poll_exit().has_value();
  const int status = m.process->terminate(ms_until(deadline));
  // A child that exits 0, or dies of the SIGTERM itself (before it could handle it), stopped as asked.
  if (was_running && status != 0 && status != 128 + SIGTERM) {
    progress_(fmt::format("{} stopped with {}; see {}", m.plan.name, m.process->exit_text(), m.log_path));
  }
  m.process.reset();
}

}  // namespace ppd::launch
