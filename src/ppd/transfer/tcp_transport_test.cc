// TcpKvServer and TcpKvTransport on loopback: round trips, connection reuse, peer errors,
// malformed frames, a server dying mid-transfer, deadlines and releases.
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "ppd/transfer/tcp_transport.h"
#include "ppd/transfer/transfer_test_util.h"
#include "ppd/transfer/wire_format.h"

namespace ppd::transfer {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A server running on its own thread; the test thread is the client.
class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TcpServerOptions options;
    options.max_blocks_per_request = 1024;
    options.block_format = server_block_format_;
    server_ = std::make_unique<TcpKvServer>(server_ctx_.get_executor(), &source_, options);
    Result<uint16_t> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status().to_string();
    address_ = fmt::format("127.0.0.1:{}", *port);
    server_thread_ = std::thread([this] { server_ctx_.run(); });
  }

  void TearDown() override {
    server_->stop();
    server_ctx_.stop();
    server_thread_.join();
  }

  // Pulls `indices` of `handle` into fresh buffers of block_bytes each.
  Result<PullResult> pull(uint64_t handle, std::vector<uint32_t> indices, size_t block_bytes,
                          std::vector<std::vector<uint8_t>>* buffers) {
    buffers->assign(indices.size(), std::vector<uint8_t>(block_bytes));
    const PullRequest request{address_, handle, std::move(indices)};
    return run_task(client_ctx_, client_.pull(request, spans_of(*buffers)));
  }

  // Returns once the server thread has run what was posted to it before this call (the
  // closes a stop() posted, for one).
  void wait_for_server_thread() {
    std::promise<void> done;
    asio::post(server_ctx_, [&] { done.set_value(); });
    done.get_future().wait();
  }

  void expect_blocks(uint64_t handle, const std::vector<uint32_t>& indices,
                     const std::vector<std::vector<uint8_t>>& buffers) {
    for (size_t i = 0; i < indices.size(); ++i) {
      const auto expected = source_.block(handle, indices[i]);
      EXPECT_TRUE(std::equal(buffers[i].begin(), buffers[i].end(), expected.begin(), expected.end())) << i;
    }
  }

  uint16_t server_block_format_ = 0;  // set by derived fixtures before SetUp
  FakeBlockSource source_;
  asio::io_context server_ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{server_ctx_.get_executor()};
  std::unique_ptr<TcpKvServer> server_;
  std::thread server_thread_;
  std::string address_;
  asio::io_context client_ctx_;
  TcpKvTransport client_{client_ctx_.get_executor()};
};

TEST_F(TcpTransportTest, RoundTripOfRandomBlocks) {
  const uint64_t handle = source_.add(16, 4096 + 16, 1);
  const std::vector<uint32_t> indices = {3, 0, 15, 7, 7, 9};
  std::vector<std::vector<uint8_t>> buffers;
  std::atomic<int64_t> progress{0};
  buffers.assign(indices.size(), std::vector<uint8_t>(4112));
  PullRequest request{address_, handle, indices};
  request.bytes_received = &progress;
  Result<PullResult> r = run_task(client_ctx_, client_.pull(request, spans_of(buffers)));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, 6 * 4112);
  EXPECT_EQ(progress.load(), 6 * 4112);
  EXPECT_TRUE(verify_checksums(request, spans_of(buffers), r->checksums).ok());
  expect_blocks(handle, indices, buffers);
}

TEST_F(TcpTransportTest, ManyLargeBlocksStreamAndTheConnectionIsReused) {
  const uint64_t handle = source_.add(64, size_t{512} << 10, 2);
  std::vector<uint32_t> indices(64);
  for (uint32_t i = 0; i < 64; ++i) indices[i] = 63 - i;
  std::vector<std::vector<uint8_t>> buffers;
  for (int round = 0; round < 2; ++round) {
    Result<PullResult> r = pull(handle, indices, size_t{512} << 10, &buffers);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->bytes, int64_t{32} << 20);
    EXPECT_TRUE(verify_checksums(PullRequest{address_, handle, indices}, spans_of(buffers), r->checksums).ok());
    expect_blocks(handle, indices, buffers);
  }
  EXPECT_EQ(client_.num_idle_connections(address_), 1u);
  EXPECT_EQ(server_->num_connections(), 1u);
}

