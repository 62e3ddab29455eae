// FaultInjectingTransport over the in-process transport: every fault shows up the way the
// callers will see it.
#include <gtest/gtest.h>

#include "ppd/transfer/fault_injection.h"
#include "ppd/transfer/in_process_transport.h"
#include "ppd/transfer/transfer_test_util.h"

namespace ppd::transfer {
namespace {

namespace asio = boost::asio;

constexpr size_t kFaultBlockBytes = 4096;

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.add("p", &source_).ok());
    handle_ = source_.add(4, kFaultBlockBytes, 1);
    request_ = PullRequest{"p", handle_, {0, 1, 2, 3}};
    buffers_.assign(4, std::vector<uint8_t>(kFaultBlockBytes));
  }

  Result<PullResult> pull() { return run_task(ctx_, faulty_.pull(request_, spans_of(buffers_))); }

  FakeBlockSource source_;
  InProcessRegistry registry_;
  InProcessKvTransport inner_{&registry_};
  FaultInjectingTransport faulty_{inner_};
  uint64_t handle_ = 0;
  PullRequest request_;
  std::vector<std::vector<uint8_t>> buffers_;
  asio::io_context ctx_;
};

TEST_F(FaultInjectionTest, NoPlanPassesThrough) {
  Result<PullResult> r = pull();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(verify_checksums(request_, spans_of(buffers_), r->checksums).ok());
  EXPECT_EQ(faulty_.num_pulls(), 1);
}

TEST_F(FaultInjectionTest, CorruptionIsCaughtByTheChecksums) {
  FaultPlan plan;
  plan.corrupt_block = 2;
  ASSERT_TRUE(faulty_.add_fault(plan).ok());
  Result<PullResult> r = pull();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Status s = verify_checksums(request_, spans_of(buffers_), r->checksums);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(s.message().starts_with("block 2 (handle index 2): checksum mismatch: expected 0x")) << s.message();
}

TEST_F(FaultInjectionTest, FailAfterBytesIsUnavailable) {
  FaultPlan plan;
  plan.fail_after_bytes = 5000;
  ASSERT_TRUE(faulty_.add_fault(plan).ok());
  std::atomic<int64_t> progress{0};
  request_.bytes_received = &progress;
  Result<PullResult> r = pull();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "kv pull from p handle 1: injected: connection lost after 8192 of 16384 bytes");
  EXPECT_EQ(progress.load(), 8192);
  plan.fail_after_bytes = 16384;  // everything moves, then the connection drops
  faulty_.clear_faults();
  ASSERT_TRUE(faulty_.add_fault(plan).ok());
  EXPECT_EQ(pull().status().code(), StatusCode::kUnavailable);
}

TEST_F(FaultInjectionTest, DropHitsOnlyThePlannedPull) {
  FaultPlan plan;
  plan.on_pull = 1;
  plan.drop = true;
  ASSERT_TRUE(faulty_.add_fault(plan).ok());
  EXPECT_TRUE(pull().ok());
  Result<PullResult> r = pull();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "kv pull from p handle 1: injected: connection dropped");
  EXPECT_TRUE(pull().ok());
}

TEST_F(FaultInjectionTest, DelayRunsIntoADeadline) {
  FaultPlan plan;
  plan.delay_ns = 10'000'000'000;
  ASSERT_TRUE(faulty_.add_fault(plan).ok());
  Result<PullResult> r =
      run_task(ctx_, pull_with_deadline(faulty_, request_, spans_of(buffers_), std::chrono::milliseconds(5)));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "kv pull from p handle 1: exceeded deadline of 5 ms after 0 bytes");
}

TEST_F(FaultInjectionTest, BadPlansAreRejected) {
  FaultPlan plan;
  plan.delay_ns = -5;
  EXPECT_EQ(faulty_.add_fault(plan).message(), "delay_ns: must be >= 0; got -5");
  plan = {};
  plan.on_pull = -3;
  EXPECT_EQ(faulty_.add_fault(plan).message(), "on_pull: must be >= 0 or kEveryPull (-1); got -3");
}

}  // namespace
}  // namespace ppd::transfer
