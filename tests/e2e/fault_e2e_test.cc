// Faults and hostile clients end to end on TinyStories-656K: `ppd up` keeping a cluster alive
// through a node's death, and the router's handling of frozen, draining and dead nodes.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "router_process.h"

namespace ppd::testing {
namespace {

namespace fs = std::filesystem;
using Messages = std::vector<std::pair<std::string, std::string>>;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits up to `timeout` for `path` to contain `needle`.
bool wait_for_text(const fs::path& path, const std::string& needle, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class FaultE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = tinystories();
    if (model_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories-656K is needed";
    dir_ = fs::temp_directory_path() / ("ppd-fault-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::unique_ptr<PpdProcess> up(int num_decode, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"up", "--model", model_, "--prefill", "1", "--decode",
                                     std::to_string(num_decode), "--port", "0", "--threads", "2", "--kv-cache-mib",
                                     "64", "--log-dir", (dir_ / "up").string(), "--router-flags",
                                     "--node-timeout-ms 1000", "--node-flags", "--load-report-ms 20"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<PpdProcess>(args, "ppd up ready", dir_, "up");
  }
  fs::path dir_;
  std::string model_;
};

// Every request of a short conversation is answered.
void expect_served(uint16_t port, int num_requests) {
  for (int i = 0; i < num_requests; ++i) {
    int status = 0;
    const nlohmann::json answer =
        post_json(port, "/v1/chat/completions", chat_body({{"user", "Tell me a story " + std::to_string(i)}}, 8),
                  &status);
    EXPECT_EQ(status, 200) << "request " << i << ": " << answer.dump();
  }
}

TEST_F(FaultE2eTest, UpServesOnWhenANodeDiesAndRestartsItOnItsPorts) {
  std::unique_ptr<PpdProcess> cluster = up(2);
  ASSERT_TRUE(cluster->started()) << cluster->log();
  wait_healthy(cluster->http_port(), 3);
  const pid_t decode0 = child_named(cluster->pid(), "decode-0");
  ASSERT_GT(decode0, 0);
  ASSERT_EQ(::kill(decode0, SIGKILL), 0);
  ASSERT_TRUE(wait_for_text(dir_ / "up.log", "decode-0 exited unexpectedly", std::chrono::seconds(10)))
      << cluster->log();
  expect_served(cluster->http_port(), 4);  // the other decode node serves meanwhile
  EXPECT_TRUE(cluster->running()) << cluster->log();
  ASSERT_TRUE(wait_for_text(dir_ / "up.log", "decode-0 ready again", std::chrono::seconds(60))) << cluster->log();
  const pid_t restarted = child_named(cluster->pid(), "decode-0");
  EXPECT_GT(restarted, 0);
  EXPECT_NE(restarted, decode0);
  wait_healthy(cluster->http_port(), 3);  // the router found it on its old ports
  expect_served(cluster->http_port(), 2);
}

TEST_F(FaultE2eTest, UpWithoutRestartsLeavesADeadNodeOutAndServesOn) {
  std::unique_ptr<PpdProcess> cluster = up(2, {"--no-restart"});
  ASSERT_TRUE(cluster->started()) << cluster->log();
  wait_healthy(cluster->http_port(), 3);
  ASSERT_EQ(::kill(child_named(cluster->pid(), "decode-1"), SIGKILL), 0);
  ASSERT_TRUE(wait_for_text(dir_ / "up.log", "not restarting it (--no-restart)", std::chrono::seconds(10)))
      << cluster->log();
  expect_served(cluster->http_port(), 3);
  EXPECT_TRUE(cluster->running()) << cluster->log();
  EXPECT_EQ(child_named(cluster->pid(), "decode-1"), -1);
}

}  // namespace
}  // namespace ppd::testing