TEST_F(TcpTransportTest, EmptyPullChecksTheHandle) {
  std::vector<std::vector<uint8_t>> buffers;
  const uint64_t handle = source_.add(1, 8, 3);
  Result<PullResult> r = pull(handle, {}, 8, &buffers);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->bytes, 0);
  EXPECT_EQ(pull(handle + 1, {}, 8, &buffers).status().code(), StatusCode::kNotFound);
}

TEST_F(TcpTransportTest, SourceErrorsKeepTheConnectionUsable) {
  const uint64_t handle = source_.add(4, 256, 3);
  std::vector<std::vector<uint8_t>> buffers;
  Result<PullResult> r = pull(12345, {0}, 256, &buffers);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), fmt::format("kv pull from {} handle 12345: handle 12345: not pinned", address_));
  r = pull(handle, {1, 4}, 256, &buffers);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            fmt::format("kv pull from {} handle {}: index: must be < 4 (blocks of handle {}); got 4", address_, handle,
                        handle));
  r = pull(handle, {2, 1}, 256, &buffers);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_blocks(handle, {2, 1}, buffers);
  EXPECT_EQ(server_->num_connections(), 1u);
}

TEST_F(TcpTransportTest, WrongDestinationSizeIsRejected) {
  const uint64_t handle = source_.add(2, 256, 4);
  std::vector<std::vector<uint8_t>> buffers;
  Result<PullResult> r = pull(handle, {0, 1}, 255, &buffers);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), fmt::format("kv pull from {} handle {}: dest[0]: 255 bytes; the source's blocks "
                                              "are 256 bytes",
                                              address_, handle));
  EXPECT_TRUE(pull(handle, {0, 1}, 256, &buffers).ok());
}

// A server whose blocks are F16 values.
class TcpBlockFormatTest : public TcpTransportTest {
 protected:
  TcpBlockFormatTest() { server_block_format_ = wire::block_format_of(Dtype::kF16); }
};

// F16 and BF16 blocks have the same size: only the format on the wire tells them apart.
TEST_F(TcpBlockFormatTest, AClientKeepingAnotherKvDtypeRefusesTheBlocks) {
  const uint64_t handle = source_.add(2, 256, 4);
  const std::vector<uint32_t> indices = {0, 1};
  std::vector<std::vector<uint8_t>> buffers(2, std::vector<uint8_t>(256));
  TcpKvTransport bf16_client(client_ctx_.get_executor(), {.block_format = wire::block_format_of(Dtype::kBF16)});
  Result<PullResult> r = run_task(client_ctx_, bf16_client.pull({address_, handle, indices}, spans_of(buffers)));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), fmt::format("kv pull from {} handle {}: the source's blocks are F16 values; this "
                                              "node keeps BF16: nodes must share the KV dtype",
                                              address_, handle));
  TcpKvTransport f16_client(client_ctx_.get_executor(), {.block_format = wire::block_format_of(Dtype::kF16)});
  r = run_task(client_ctx_, f16_client.pull({address_, handle, indices}, spans_of(buffers)));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_blocks(handle, indices, buffers);
  EXPECT_TRUE(pull(handle, indices, 256, &buffers).ok());  // a client expecting nothing takes any
}

TEST(WireFormatTest, BlockFormatNames) {
  EXPECT_EQ(wire::block_format_name(wire::block_format_of(Dtype::kF32)), "F32");
  EXPECT_EQ(wire::block_format_name(0), "unsaid");
  EXPECT_EQ(wire::block_format_name(9), "unknown (9)");
  const wire::ResponseHeaderBytes bytes = wire::encode_response_header(StatusCode::kOk, 3, 512, 0, 3);
  EXPECT_EQ(wire::decode_response_header(bytes)->block_format, 3);
}

TEST_F(TcpTransportTest, ReleaseReachesTheSource) {
  const uint64_t handle = source_.add(2, 64, 5);
  EXPECT_TRUE(run_task(client_ctx_, client_.release(address_, handle)).ok());
  EXPECT_EQ(source_.released(), std::vector<uint64_t>{handle});
  std::vector<std::vector<uint8_t>> buffers;
  EXPECT_EQ(pull(handle, {0}, 64, &buffers).status().code(), StatusCode::kNotFound);
}

struct MalformedCase {
  const char* name;
  std::vector<uint8_t> frame;
  std::string message;
};

