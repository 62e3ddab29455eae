#include "ppd/launch/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ppd::launch {

using Clock = std::chrono::steady_clock;

// The child's stdout as lines, filled by the reader thread and taken by wait_for_line().
struct StdoutQueue {
  static constexpr size_t kMaxQueuedBytes = size_t{1} << 20;  // oldest lines dropped beyond
  static constexpr size_t kMaxLineBytes = size_t{64} << 10;   // longer lines are split

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  size_t queued_bytes = 0;
  std::string partial;  // the bytes after the last '\n'
  bool eof = false;

  void push_line_locked(std::string line) {
    queued_bytes += line.size();
    lines.push_back(std::move(line));
    while (queued_bytes > kMaxQueuedBytes && lines.size() > 1) {
      queued_bytes -= lines.front().size();
      lines.pop_front();
    }
  }

  void append(const char* data, size_t num_bytes) {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < num_bytes; ++i) {
      if (data[i] == '\n') {
        push_line_locked(std::move(partial));
        partial.clear();
      } else {
        partial.push_back(data[i]);
        if (partial.size() >= kMaxLineBytes) push_line_locked(std::exchange(partial, {}));
      }
    }
    cv.notify_all();
  }

  void finish() {
    std::lock_guard lock(mu);
    if (!partial.empty()) push_line_locked(std::exchange(partial, {}));
    eof = true;
    cv.notify_all();
  }

  std::optional<std::string> take_matching_locked(std::string_view prefix) {
    while (!lines.empty()) {
      std::string line = std::move(lines.front());
      lines.pop_front();
      queued_bytes -= line.size();
      if (line.starts_with(prefix)) return line;
    }
    return std::nullopt;
  }

  // Returns the first line starting with `prefix`, or nullopt at EOF or at `until`.
  std::optional<std::string> wait_for(std::string_view prefix, Clock::time_point until) {
    std::unique_lock lock(mu);
    for (;;) {
      if (std::optional<std::string> line = take_matching_locked(prefix)) return line;
      if (eof) return std::nullopt;
      if (cv.wait_until(lock, until) == std::cv_status::timeout) return take_matching_locked(prefix);
    }
  }

  bool at_eof() {
    std::lock_guard lock(mu);
    return eof;
  }
};

namespace {

constexpr auto kPollSlice = std::chrono::milliseconds(50);
constexpr auto kDrainGrace = std::chrono::milliseconds(500);
constexpr int kDeadChildStatus = 255 << 8;  // "exit 255", when someone else reaped the child

// Owns one file descriptor.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Everything the forked child needs, prepared before fork() so that the child only makes
// async-signal-safe calls (the parent may have other threads).
struct ExecPlan {
  std::vector<char*> argv;  // null-terminated
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;  // -1: inherit
  int error_fd = -1;   // the child writes its errno here when it cannot exec
  bool new_process_group = true;
  int parent_death_signal = 0;
  pid_t parent_pid = 0;
};

[[noreturn]] void report_and_exit(int error_fd) {
  const int e = errno;
  [[maybe_unused]] const ssize_t n = ::write(error_fd, &e, sizeof e);
  ::_exit(127);
}

// dup2() that also works when the descriptor already has the target number.
bool move_fd(int fd, int target) {
  if (fd != target) return ::dup2(fd, target) == target;
  const int flags = ::fcntl(fd, F_GETFD);
  return flags >= 0 && ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == 0;
}

void reset_signals() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (const int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(s, &dfl, nullptr);
}

[[noreturn]] void exec_child(const ExecPlan& p) {
  if (p.new_process_group) ::setpgid(0, 0);
  if (p.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, p.parent_death_signal);
    if (::getppid() != p.parent_pid) ::_exit(127);  // the parent died before prctl
  }
  reset_signals();
  if (!move_fd(p.stdin_fd, 0) || !move_fd(p.stdout_fd, 1)) report_and_exit(p.error_fd);
  if (p.stderr_fd >= 0 && !move_fd(p.stderr_fd, 2)) report_and_exit(p.error_fd);
  ::execv(p.argv[0], p.argv.data());
  report_and_exit(p.error_fd);
}

