// The KV server with a cluster secret, on loopback: only a connection that presents the secret
// in a HELLO may pull or release; a wrong or missing one is refused and closed; and an idle
// connection is closed after the idle deadline.
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "ppd/transfer/tcp_transport.h"
#include "ppd/transfer/transfer_test_util.h"
#include "ppd/transfer/wire_format.h"

namespace ppd::transfer {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr char kSecret[] = "kv-cluster-secret-0123456789";

class TcpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TcpServerOptions options{.secret = kSecret, .idle_timeout_ms = 200, .read_timeout_ms = 200};
    server_ = std::make_unique<TcpKvServer>(server_ctx_.get_executor(), &source_, options);
    Result<uint16_t> port = server_->start();
    ASSERT_TRUE(port.ok()) << port.status().to_string();
    port_ = *port;
    server_thread_ = std::thread([this] { server_ctx_.run(); });
  }
  void TearDown() override {
    server_->stop();
    server_ctx_.stop();
    server_thread_.join();
  }

  Status pull_with(const std::string& secret, uint64_t handle) {
    asio::io_context ctx;
    TcpKvTransport client(ctx.get_executor(), TcpTransportOptions{.secret = secret});
    std::vector<std::vector<uint8_t>> buffers(1, std::vector<uint8_t>(64));
    const PullRequest request{fmt::format("127.0.0.1:{}", port_), handle, {0}};
    return run_task(ctx, client.pull(request, spans_of(buffers))).status();
  }

  // Sends `frame` on a raw connection; returns the answer's code and message, and whether the
  // server closed the connection after it.
  struct Answer {
    StatusCode code = StatusCode::kOk;
    std::string message;
    bool closed = false;
  };
  Answer raw_exchange(const std::vector<uint8_t>& frame) {
    asio::io_context ctx;
    tcp::socket raw(ctx);
    raw.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_));
    asio::write(raw, asio::buffer(frame));
    wire::ResponseHeaderBytes header_bytes;
    asio::read(raw, asio::buffer(header_bytes));
    const wire::ResponseHeader header = wire::decode_response_header(header_bytes).value();
    Answer a{.code = header.code, .message = std::string(header.message_bytes, '\0')};
    asio::read(raw, asio::buffer(a.message));
    boost::system::error_code ec;
    std::array<uint8_t, 1> more;
    asio::read(raw, asio::buffer(more), ec);
    a.closed = ec == asio::error::eof;
    return a;
  }

  FakeBlockSource source_;
  asio::io_context server_ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{server_ctx_.get_executor()};
  std::unique_ptr<TcpKvServer> server_;
  std::thread server_thread_;
  uint16_t port_ = 0;
};

TEST_F(TcpAuthTest, OnlyTheSecretOpensTheServer) {
  const uint64_t handle = source_.add(1, 64, 3);
  EXPECT_TRUE(pull_with(kSecret, handle).ok());
  const Status none = pull_with("", handle);
  EXPECT_EQ(none.code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(none.message().ends_with("the first request must be a HELLO with the cluster secret")) << none.message();
  const Status wrong = pull_with("another-secret-0123456789", handle);
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(wrong.message().ends_with("HELLO: wrong cluster secret")) << wrong.message();
}

TEST_F(TcpAuthTest, ARawReleaseWithoutTheSecretIsRefusedAndReleasesNothing) {
  const uint64_t handle = source_.add(1, 64, 3);
  const Answer a = raw_exchange(wire::encode_release_request(handle));
  EXPECT_EQ(a.code, StatusCode::kUnauthenticated);
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(source_.released().empty());
  Answer hello = raw_exchange(wire::encode_hello_request("guess-0123456789abcdef"));
  EXPECT_EQ(hello.code, StatusCode::kUnauthenticated);
  EXPECT_TRUE(hello.closed);
  EXPECT_TRUE(pull_with(kSecret, handle).ok());
}

TEST_F(TcpAuthTest, AnIdleConnectionIsClosed) {
  asio::io_context ctx;
  tcp::socket raw(ctx);
  raw.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_));
  boost::system::error_code ec;
  std::array<uint8_t, 1> byte;
  asio::read(raw, asio::buffer(byte), ec);  // blocks until the server closes (200 ms idle)
  EXPECT_EQ(ec, asio::error::eof);
}

}  // namespace
}  // namespace ppd::transfer
