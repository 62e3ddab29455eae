#include "ppd/launch/child_process.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

namespace ppd::launch {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<ChildProcess> spawn_sh(const std::string& script, const std::string& stderr_path = "") {
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::spawn({.argv = {"/bin/sh", "-c", script}, .stderr_path = stderr_path});
  EXPECT_TRUE(child.ok()) << child.status().to_string();
  return child.ok() ? std::move(child).value() : nullptr;
}

int64_t elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Polls poll_exit() for up to timeout_ms.
std::optional<int> wait_exit(ChildProcess& child, int64_t timeout_ms) {
  const Clock::time_point start = Clock::now();
  while (elapsed_ms(start) < timeout_ms) {
    if (std::optional<int> status = child.poll_exit()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

// True while `pid` runs (a zombie no longer does: a container's init may never reap it).
bool running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

int count_open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

class ChildProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "ppd-child-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string log_path() const { return (dir_ / "child.log").string(); }

  std::filesystem::path dir_;
};

TEST_F(ChildProcessTest, ReturnsTheFirstLineWithThePrefix) {
  auto child = spawn_sh("echo starting; echo 'ppd node ready http=127.0.0.1:4000'; echo after; exec sleep 30");
  ASSERT_NE(child, nullptr);
  Result<std::string> line = child->wait_for_line("ppd node ready", 10'000);
  ASSERT_TRUE(line.ok()) << line.status().to_string();
  EXPECT_EQ(*line, "ppd node ready http=127.0.0.1:4000");
  EXPECT_EQ(*child->wait_for_line("after", 10'000), "after");
  EXPECT_FALSE(child->poll_exit().has_value());
}

TEST_F(ChildProcessTest, ReadyLineOfAChildThatExitsAtOnceIsNotLost) {
  auto child = spawn_sh("echo ready; exit 0");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child, 10'000).has_value());
  EXPECT_EQ(*child->wait_for_line("ready", 10'000), "ready");
}

TEST_F(ChildProcessTest, TimesOutWithDeadlineExceeded) {
  auto child = spawn_sh("echo something else; exec sleep 30");
  ASSERT_NE(child, nullptr);
  const Clock::time_point start = Clock::now();
  Result<std::string> line = child->wait_for_line("ready", 200);
  EXPECT_GE(elapsed_ms(start), 200);
  EXPECT_LT(elapsed_ms(start), 5'000);
  ASSERT_EQ(line.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(line.status().message(),
            "/bin/sh -c echo something else; exec sleep 30: no stdout line starting with \"ready\" within 200 ms");
}

TEST_F(ChildProcessTest, ChildExitingEarlyIsUnavailableWithStatusAndStderrTail) {
  auto child = spawn_sh("echo line1 >&2; echo line2 >&2; echo not ready; exit 3", log_path());
  ASSERT_NE(child, nullptr);
  Result<std::string> line = child->wait_for_line("ready", 10'000);
  ASSERT_EQ(line.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(line.status().message(),
            "/bin/sh -c echo line1 >&2; echo line2 >&2; echo not ready; exit 3: exited with status 3 before printing "
            "a line starting with \"ready\"; last lines of " +
                log_path() + ":\nline1\nline2");
  EXPECT_EQ(child->poll_exit(), 3);
  EXPECT_EQ(child->exit_text(), "status 3");
}

TEST_F(ChildProcessTest, StderrIsAppendedToTheLog) {
  std::ofstream(log_path()) << "earlier run\n";
  auto child = spawn_sh("echo now >&2", log_path());
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(wait_exit(*child, 10'000), 0);
  EXPECT_EQ(child->stderr_tail(10), "earlier run\nnow");
  EXPECT_EQ(child->stderr_tail(1), "now");
}

TEST_F(ChildProcessTest, TerminateStopsAChildThatHandlesSigterm) {
  auto child = spawn_sh("trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done", log_path());
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_line("ready", 10'000).ok());
  EXPECT_EQ(child->terminate(10'000), 0);
}

TEST_F(ChildProcessTest, TerminateFallsBackToSigkillAfterTheGrace) {
  auto child = spawn_sh("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_line("ready", 10'000).ok());
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(child->terminate(300), 128 + SIGKILL);
  EXPECT_GE(elapsed_ms(start), 300);
  EXPECT_LT(elapsed_ms(start), 3'000);
  EXPECT_EQ(child->exit_text(), "status 137 (killed by signal 9: Killed)");
}

TEST_F(ChildProcessTest, LotsOfStdoutAfterTheReadyLineDoesNotBlockTheChild) {
  // 1 MiB in short lines, then 1 MiB in one line: far more than a pipe holds.
  auto child = spawn_sh(
      "echo ready; yes 'some log line' | head -c 1048576; head -c 1048576 /dev/zero | tr '\\0' x; "
      "echo; echo done; exit 0");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_line("ready", 10'000).ok());
  EXPECT_EQ(wait_exit(*child, 20'000), 0);
  EXPECT_EQ(*child->wait_for_line("done", 10'000), "done");
}

TEST_F(ChildProcessTest, KillNowAndPollExit) {
  auto child = spawn_sh("exec sleep 30");
  ASSERT_NE(child, nullptr);
  EXPECT_FALSE(child->poll_exit().has_value());
  EXPECT_EQ(child->kill_now(), 128 + SIGKILL);
  EXPECT_EQ(child->poll_exit(), 128 + SIGKILL);
  EXPECT_EQ(child->kill_now(), 128 + SIGKILL);  // already reaped: nothing more to do
}

TEST_F(ChildProcessTest, DestructorKillsTheWholeGroupAndLeaksNoFds) {
  const int fds_before = count_open_fds();
  pid_t grandchild = 0;
  {
    // The background sleep keeps the stdout pipe open after its parent shell is gone.
    auto child = spawn_sh("sleep 30 & echo pid=$!; wait");
    ASSERT_NE(child, nullptr);
    Result<std::string> line = child->wait_for_line("pid=", 10'000);
    ASSERT_TRUE(line.ok()) << line.status().to_string();
    grandchild = std::stoi(line->substr(4));
  }
  EXPECT_EQ(count_open_fds(), fds_before);
  // The grandchild got SIGKILL too.
  const Clock::time_point start = Clock::now();
  while (running(grandchild) && elapsed_ms(start) < 5'000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(running(grandchild));
}

TEST_F(ChildProcessTest, MissingProgramIsNotFound) {
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::spawn({.argv = {"/nonexistent/ppd"}});
  ASSERT_EQ(child.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(child.status().message(), "/nonexistent/ppd: cannot execute: No such file or directory");
}

TEST_F(ChildProcessTest, UnwritableLogIsUnavailable) {
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::spawn({.argv = {"/bin/true"}, .stderr_path = (dir_ / "missing" / "x.log").string()});
  EXPECT_EQ(child.status().code(), StatusCode::kUnavailable);
}

TEST_F(ChildProcessTest, EmptyArgvIsInvalid) {
  EXPECT_EQ(ChildProcess::spawn({}).status().to_string(), "INVALID_ARGUMENT: argv: must not be empty");
}

}  // namespace
}  // namespace ppd::launch