// Waits until the child has exec'ed (its error pipe closes) or failed to (its errno arrives, and
// it is reaped here).
Status await_exec(pid_t pid, int error_fd, const std::string& program) {
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(error_fd, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n != sizeof child_errno) return Status::Ok();
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string message = fmt::format("{}: cannot execute: {}", program, std::strerror(child_errno));
  return Status(child_errno == ENOENT ? StatusCode::kNotFound : StatusCode::kFailedPrecondition, message);
}

// Returns the log opened for appending, or no descriptor for an empty path.
Result<UniqueFd> open_stderr_log(const std::string& path) {
  if (path.empty()) return UniqueFd();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) return unavailable("{}: cannot open for the child's stderr: {}", path, std::strerror(errno));
  return fd;
}

void read_stdout(int stdout_fd, int wake_fd, StdoutQueue* queue) {
  std::vector<char> buf(size_t{64} << 10);
  for (;;) {
    std::array<pollfd, 2> fds = {pollfd{stdout_fd, POLLIN, 0}, pollfd{wake_fd, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;  // the owner is going away
    const ssize_t n = ::read(stdout_fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    queue->append(buf.data(), static_cast<size_t>(n));
  }
  queue->finish();
}

Status make_pipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internal_error("pipe2: {}", std::strerror(errno));
  *read_end = UniqueFd(fds[0]);
  *write_end = UniqueFd(fds[1]);
  return Status::Ok();
}

int exit_code_of(int wait_status) {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 255;
}

std::string join_argv(const std::vector<std::string>& argv) { return fmt::format("{}", fmt::join(argv, " ")); }

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(ChildProcessOptions options) {
  if (options.argv.empty()) return invalid_argument("argv: must not be empty");
  UniqueFd stdin_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (stdin_fd.get() < 0) return internal_error("/dev/null: {}", std::strerror(errno));
  PPD_ASSIGN_OR_RETURN(UniqueFd stderr_fd, open_stderr_log(options.stderr_path));
  UniqueFd out_read, out_write, err_read, err_write, wake_read, wake_write;
  PPD_RETURN_IF_ERROR(make_pipe(&out_read, &out_write));
  PPD_RETURN_IF_ERROR(make_pipe(&err_read, &err_write));
  PPD_RETURN_IF_ERROR(make_pipe(&wake_read, &wake_write));
  ExecPlan plan{.stdin_fd = stdin_fd.get(),
                .stdout_fd = out_write.get(),
                .stderr_fd = stderr_fd.get(),
                .error_fd = err_write.get(),
                .new_process_group = options.new_process_group,
                .parent_death_signal = options.parent_death_signal,
                .parent_pid = ::getpid()};
  for (std::string& arg : options.argv) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return unavailable("fork: {}", std::strerror(errno));
  if (pid == 0) exec_child(plan);
  if (options.new_process_group) ::setpgid(pid, pid);  // also here, so the group exists on return
  err_write.reset();                                   // so that the read below ends at the child's exec
  out_write.reset();                                   // so that the reader sees EOF when the child's stdout closes
  PPD_RETURN_IF_ERROR(await_exec(pid, err_read.get(), options.argv[0]));
  const Fds fds{
      .stdout_read = out_read.release(), .wake_read = wake_read.release(), .wake_write = wake_write.release()};
  return std::unique_ptr<ChildProcess>(new ChildProcess(std::move(options), pid, fds));
}

ChildProcess::ChildProcess(ChildProcessOptions options, pid_t pid, Fds fds)
    : options_(std::move(options)),
      command_(join_argv(options_.argv)),
      pid_(pid),
      fds_(fds),
      queue_(std::make_unique<StdoutQueue>()) {
  reader_ = std::thread(read_stdout, fds_.stdout_read, fds_.wake_read, queue_.get());
}

ChildProcess::~ChildProcess() {
  kill_now();
  ::close(fds_.wake_write);  // wakes the reader even when a grandchild still holds the stdout pipe
  reader_.join();
  ::close(fds_.wake_read);
  ::close(fds_.stdout_read);
}

Result<std::string> ChildProcess::wait_for_line(std::string_view prefix, int64_t timeout_ms) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0));
  for (;;) {
    const Clock::time_point slice_end = std::min(deadline, Clock::now() + kPollSlice);
    if (std::optional<std::string> line = queue_->wait_for(prefix, slice_end)) return *std::move(line);
    if (queue_->at_eof() || poll_exit().has_value()) break;
    if (Clock::now() >= deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("{}: no stdout line starting with \"{}\" within {} ms", command_, prefix, timeout_ms));
    }
  }
  // The child is gone: what it wrote before exiting may still be in the pipe until EOF.
  if (std::optional<std::string> line = queue_->wait_for(prefix, Clock::now() + kDrainGrace)) return *std::move(line);
  return exited_early(prefix);
}