std::vector<uint8_t> with_header(uint16_t type, uint32_t payload_bytes, std::vector<uint8_t> payload) {
  const wire::RequestHeaderBytes h = wire::encode_request_header(type, payload_bytes);
  payload.insert(payload.begin(), h.begin(), h.end());
  return payload;
}

std::vector<MalformedCase> malformed_cases() {
  std::vector<uint8_t> bad_magic = wire::encode_pull_request(1, std::vector<uint32_t>{0});
  bad_magic[3] = 'X';
  std::vector<uint8_t> bad_version = wire::encode_release_request(1);
  bad_version[4] = 7;
  std::vector<uint8_t> inconsistent = wire::encode_pull_request(1, std::vector<uint32_t>{0, 1, 2});
  inconsistent[12 + 8] = 5;  // num_blocks 5, payload holds 3 indices
  std::vector<uint8_t> too_many = wire::encode_pull_request(1, std::vector<uint32_t>(2000, 0));
  return {
      {"bad magic", bad_magic, "magic: must be \"PPDK\" (50 50 44 4b); got 50 50 44 58"},
      {"bad version", bad_version, "version: must be 2; got 7"},
      {"bad type", with_header(9, 8, std::vector<uint8_t>(8)),
       "type: must be 1 (PULL), 2 (RELEASE) or 3 (HELLO); got 9"},
      {"oversized", with_header(1, 0xffffffffu, {}), "payload_length: must be <= 1048564; got 4294967295"},
      {"inconsistent", inconsistent, "num_blocks: 5 needs payload_length 32; got 24"},
      {"too many blocks", too_many, "num_blocks: must be <= 1024; got 2000"},
      {"short release", with_header(2, 4, std::vector<uint8_t>(4)), "payload_length: RELEASE must be 8; got 4"},
  };
}

TEST_F(TcpTransportTest, MalformedFramesGetAClearErrorAndTheServerGoesOn) {
  const uint64_t handle = source_.add(2, 128, 6);
  const SourceAddress address = parse_source_address(address_).value();
  for (const MalformedCase& c : malformed_cases()) {
    SCOPED_TRACE(c.name);
    asio::io_context raw_ctx;
    tcp::socket raw(raw_ctx);
    raw.connect(tcp::endpoint(asio::ip::make_address(address.host), address.port));
    asio::write(raw, asio::buffer(c.frame));
    wire::ResponseHeaderBytes header_bytes;
    asio::read(raw, asio::buffer(header_bytes));
    const wire::ResponseHeader header = wire::decode_response_header(header_bytes).value();
    EXPECT_EQ(header.code, StatusCode::kInvalidArgument);
    std::string message(header.message_bytes, '\0');
    asio::read(raw, asio::buffer(message));
    EXPECT_EQ(message, c.message);
    boost::system::error_code ec;
    std::array<uint8_t, 1> more;
    asio::read(raw, asio::buffer(more), ec);
    EXPECT_EQ(ec, asio::error::eof) << "the server closes a connection whose framing broke";
    std::vector<std::vector<uint8_t>> buffers;
    EXPECT_TRUE(pull(handle, {1, 0}, 128, &buffers).ok());
  }
}

TEST_F(TcpTransportTest, ServerStopMidTransferGivesUnavailable) {
  // 1 GiB out of one 1 MiB block named 1024 times, into one 1 MiB buffer: far longer than
  // the time it takes to stop the server once the first bytes have landed.
  const uint64_t handle = source_.add(1, size_t{1} << 20, 7);
  std::vector<uint8_t> buffer(size_t{1} << 20);
  const std::vector<std::span<uint8_t>> dest(1024, std::span<uint8_t>(buffer));
  std::atomic<int64_t> progress{0};
  PullRequest request{address_, handle, std::vector<uint32_t>(1024, 0)};
  request.bytes_received = &progress;
  auto stop_after_first_bytes = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (progress.load() == 0) {
      timer.expires_after(std::chrono::microseconds(100));
      co_await timer.async_wait(asio::use_awaitable);
    }
    server_->stop();
  };
  using asio::experimental::awaitable_operators::operator&&;
  auto both = [&]() -> asio::awaitable<Result<PullResult>> {
    co_return co_await (client_.pull(request, dest) && stop_after_first_bytes());
  };
  Result<PullResult> r = run_task(client_ctx_, both());
  ASSERT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
  EXPECT_TRUE(r.status().message().starts_with(
      fmt::format("kv pull from {} handle {}: connection lost after ", address_, handle)))
      << r.status().message();
  EXPECT_NE(r.status().message().find(" of 1073741824 bytes: "), std::string::npos) << r.status().message();
  std::vector<std::vector<uint8_t>> buffers;
  Result<PullResult> after = pull(handle, {0}, size_t{1} << 20, &buffers);
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(after.status().message().find(": connect: "), std::string::npos) << after.status().message();
}

