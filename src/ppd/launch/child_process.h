// ChildProcess: one POSIX child (fork + exec) with stdout piped to the parent, stderr appended to
// a log file (or inherited) and stdin from /dev/null. Design: a reader thread owned by the object
// drains the pipe from spawn to destruction into a line queue (oldest lines dropped past 1 MiB), so
// the child never blocks on a full pipe nor dies of SIGPIPE; wait_for_line() takes from that queue.
// Invariant: the child is reaped exactly once, and at the latest by the destructor (SIGKILL first).
// Not thread-safe: one thread owns the object; the reader thread shares only the locked queue.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::launch {

struct ChildProcessOptions {
  // argv[0] is the program's path, executed as is (no PATH search). REQUIRES: non-empty.
  std::vector<std::string> argv;
  // "": the child inherits the parent's stderr; else the file is created if missing and appended to.
  std::string stderr_path;
  // A group of its own: a terminal's Ctrl-C reaches only the parent, which stops the child in its
  // own time, and the stop signals also reach whatever the child started itself.
  bool new_process_group = true;
  // Sent to the child when the thread that spawned it exits, e.g. when the parent is SIGKILLed
  // (Linux PR_SET_PDEATHSIG); 0: none.
  int parent_death_signal = SIGTERM;
};

struct StdoutQueue;

class ChildProcess {
 public:
  // Starts the child. Returns NOT_FOUND / FAILED_PRECONDITION naming the program when it cannot be
  // executed, UNAVAILABLE naming the log file when that cannot be opened.
  static Result<std::unique_ptr<ChildProcess>> spawn(ChildProcessOptions options);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILLs and reaps a child still running; stops the reader thread

  pid_t pid() const { return pid_; }
  const std::string& command() const { return command_; }  // argv joined by spaces
  const std::string& stderr_path() const { return options_.stderr_path; }

  // Takes the child's stdout lines (without '\n') until one starts with `prefix` and returns it;
  // the lines before it are consumed. DEADLINE_EXCEEDED naming the command and the timeout;
  // UNAVAILABLE with the exit status (and the stderr log's last lines) when the child exits or
  // closes its stdout first. Mutates: consumes lines, may reap the child.
  Result<std::string> wait_for_line(std::string_view prefix, int64_t timeout_ms);

  // Non-blocking: the exit status once the child has exited (reaping it), else nullopt. The
  // status is the exit code, or 128 + the signal number when a signal killed it (as shells say).
  std::optional<int> poll_exit();
  // "status 3", or "status 137 (killed by signal 9: Killed)". REQUIRES: poll_exit() has a value.
  std::string exit_text() const;

  // Sends SIGTERM once (later calls do nothing); returns at once.
  void request_stop();
  // SIGTERM, up to grace_ms for the child to exit, then SIGKILL; reaps. Returns the exit status.
  int terminate(int64_t grace_ms);
  // SIGKILL (unless already exited) and reap. Returns the exit status.
  int kill_now();

  // The last `num_lines` lines of the stderr log ("" without a log file).
  std::string stderr_tail(int num_lines) const;

 private:
  struct Fds {
    int stdout_read = -1;  // read end of the child's stdout pipe
    int wake_read = -1;    // the reader thread stops when wake_write is closed
    int wake_write = -1;
  };
  ChildProcess(ChildProcessOptions options, pid_t pid, Fds fds);
  void signal_child(int signal_number);
  Status exited_early(std::string_view prefix);

  ChildProcessOptions options_;
  std::string command_;
  pid_t pid_ = -1;
  std::optional<int> wait_status_;  // raw waitpid() status once reaped
  bool stop_requested_ = false;
  Fds fds_;
  std::unique_ptr<StdoutQueue> queue_;  // shared with the reader thread, which ends first
  std::thread reader_;
};

// The path of the running executable (/proc/self/exe), to start children running this binary.
Result<std::string> self_binary_path();

// The running process's command line (/proc/self/cmdline), arguments joined by spaces.
std::string self_command_line();

}  // namespace ppd::launch