Status ChildProcess::exited_early(std::string_view prefix) {
  // A closed stdout usually means the child is exiting: give it a moment to report its status.
  const Clock::time_point until = Clock::now() + kDrainGrace;
  while (!poll_exit().has_value() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string message =
      wait_status_.has_value()
          ? fmt::format("{}: exited with {} before printing a line starting with \"{}\"", command_, exit_text(), prefix)
          : fmt::format("{}: closed its stdout before printing a line starting with \"{}\"", command_, prefix);
  const std::string tail = stderr_tail(10);
  if (!tail.empty()) message += fmt::format("; last lines of {}:\n{}", options_.stderr_path, tail);
  return unavailable("{}", message);
}

std::optional<int> ChildProcess::poll_exit() {
  if (!wait_status_.has_value()) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) wait_status_ = status;
    if (r < 0 && errno == ECHILD) wait_status_ = kDeadChildStatus;
  }
  if (!wait_status_.has_value()) return std::nullopt;
  return exit_code_of(*wait_status_);
}

std::string ChildProcess::exit_text() const {
  const int status = wait_status_.value_or(kDeadChildStatus);
  if (!WIFSIGNALED(status)) return fmt::format("status {}", exit_code_of(status));
  return fmt::format("status {} (killed by signal {}: {})", exit_code_of(status), WTERMSIG(status),
                     ::strsignal(WTERMSIG(status)));
}

void ChildProcess::signal_child(int signal_number) {
  if (wait_status_.has_value()) return;  // reaped: the pid may belong to someone else now
  if (options_.new_process_group && ::kill(-pid_, signal_number) == 0) return;
  ::kill(pid_, signal_number);
}

void ChildProcess::request_stop() {
  if (stop_requested_) return;
  stop_requested_ = true;
  signal_child(SIGTERM);
}

int ChildProcess::terminate(int64_t grace_ms) {
  if (std::optional<int> code = poll_exit()) return *code;
  request_stop();
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
  while (Clock::now() < deadline) {
    if (std::optional<int> code = poll_exit()) return *code;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(10), deadline - Clock::now()));
  }
  return kill_now();
}

int ChildProcess::kill_now() {
  if (!wait_status_.has_value()) {
    signal_child(SIGKILL);
    int status = 0;
    pid_t r = 0;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    wait_status_ = r == pid_ ? status : kDeadChildStatus;
  }
  return exit_code_of(*wait_status_);
}

std::string ChildProcess::stderr_tail(int num_lines) const {
  if (options_.stderr_path.empty()) return "";
  std::ifstream in(options_.stderr_path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 8192);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.seekg(start);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t begin = text.size();
  for (int i = 0; i < num_lines && begin > 0; ++i) {
    const size_t newline = text.rfind('\n', begin - 1);
    begin = newline == std::string::npos ? 0 : newline;
  }
  return text.substr(begin < text.size() && text[begin] == '\n' ? begin + 1 : begin);
}

Result<std::string> self_binary_path() {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return unavailable("/proc/self/exe: cannot read: {}", ec.message());
  return path.string();
}

std::string self_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string line, arg;
  while (std::getline(in, arg, '\0')) line += (line.empty() ? "" : " ") + arg;
  return line;
}

}  // namespace ppd::launch