TEST_F(TcpTransportTest, StalePooledConnectionIsRetriedOnce) {
  const uint64_t handle = source_.add(2, 64, 8);
  std::vector<std::vector<uint8_t>> buffers;
  ASSERT_TRUE(pull(handle, {0}, 64, &buffers).ok());
  ASSERT_EQ(client_.num_idle_connections(address_), 1u);
  // A new server on the same port: the pooled connection's peer is gone.
  const uint16_t port = parse_source_address(address_).value().port;
  server_->stop();
  wait_for_server_thread();
  TcpServerOptions options;
  options.port = port;
  TcpKvServer second(server_ctx_.get_executor(), &source_, options);
  ASSERT_TRUE(second.start().ok());
  Result<PullResult> r = pull(handle, {1}, 64, &buffers);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_blocks(handle, {1}, buffers);
  second.stop();
}

TEST_F(TcpTransportTest, DeadlineCancelsAPullFromASilentPeer) {
  // A peer that accepts and reads but never answers.
  tcp::acceptor silent(client_ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket accepted(client_ctx_);
  silent.async_accept(accepted, [](boost::system::error_code) {});
  const std::string address = fmt::format("127.0.0.1:{}", silent.local_endpoint().port());
  std::vector<uint8_t> buffer(64);
  const std::vector<std::span<uint8_t>> dest = {std::span<uint8_t>(buffer)};
  const PullRequest request{address, 42, {0}};
  Result<PullResult> r =
      run_task(client_ctx_, pull_with_deadline(client_, request, dest, std::chrono::milliseconds(20)));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(),
            fmt::format("kv pull from {} handle 42: exceeded deadline of 20 ms after 0 bytes", address));
  EXPECT_EQ(client_.num_idle_connections(address), 0u) << "a cancelled connection is never reused";
}

TEST_F(TcpTransportTest, ConnectionRefusedIsUnavailable) {
  tcp::acceptor probe(client_ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string address = fmt::format("127.0.0.1:{}", probe.local_endpoint().port());
  probe.close();
  std::vector<uint8_t> buffer(8);
  const std::vector<std::span<uint8_t>> dest = {std::span<uint8_t>(buffer)};
  Result<PullResult> r = run_task(client_ctx_, client_.pull(PullRequest{address, 1, {0}}, dest));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), fmt::format("kv pull from {} handle 1: connect: Connection refused", address));
}

TEST(SourceAddressTest, ParsesAndRejects) {
  EXPECT_EQ(parse_source_address("10.0.0.1:8000").value().host, "10.0.0.1");
  EXPECT_EQ(parse_source_address("[::1]:9").value().host, "::1");
  EXPECT_EQ(parse_source_address("node-a:65535").value().port, 65535);
  EXPECT_EQ(parse_source_address("nohost").status().message(), "source: must be \"host:port\"; got \"nohost\"");
  EXPECT_EQ(parse_source_address("h:0").status().message(), "source: port must be in [1, 65535]; got \"h:0\"");
  EXPECT_EQ(parse_source_address("h:12x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_source_address("::1:80").status().code(), StatusCode::kInvalidArgument);
}

TEST(TcpServerOptionsTest, ValidationNamesTheField) {
  TcpServerOptions o;
  o.bind_address = "localhost";
  EXPECT_EQ(validate_tcp_server_options(o).message(), "bind_address: must be an IP address literal; got \"localhost\"");
  o = {};
  o.max_blocks_per_request = 0;
  EXPECT_EQ(validate_tcp_server_options(o).message(), "max_blocks_per_request: must be in [1, 16777216]; got 0");
  o = {};
  o.max_frame_bytes = 1000;
  EXPECT_EQ(validate_tcp_server_options(o).message(),
            "max_frame_bytes: must be >= 262168 (a PULL of max_blocks_per_request 65536 blocks); got 1000");
}

}  // namespace
}  // namespace ppd::transfer
