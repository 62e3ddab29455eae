// Faults on the remote path between in-process nodes: a corrupted block, a prefill node
// that goes away mid-transfer, a transfer past its deadline, an unknown handle, and a handle
// nobody pulls. Each ends in a clear error (or a released pin), never a hang, and leaves no
// block leaked or pinned on either node.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <thread>

#include "engine_test_util.h"
#include "node_test_util.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

constexpr int kBlocks = 64;

class NodeFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tiny_model_dir(); }

  void start(InProcessCluster::NodeOptions p_options = {.num_blocks = kBlocks},
             InProcessCluster::NodeOptions d_options = {.num_blocks = kBlocks}) {
    p_ = &cluster_.add_node("p0", node::NodeRole::kPrefill, dir_, p_options);
    d_ = &cluster_.add_node("d0", node::NodeRole::kDecode, dir_, d_options);
  }

  node::NodeRequest request() const {
    return {.request_id = "fault", .token_ids = random_tokens(5, 70, 3, 500), .sampling = greedy(8)};
  }

  // Prefill on P, then decode on D; returns D's decode result.
  Result<node::DecodeStarted> remote(const node::NodeRequest& req) {
    Result<node::KvHandle> handle = cluster_.run(p_->service->prefill(req));
    EXPECT_TRUE(handle.ok()) << handle.status().to_string();
    node::NodeRequest decode = req;
    decode.handle = *handle;
    return cluster_.run(d_->service->decode(decode));
  }

  int allocatable(TestNode& n) {
    return cluster_.run(n.loop->call([](engine::Engine& e) { return e.num_allocatable_blocks(); }));
  }

  void expect_nothing_leaked() {
    cluster_.settle();
    for (TestNode* n : {p_, d_}) {
      EXPECT_TRUE(cluster_.run(n->service->check_invariants()).ok());
      EXPECT_EQ(allocatable(*n), kBlocks) << "blocks still held";
      EXPECT_EQ(n->service->handles().size(), 0);
    }
  }

  std::string dir_;
  InProcessCluster cluster_;
  TestNode* p_ = nullptr;
  TestNode* d_ = nullptr;
};

TEST_F(NodeFaultTest, CorruptedBlockIsCaughtByItsChecksum) {
  start();
  ASSERT_TRUE(cluster_.faults().add_fault({.on_pull = 0, .corrupt_block = 2}).ok());
  Result<node::DecodeStarted> started = remote(request());
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(started.status().message().find("decode: kv pull of 5 blocks from p0 (p0): block 2"), std::string::npos)
      << started.status().message();
  EXPECT_NE(started.status().message().find("checksum mismatch"), std::string::npos);
  expect_nothing_leaked();
  // The next request goes through.
  Result<node::DecodeStarted> again = remote(request());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE(cluster_.run(read_all(std::move(again->stream))).status.ok());
  expect_nothing_leaked();
}

TEST_F(NodeFaultTest, PrefillNodeLostMidTransferFailsTheRequestCleanly) {
  start();
  ASSERT_TRUE(cluster_.faults().add_fault({.on_pull = 0, .fail_after_bytes = 1}).ok());
  Result<node::DecodeStarted> started = remote(request());
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kUnavailable) << started.status().to_string();
  EXPECT_NE(started.status().message().find("decode: kv pull of 5 blocks from p0"), std::string::npos);
  expect_nothing_leaked();
}

