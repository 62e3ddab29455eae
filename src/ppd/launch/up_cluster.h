// The children of `ppd up` and their supervision. A child that exits unexpectedly is reported and,
// unless restarts are off, started again after restart_delay_ms() on the ports its first start
// bound, so the router (or, for the router, its clients) find it where it was; meanwhile the
// rest of the cluster serves on. The backoff starts over once a child has been ready for a minute.
// Without restarts a dead node stays dead and the cluster serves on without it; a dead router
// stops the cluster. Not thread-safe: the thread of `ppd up` owns it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/launch/child_process.h"
#include "ppd/launch/up_plan.h"

namespace ppd::launch {

// One child: its plan, its log and its state.
struct UpMember {
  using Clock = std::chrono::steady_clock;
  enum class State { kStarting, kReady, kWaiting, kGone };

  ChildPlan plan;
  std::string log_path;
  std::string ready_prefix;               // "ppd node ready" or "ppd router ready"
  std::unique_ptr<ChildProcess> process;  // nullptr while waiting to restart or gone
  State state = State::kStarting;
  bool ports_pinned = false;  // plan.argv names the ports of the first start
  int restarts = 0;           // restarts since the child was last ready for a minute
  Clock::time_point since;    // when it became ready; when it was spawned while starting
  Clock::time_point restart_at;
};

class UpCluster {
 public:
  using Clock = UpMember::Clock;
  using Progress = std::function<void(const std::string&)>;

  UpCluster(std::string log_dir, int64_t startup_timeout_ms, bool restart, Progress progress);
  UpCluster(const UpCluster&) = delete;
  UpCluster& operator=(const UpCluster&) = delete;
  ~UpCluster() { stop(); }

  // Spawns a child (it is kStarting until mark_ready()).
  Status start(ChildPlan plan, std::string ready_prefix);
  std::vector<UpMember>& members() { return members_; }
  // Records that `m` printed `ready_line`: pins its ports for restarts.
  void mark_ready(UpMember& m, std::string_view ready_line);

  // One round of supervision: reaps exited children, restarts those due, takes ready lines.
  // Returns false when the cluster cannot serve on (the router died and is not restarted).
  bool supervise_once();

  // Stops the router, then all nodes at once, each within the stop grace.
  void stop();

 private:
  void on_exit(UpMember& m, const std::string& why);
  void respawn(UpMember& m);
  void check_starting(UpMember& m);
  void stop_member(UpMember& m, Clock::time_point deadline);

  std::string log_dir_;
  int64_t startup_timeout_ms_;
  bool restart_;
  Progress progress_;
  std::vector<UpMember> members_;
  bool router_lost_ = false;
};

}  // namespace ppd::launch
