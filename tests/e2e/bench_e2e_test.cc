// `ppd bench serve` end to end: against a `ppd up` cluster on TinyStories-656K, a whole run
// with its JSON, and a run stopped by a signal that still writes what it measured.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "router_process.h"

namespace ppd::testing::bench_e2e {
namespace {

namespace fs = std::filesystem;

class BenchServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* shared = std::getenv("PPD_SHARED_DIR");
    if (shared == nullptr) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories-656K is needed";
    model_ = std::string(shared) + "/models/tinystories-656k";
    dir_ = fs::temp_directory_path() / ("ppd-bench-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    up_ = std::make_unique<PpdProcess>(
        std::vector<std::string>{"up", "--model", model_, "--prefill", "1", "--decode", "1", "--policy", "local",
                                 "--port", "0", "--threads", "2", "--kv-cache-mib", "64", "--log-dir",
                                 (dir_ / "up").string()},
        "ppd up ready", dir_, "up");
    ASSERT_TRUE(up_->started()) << up_->log();
  }
  void TearDown() override {
    up_.reset();
    fs::remove_all(dir_);
  }

  // `ppd bench serve` against the cluster with the distribution workload: `num_conversations`
  // of 3 turns (20-token first message, 8-token later ones, 8-token answers) at `rate`.
  std::unique_ptr<launch::ChildProcess> start_bench(int num_conversations, double rate) {
    std::vector<std::string> argv = {PPD_BINARY,
                                     "bench",
                                     "serve",
                                     "--endpoint",
                                     "http://" + up_->http_address(),
                                     "--workload",
                                     "distribution",
                                     "--num-conversations",
                                     std::to_string(num_conversations),
                                     "--min-turns",
                                     "3",
                                     "--max-turns",
                                     "3",
                                     "--first-user-tokens",
                                     "20",
                                     "--user-tokens",
                                     "8",
                                     "--output-tokens",
                                     "8",
                                     "--rate",
                                     std::to_string(rate),
                                     "--tokenizer",
                                     model_,
                                     "--json",
                                     (dir_ / "out.json").string(),
                                     "--records",
                                     "--no-progress"};
    Result<std::unique_ptr<launch::ChildProcess>> child =
        launch::ChildProcess::spawn({.argv = std::move(argv), .stderr_path = (dir_ / "bench.log").string()});
    EXPECT_TRUE(child.ok()) << child.status().to_string();
    return child.ok() ? std::move(*child) : nullptr;
  }

  static int wait_exit(launch::ChildProcess& child) {
    for (int i = 0; i < 6000; ++i) {
      if (const std::optional<int> status = child.poll_exit()) return *status;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "ppd bench serve did not finish within 120 s";
    return child.kill_now();
  }

  nlohmann::json result() const {
    std::ifstream in(dir_ / "out.json");
    std::stringstream s;
    s << in.rdbuf();
    return nlohmann::json::parse(s.str(), nullptr, false);
  }

  double finished_requests() const {
    Result<net::HttpResponse> r = http_call(up_->http_port(), boost::beast::http::verb::get, "/metrics");
    if (!r.ok()) return 0;
    double sum = 0;
    std::istringstream lines(r->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("ppd:router_requests_total")) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }

  std::string model_;
  fs::path dir_;
  std::unique_ptr<PpdProcess> up_;
};

TEST_F(BenchServeTest, MeasuresEveryTurnAndReadsTheRoutersCounters) {
  std::unique_ptr<launch::ChildProcess> bench = start_bench(4, 5);
  ASSERT_NE(bench, nullptr);
  ASSERT_EQ(wait_exit(*bench), 0) << bench->stderr_tail(20);
  const nlohmann::json j = result();
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["runs"].size(), 1u);
  const nlohmann::json& run = j["runs"][0];
  EXPECT_EQ(run["interrupted"], false);
  EXPECT_EQ(run["summary"]["turn1"]["num_requests"], 4);
  EXPECT_EQ(run["summary"]["turn2plus"]["num_requests"], 8);
  EXPECT_EQ(run["summary"]["all"]["success_rate"], 1.0);
  // Under `local`, turns 2 and 3 run on the decode node; turn 1 goes remote.
  EXPECT_EQ(run["router"]["local_decisions"], 8);
  EXPECT_EQ(run["router"]["remote_decisions"], 4);
  for (const nlohmann::json& r : run["records"]) {
    EXPECT_EQ(r["output_tokens"], 8) << r.dump();
    EXPECT_EQ(r["token_times_s"].size(), 8u) << r.dump();
    if (r["turn"].get<int>() > 1) {
      EXPECT_GT(r["cached_tokens"].get<int>(), 0) << r.dump();
    }
  }
}

TEST_F(BenchServeTest, ASignalStopsTheRunAndWhatFinishedIsWritten) {
  std::unique_ptr<launch::ChildProcess> bench = start_bench(200, 20);
  ASSERT_NE(bench, nullptr);
  for (int i = 0; i < 3000 && finished_requests() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(finished_requests(), 5);
  ASSERT_EQ(::kill(bench->pid(), SIGINT), 0);  // what Ctrl-C sends
  ASSERT_EQ(wait_exit(*bench), 0) << bench->stderr_tail(20);
  const nlohmann::json j = result();
  ASSERT_TRUE(j.is_object());
  const nlohmann::json& run = j["runs"][0];
  EXPECT_EQ(run["interrupted"], true);
  EXPECT_GE(run["records"].size(), 1u);
  EXPECT_LT(run["summary"]["all"]["num_requests"].get<int>(), 600);
}

}  // namespace
}  // namespace ppd::testing::bench_e2e
