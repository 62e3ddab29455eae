// Checksums, the in-process transport and pull_with_deadline.
#include <gtest/gtest.h>

#include <xxhash.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "ppd/transfer/in_process_transport.h"
#include "ppd/transfer/transfer_test_util.h"

namespace ppd::transfer {
namespace {

namespace asio = boost::asio;

TEST(BlockChecksumTest, IsXxh3) {
  EXPECT_EQ(block_checksum({}), 0x2D06800538D394C2ull);
  const std::vector<uint8_t> a = {1, 2, 3}, b = {1, 2, 4};
  EXPECT_NE(block_checksum(a), block_checksum(b));
}

TEST(BlockChecksumTest, MatchesTheLibraryAtEverySize) {
  std::vector<uint8_t> bytes(300000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{16}, size_t{17}, size_t{128}, size_t{129}, size_t{240},
                   size_t{241}, size_t{1024}, size_t{4099}, size_t{65536}, size_t{262144}, bytes.size()}) {
    EXPECT_EQ(block_checksum(std::span<const uint8_t>(bytes.data(), n)), XXH3_64bits(bytes.data(), n)) << n;
  }
}

TEST(VerifyChecksumsTest, NamesTheFirstBadBlock) {
  std::vector<std::vector<uint8_t>> buffers = {{1, 2}, {3, 4}, {5, 6}};
  const auto dest = spans_of(buffers);
  PullRequest request{"p", 9, {4, 7, 2}};
  std::vector<uint64_t> checksums;
  for (const auto& b : buffers) checksums.push_back(block_checksum(b));
  EXPECT_TRUE(verify_checksums(request, dest, checksums).ok());
  buffers[1][0] ^= 1;
  const Status s = verify_checksums(request, dest, checksums);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), fmt::format("block 1 (handle index 7): checksum mismatch: expected {:#018x}, got {:#018x}",
                                     checksums[1], block_checksum(buffers[1])));
}

TEST(VerifyChecksumsTest, RejectsCountMismatch) {
  std::vector<std::vector<uint8_t>> buffers = {{1}};
  const auto dest = spans_of(buffers);
  EXPECT_EQ(verify_checksums(PullRequest{"p", 1, {0, 1}}, dest, std::vector<uint64_t>{0}).message(),
            "dest: 1 spans for 2 indices; must be one per block");
  EXPECT_EQ(verify_checksums(PullRequest{"p", 1, {0}}, dest, std::vector<uint64_t>{}).message(),
            "checksums: 0 for 1 blocks; must be one per block");
}

class InProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry_.add("prefill-0", &source_).ok()); }

  FakeBlockSource source_;
  InProcessRegistry registry_;
  InProcessKvTransport transport_{&registry_};
  asio::io_context ctx_;
};

TEST_F(InProcessTest, CopiesBlocksWithChecksums) {
  const uint64_t handle = source_.add(8, 1000, 1);
  PullRequest request{"prefill-0", handle, {5, 0, 7}};
  std::atomic<int64_t> progress{0};
  request.bytes_received = &progress;
  std::vector<std::vector<uint8_t>> buffers(3, std::vector<uint8_t>(1000));
  const auto dest = spans_of(buffers);
  Result<PullResult> r = run_task(ctx_, transport_.pull(request, dest));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, 3000);
  EXPECT_EQ(progress.load(), 3000);
  for (size_t i = 0; i < 3; ++i) {
    const auto expected = source_.block(handle, request.indices[i]);
    EXPECT_TRUE(std::equal(buffers[i].begin(), buffers[i].end(), expected.begin(), expected.end()));
  }
  EXPECT_TRUE(verify_checksums(request, dest, r->checksums).ok());
}

TEST_F(InProcessTest, ErrorsNameTheCause) {
  const uint64_t handle = source_.add(2, 64, 1);
  std::vector<std::vector<uint8_t>> buffers(1, std::vector<uint8_t>(64));
  const auto dest = spans_of(buffers);
  Result<PullResult> r = run_task(ctx_, transport_.pull(PullRequest{"nowhere", handle, {0}}, dest));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "kv pull from nowhere handle 1: no in-process source of that name");
  r = run_task(ctx_, transport_.pull(PullRequest{"prefill-0", 77, {0}}, dest));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "kv pull from prefill-0 handle 77: handle 77: not pinned");
  r = run_task(ctx_, transport_.pull(PullRequest{"prefill-0", handle, {2}}, dest));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  std::vector<std::vector<uint8_t>> wrong(1, std::vector<uint8_t>(63));
  r = run_task(ctx_, transport_.pull(PullRequest{"prefill-0", handle, {0}}, spans_of(wrong)));
  EXPECT_EQ(r.status().message(),
            "kv pull from prefill-0 handle 1: dest[0]: 63 bytes; the source's blocks are 64 bytes");
}

TEST_F(InProcessTest, ReleaseReachesTheSource) {
  const uint64_t handle = source_.add(1, 8, 1);
  EXPECT_TRUE(run_task(ctx_, transport_.release("prefill-0", handle)).ok());
  EXPECT_EQ(source_.released(), std::vector<uint64_t>{handle});
  EXPECT_EQ(run_task(ctx_, transport_.release("nowhere", handle)).code(), StatusCode::kUnavailable);
}

TEST_F(InProcessTest, RegistryRejectsDuplicatesAndForgets) {
  EXPECT_EQ(registry_.add("prefill-0", &source_).message(), "name: \"prefill-0\" is already registered");
  EXPECT_EQ(registry_.add("", &source_).message(), "name: must not be empty");
  registry_.remove("prefill-0");
  EXPECT_EQ(registry_.find("prefill-0"), nullptr);
}

TEST_F(InProcessTest, PullWithDeadlineReturnsAFastPullsResult) {
  const uint64_t handle = source_.add(2, 32, 3);
  std::vector<std::vector<uint8_t>> buffers(2, std::vector<uint8_t>(32));
  const PullRequest request{"prefill-0", handle, {1, 0}};
  Result<PullResult> r =
      run_task(ctx_, pull_with_deadline(transport_, request, spans_of(buffers), std::chrono::seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, 64);
}

}  // namespace
}  // namespace ppd::transfer