TEST_F(NodeFaultTest, TransferPastItsDeadlineFails) {
  start({.num_blocks = kBlocks}, {.num_blocks = kBlocks, .transfer_timeout_ms = 50});
  ASSERT_TRUE(cluster_.faults().add_fault({.on_pull = 0, .delay_ns = 60'000'000'000}).ok());
  const auto begin = std::chrono::steady_clock::now();
  Result<node::DecodeStarted> started = remote(request());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(30));  // the 60 s delay was cut off
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kDeadlineExceeded) << started.status().to_string();
  EXPECT_NE(started.status().message().find("exceeded deadline of 50 ms"), std::string::npos)
      << started.status().message();
  expect_nothing_leaked();
}

TEST_F(NodeFaultTest, UnknownHandleIsAClearError) {
  start();
  Result<node::KvHandle> handle = cluster_.run(p_->service->prefill(request()));
  ASSERT_TRUE(handle.ok());
  node::NodeRequest decode = request();
  decode.handle = *handle;
  decode.handle->handle += 1000;
  Result<node::DecodeStarted> started = cluster_.run(d_->service->decode(decode));
  EXPECT_EQ(started.status().code(), StatusCode::kNotFound) << started.status().to_string();
  EXPECT_NE(started.status().message().find(fmt::format("kv handle {}: unknown", handle->handle + 1000)),
            std::string::npos)
      << started.status().message();
  p_->service->handles().release(handle->handle);
  expect_nothing_leaked();
}

TEST_F(NodeFaultTest, HandleWithOtherTokensIsRefused) {
  start();
  Result<node::KvHandle> handle = cluster_.run(p_->service->prefill(request()));
  ASSERT_TRUE(handle.ok());
  node::NodeRequest decode = request();
  decode.token_ids[3] += 1;
  decode.handle = *handle;
  Result<node::DecodeStarted> started = cluster_.run(d_->service->decode(decode));
  EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("handle.block_hashes[0]"), std::string::npos) << started.status().message();
  expect_nothing_leaked();  // the refused handle was released on P
}

TEST_F(NodeFaultTest, PinnedHandleNobodyPullsTimesOut) {
  start({.num_blocks = kBlocks, .pin_timeout_ms = 100}, {.num_blocks = kBlocks});
  Result<node::KvHandle> handle = cluster_.run(p_->service->prefill(request()));
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(p_->service->handles().size(), 1);
  EXPECT_EQ(allocatable(*p_), kBlocks - 5);
  // The expiry loop ticks every 25 ms of real time; allow it 10 s on a loaded machine.
  for (int i = 0; i < 1000 && p_->service->handles().size() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(p_->service->handles().size(), 0);
  expect_nothing_leaked();
  node::NodeRequest decode = request();
  decode.handle = *handle;
  EXPECT_EQ(cluster_.run(d_->service->decode(decode)).status().code(), StatusCode::kNotFound);
  expect_nothing_leaked();
}

// Handles nobody pulls may pin at most half the pool: past that a prefill is refused (429; the
// router then prefills locally) instead of queueing for blocks that never come back.
TEST_F(NodeFaultTest, PrefillIsRefusedWhileHalfThePoolIsPinned) {
  start();
  std::vector<node::KvHandle> handles;
  for (uint64_t seed = 1;; ++seed) {
    node::NodeRequest req = request();
    req.token_ids = random_tokens(seed, 70, 3, 500);  // 5 blocks each
    Result<node::KvHandle> handle = cluster_.run(p_->service->prefill(req));
    if (!handle.ok()) {
      EXPECT_EQ(handle.status().code(), StatusCode::kResourceExhausted);
      EXPECT_EQ(handle.status().message(),
                "prefill: node p0 pins 35 of its 64 KV blocks for decode nodes that have "
                "not pulled them; the limit is 32 (--max-pinned-fraction 0.5)");
      break;
    }
    handles.push_back(*handle);
    ASSERT_LT(handles.size(), 20u);
  }
  EXPECT_EQ(handles.size(), 7u);
  for (const node::KvHandle& h : handles) p_->service->handles().release(h.handle);
  expect_nothing_leaked();
  EXPECT_TRUE(cluster_.run(p_->service->prefill(request())).ok());  // room again
  p_->service->handles().release_older_than(std::numeric_limits<int64_t>::max());
  expect_nothing_leaked();
}

TEST_F(NodeFaultTest, ClientGoneMidDecodeFreesTheRequest) {
  start();
  node::NodeRequest req = request();
  req.sampling = greedy(200);
  Result<node::DecodeStarted> started = remote(req);
  ASSERT_TRUE(started.ok());
  const RequestId id = started->stream->id();
  started->stream.reset();  // the reader went away, as when a client disconnects
  cluster_.run(d_->service->abort(id));
  expect_nothing_leaked();
}

}  // namespace
}  // namespace ppd::testing
