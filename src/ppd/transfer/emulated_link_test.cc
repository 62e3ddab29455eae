// EmulatedLinkTransport over the in-process transport. Timing assertions are lower bounds
// that follow from the link model (reservations never overlap and timers never fire early),
// so they cannot flake on a slow machine.
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "ppd/transfer/emulated_link.h"
#include "ppd/transfer/in_process_transport.h"
#include "ppd/transfer/transfer_test_util.h"
#include "ppd/transfer/transfer_util.h"

namespace ppd::transfer {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr size_t kLinkBlockBytes = size_t{64} << 10;
constexpr int kNumBlocks = 16;  // 1 MiB per transfer
constexpr double kBandwidth = 100e6;
constexpr int64_t kLatencyNs = 2'000'000;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class EmulatedLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.add("a", &source_a_).ok());
    ASSERT_TRUE(registry_.add("b", &source_b_).ok());
    EmulatedLinkOptions options;
    options.bandwidth_bytes_per_s = kBandwidth;
    options.latency_ns = kLatencyNs;
    options.chunk_bytes = 256 << 10;
    link_ = EmulatedLinkTransport::create(inner_, options).value();
    handle_a_ = source_a_.add(kNumBlocks, kLinkBlockBytes, 1);
    handle_b_ = source_b_.add(kNumBlocks, kLinkBlockBytes, 2);
  }

  // One transfer of every block of `handle` from `source`, checked byte for byte.
  asio::awaitable<Status> transfer(std::string source, uint64_t handle, FakeBlockSource* from) {
    std::vector<std::vector<uint8_t>> buffers(kNumBlocks, std::vector<uint8_t>(kLinkBlockBytes));
    PullRequest request{source, handle, {}};
    for (uint32_t i = 0; i < kNumBlocks; ++i) request.indices.push_back(i);
    Result<PullResult> r = co_await link_->pull(request, spans_of(buffers));
    if (!r.ok()) co_return r.status();
    PPD_CO_RETURN_IF_ERROR(verify_checksums(request, spans_of(buffers), r->checksums));
    for (uint32_t i = 0; i < kNumBlocks; ++i) {
      const auto expected = from->block(handle, i);
      if (!std::equal(buffers[i].begin(), buffers[i].end(), expected.begin(), expected.end())) {
        co_return internal_error("block {} differs", i);
      }
    }
    co_return Status::Ok();
  }

  FakeBlockSource source_a_, source_b_;
  InProcessRegistry registry_;
  InProcessKvTransport inner_{&registry_};
  std::unique_ptr<EmulatedLinkTransport> link_;
  uint64_t handle_a_ = 0, handle_b_ = 0;
  asio::io_context ctx_;
};

TEST_F(EmulatedLinkTest, OneTransferTakesLatencyPlusBytesOverBandwidth) {
  const auto start = Clock::now();
  const Status s = run_task(ctx_, transfer("a", handle_a_, &source_a_));
  ASSERT_TRUE(s.ok()) << s.to_string();
  const double ideal = kLatencyNs * 1e-9 + kNumBlocks * kLinkBlockBytes / kBandwidth;
  EXPECT_GE(seconds_since(start), ideal * 0.999);
}

TEST_F(EmulatedLinkTest, ConcurrentTransfersFromOneSourceShareItsBandwidth) {
  using asio::experimental::awaitable_operators::operator&&;
  auto both = [&]() -> asio::awaitable<std::tuple<Status, Status>> {
    co_return co_await (transfer("a", handle_a_, &source_a_) && transfer("a", handle_a_, &source_a_));
  };
  const auto start = Clock::now();
  const auto [s1, s2] = run_task(ctx_, both());
  ASSERT_TRUE(s1.ok()) << s1.to_string();
  ASSERT_TRUE(s2.ok()) << s2.to_string();
  const double single = kLatencyNs * 1e-9 + kNumBlocks * kLinkBlockBytes / kBandwidth;
  const double shared = kLatencyNs * 1e-9 + 2 * kNumBlocks * kLinkBlockBytes / kBandwidth;
  EXPECT_GE(seconds_since(start), shared * 0.999);
  EXPECT_GE(shared, 1.8 * single);
}

TEST_F(EmulatedLinkTest, DifferentSourcesDoNotShare) {
  using asio::experimental::awaitable_operators::operator&&;
  auto both = [&]() -> asio::awaitable<std::tuple<Status, Status>> {
    co_return co_await (transfer("a", handle_a_, &source_a_) && transfer("b", handle_b_, &source_b_));
  };
  const auto [s1, s2] = run_task(ctx_, both());
  EXPECT_TRUE(s1.ok()) << s1.to_string();
  EXPECT_TRUE(s2.ok()) << s2.to_string();
}

TEST_F(EmulatedLinkTest, DeadlineCutsASlowTransfer) {
  std::vector<std::vector<uint8_t>> buffers(kNumBlocks, std::vector<uint8_t>(kLinkBlockBytes));
  PullRequest request{"a", handle_a_, {}};
  for (uint32_t i = 0; i < kNumBlocks; ++i) request.indices.push_back(i);
  // Nothing moves before the 2 ms latency has passed; the 1 ms deadline comes first.
  Result<PullResult> r =
      run_task(ctx_, pull_with_deadline(*link_, request, spans_of(buffers), std::chrono::milliseconds(1)));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "kv pull from a handle 1: exceeded deadline of 1 ms after 0 bytes");
}

TEST_F(EmulatedLinkTest, ReleaseIsForwarded) {
  EXPECT_TRUE(run_task(ctx_, link_->release("a", handle_a_)).ok());
  EXPECT_EQ(source_a_.released(), std::vector<uint64_t>{handle_a_});
}

TEST(EmulatedLinkOptionsTest, ValidationNamesTheField) {
  EmulatedLinkOptions o;
  o.bandwidth_bytes_per_s = 0;
  EXPECT_EQ(validate_emulated_link_options(o).message(), "bandwidth_bytes_per_s: must be > 0 and finite; got 0");
  o = {};
  o.latency_ns = -1;
  EXPECT_EQ(validate_emulated_link_options(o).message(), "latency_ns: must be >= 0; got -1");
  o = {};
  o.chunk_bytes = 0;
  EXPECT_EQ(validate_emulated_link_options(o).message(), "chunk_bytes: must be >= 1; got 0");
  InProcessRegistry registry;
  InProcessKvTransport inner(&registry);
  EXPECT_EQ(EmulatedLinkTransport::create(inner, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ppd::transfer
