// TcpKvServer: the accept loop and one coroutine per connection (see tcp_transport.h).
#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "ppd/common/secret.h"
#include "ppd/transfer/tcp_transport.h"
#include "ppd/transfer/transfer_util.h"
#include "ppd/transfer/wire_format.h"

namespace ppd::transfer {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr size_t kMaxDrainBytes = size_t{1} << 20;

// Calls end_send() for a successful resolve() when it goes out of scope.
struct SendLease {
  BlockSource* source;
  uint64_t handle;
  SendLease(BlockSource* s, uint64_t h) : source(s), handle(h) {}
  SendLease(const SendLease&) = delete;
  SendLease& operator=(const SendLease&) = delete;
  ~SendLease() { source->end_send(handle); }
};

// Reads exactly `buffer` unless `timeout_ms` passes first (then timed_out; the read is cancelled).
asio::awaitable<boost::system::error_code> read_within(tcp::socket& socket, asio::mutable_buffer buffer,
                                                       int64_t timeout_ms) {
  asio::steady_timer timer(socket.get_executor(), std::chrono::milliseconds(timeout_ms));
  auto done = co_await (asio::async_read(socket, buffer, kTuple) || timer.async_wait(kTuple));
  if (done.index() == 1) co_return asio::error::timed_out;
  co_return std::get<0>(std::get<0>(done));
}

// Answers a request with `status` (OK or an error) and no blocks. Returns false when the
// write failed.
asio::awaitable<bool> write_status(tcp::socket& socket, const Status& status) {
  const std::string message = status.message().substr(0, wire::kMaxMessageBytes);
  const wire::ResponseHeaderBytes header =
      wire::encode_response_header(status.code(), 0, 0, static_cast<uint32_t>(message.size()));
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(header), asio::buffer(message)};
  auto [ec, n] = co_await asio::async_write(socket, buffers, kTuple);
  co_return !ec;
}

// Answers a request whose framing is broken, then closes the sending side and discards what
// the peer still sends (bounded), so that the peer reads the answer before the close.
asio::awaitable<void> reject(tcp::socket& socket, const Status& status, int64_t timeout_ms) {
  if (!co_await write_status(socket, status)) co_return;
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  std::array<uint8_t, 4096> sink;
  asio::steady_timer timer(socket.get_executor(), std::chrono::milliseconds(timeout_ms));
  for (size_t drained = 0; drained < kMaxDrainBytes;) {
    auto done = co_await (socket.async_read_some(asio::buffer(sink), kTuple) || timer.async_wait(kTuple));
    if (done.index() == 1) co_return;
    auto [ec, n] = std::get<0>(done);
    if (ec) co_return;
    drained += n;
  }
}

// All blocks of one handle have one size; a source breaking that is a bug on this node.
Result<uint64_t> uniform_block_bytes(std::span<const std::span<const uint8_t>> spans, size_t num_requested) {
  if (spans.size() != num_requested) {
    return internal_error("block source: resolved {} blocks for {} indices", spans.size(), num_requested);
  }
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].size() != spans[0].size()) {
      return internal_error("block source: block sizes differ: block 0 has {} bytes, block {} has {}", spans[0].size(),
                            i, spans[i].size());
    }
  }
  return spans.empty() ? uint64_t{0} : uint64_t{spans[0].size()};
}

// Sends the OK header and the blocks, in gather writes of up to kBatchBytes of data.
asio::awaitable<bool> stream_blocks(tcp::socket& socket, std::span<const std::span<const uint8_t>> spans,
                                    std::span<const uint32_t> indices, uint64_t block_bytes, uint16_t block_format) {
  const wire::ResponseHeaderBytes response =
      wire::encode_response_header(StatusCode::kOk, static_cast<uint32_t>(spans.size()), block_bytes, 0, block_format);
  std::vector<wire::BlockHeaderBytes> headers;
  std::vector<asio::const_buffer> buffers;
  size_t begin = 0;
  do {
    const size_t end = batch_end(spans, begin, kBatchBytes);
    headers.resize(end - begin);  // sized before taking buffers into it
    buffers.clear();
    if (begin == 0) buffers.push_back(asio::buffer(response));
    for (size_t i = begin; i < end; ++i) {
      headers[i - begin] = wire::encode_block_header(indices[i], block_checksum(spans[i]));
      buffers.push_back(asio::buffer(headers[i - begin]));
      buffers.push_back(asio::buffer(spans[i].data(), spans[i].size()));
    }
    auto [ec, n] = co_await asio::async_write(socket, buffers, TransferAllLarge{}, kTuple);
    if (ec) co_return false;
    begin = end;
  } while (begin < spans.size());
  co_return true;
}

}  // namespace

struct TcpKvServer::State {
  asio::any_io_executor executor;
  BlockSource* source = nullptr;
  TcpServerOptions options;
  std::optional<tcp::acceptor> acceptor;  // on its own strand
  mutable std::mutex mu;
  bool started = false;                                                    // guarded by mu
  bool stopped = false;                                                    // guarded by mu
  uint64_t next_connection_id = 0;                                         // guarded by mu
  std::unordered_map<uint64_t, std::shared_ptr<tcp::socket>> connections;  // guarded by mu

  // Registers a new connection; returns nullopt (and closes it) once stopped.
  std::optional<uint64_t> add_connection(const std::shared_ptr<tcp::socket>& socket);
  void remove_connection(uint64_t id);

  asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  asio::awaitable<void> serve_connection(std::shared_ptr<State> self, std::shared_ptr<tcp::socket> socket);
  asio::awaitable<void> serve_requests(tcp::socket& socket);
  // Each returns whether the connection stays open.
  asio::awaitable<bool> serve_pull(tcp::socket& socket, std::span<const uint8_t> payload);
  asio::awaitable<bool> serve_release(tcp::socket& socket, std::span<const uint8_t> payload);
  asio::awaitable<bool> serve_hello(tcp::socket& socket, std::span<const uint8_t> payload, bool* authenticated);
};

std::optional<uint64_t> TcpKvServer::State::add_connection(const std::shared_ptr<tcp::socket>& socket) {
  std::lock_guard lock(mu);
  if (stopped) {
    boost::system::error_code ignored;
    socket->close(ignored);
    return std::nullopt;
  }
  const uint64_t id = next_connection_id++;
  connections.emplace(id, socket);
  return id;
}

void TcpKvServer::State::remove_connection(uint64_t id) {
  std::lock_guard lock(mu);
  connections.erase(id);
}

asio::awaitable<void> TcpKvServer::State::accept_loop(std::shared_ptr<State> self) {
  for (;;) {
    auto [ec, peer] = co_await acceptor->async_accept(asio::make_strand(executor), kTuple);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off, keep serving
      asio::steady_timer backoff(executor, std::chrono::milliseconds(10));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    auto socket = std::make_shared<tcp::socket>(std::move(peer));
    boost::system::error_code ignored;
    socket->set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(socket->get_executor(), serve_connection(self, socket), asio::detached);
  }
}

asio::awaitable<void> TcpKvServer::State::serve_connection(std::shared_ptr<State> self,
                                                           std::shared_ptr<tcp::socket> socket) {
  const std::optional<uint64_t> id = add_connection(socket);
  if (!id) co_return;
  try {
    co_await serve_requests(*socket);
  } catch (const std::exception&) {
    // Allocation failure or cancellation: drop this connection only; the server goes on.
  }
  boost::system::error_code ignored;
  socket->close(ignored);
  self->remove_connection(*id);
}

asio::awaitable<void> TcpKvServer::State::serve_requests(tcp::socket& socket) {
  const uint32_t max_payload_bytes = options.max_frame_bytes - wire::kRequestHeaderBytes;
  std::vector<uint8_t> payload;
  bool authenticated = options.secret.empty();
  for (;;) {
    wire::RequestHeaderBytes header_bytes;
    if (co_await read_within(socket, asio::buffer(header_bytes), options.idle_timeout_ms)) {
      co_return;  // the peer closed or idled, or stop()
    }
    Result<wire::RequestHeader> header = wire::decode_request_header(header_bytes, max_payload_bytes);
    if (!header.ok()) {
      co_await reject(socket, header.status(), options.read_timeout_ms);
      co_return;
    }
    if (!authenticated && header->type != wire::RequestType::kHello) {
      co_await reject(socket,
                      Status(StatusCode::kUnauthenticated,
                             "the first request must be a HELLO with the "
                             "cluster secret"),
                      options.read_timeout_ms);
      co_return;
    }
    payload.resize(header->payload_bytes);
    if (co_await read_within(socket, asio::buffer(payload), options.read_timeout_ms)) co_return;
    bool keep_open = false;
    if (header->type == wire::RequestType::kHello) {
      keep_open = co_await serve_hello(socket, payload, &authenticated);
    } else if (header->type == wire::RequestType::kPull) {
      keep_open = co_await serve_pull(socket, payload);
    } else {
      keep_open = co_await serve_release(socket, payload);
    }
    if (!keep_open) co_return;
  }
}

asio::awaitable<bool> TcpKvServer::State::serve_hello(tcp::socket& socket, std::span<const uint8_t> payload,
                                                      bool* authenticated) {
  Result<std::string> secret = wire::decode_hello_payload(payload);
  if (!secret.ok()) {
    co_await reject(socket, secret.status(), options.read_timeout_ms);
    co_return false;
  }
  if (!options.secret.empty() && !secret_equals(options.secret, *secret)) {
    co_await reject(socket, Status(StatusCode::kUnauthenticated, "HELLO: wrong cluster secret"),
                    options.read_timeout_ms);
    co_return false;
  }
  *authenticated = true;
  co_return co_await write_status(socket, Status::Ok());
}

asio::awaitable<bool> TcpKvServer::State::serve_pull(tcp::socket& socket, std::span<const uint8_t> payload) {
  Result<wire::PullPayload> pull = wire::decode_pull_payload(payload, options.max_blocks_per_request);
  if (!pull.ok()) {
    co_await reject(socket, pull.status(), options.read_timeout_ms);
    co_return false;
  }
  Result<std::vector<std::span<const uint8_t>>> spans = source->resolve(pull->handle, pull->indices);
  if (!spans.ok()) co_return co_await write_status(socket, spans.status());
  // The send ends however this coroutine ends (an exception or cancellation included).
  const SendLease lease{source, pull->handle};
  Result<uint64_t> block_bytes = uniform_block_bytes(*spans, pull->indices.size());
  if (!block_bytes.ok()) co_return co_await write_status(socket, block_bytes.status());
  co_return co_await stream_blocks(socket, *spans, pull->indices, *block_bytes, options.block_format);
}

asio::awaitable<bool> TcpKvServer::State::serve_release(tcp::socket& socket, std::span<const uint8_t> payload) {
  Result<uint64_t> handle = wire::decode_release_payload(payload);
  if (!handle.ok()) {
    co_await reject(socket, handle.status(), options.read_timeout_ms);
    co_return false;
  }
  source->release(*handle);
  co_return co_await write_status(socket, Status::Ok());
}

Status validate_tcp_server_options(const TcpServerOptions& options) {
  boost::system::error_code ec;
  asio::ip::make_address(options.bind_address, ec);
  if (ec) return invalid_argument("bind_address: must be an IP address literal; got \"{}\"", options.bind_address);
  if (options.idle_timeout_ms < 1 || options.read_timeout_ms < 1) {
    return invalid_argument("idle_timeout_ms and read_timeout_ms: must be >= 1; got {} and {}", options.idle_timeout_ms,
                            options.read_timeout_ms);
  }
  if (options.secret.size() > wire::kMaxHelloPayloadBytes) {
    return invalid_argument("secret: must be at most {} bytes; got {}", wire::kMaxHelloPayloadBytes,
                            options.secret.size());
  }
  if (options.max_blocks_per_request < 1 || options.max_blocks_per_request > (1u << 24)) {
    return invalid_argument("max_blocks_per_request: must be in [1, 16777216]; got {}", options.max_blocks_per_request);
  }
  const uint64_t needed =
      wire::kRequestHeaderBytes + wire::kPullPayloadFixedBytes + 4 * uint64_t{options.max_blocks_per_request};
  if (options.max_frame_bytes < needed) {
    return invalid_argument("max_frame_bytes: must be >= {} (a PULL of max_blocks_per_request {} blocks); got {}",
                            needed, options.max_blocks_per_request, options.max_frame_bytes);
  }
  return Status::Ok();
}

TcpKvServer::TcpKvServer(asio::any_io_executor executor, BlockSource* source, TcpServerOptions options)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->source = source;
  state_->options = std::move(options);
}

TcpKvServer::~TcpKvServer() { stop(); }

namespace {

// Opens, binds and listens; the error names the address.
Status listen_on(tcp::acceptor& acceptor, const TcpServerOptions& options) {
  const tcp::endpoint endpoint(asio::ip::make_address(options.bind_address), options.port);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return unavailable("tcp kv server: listen on {}:{}: {}", options.bind_address, options.port, ec.message());
  return Status::Ok();
}

}  // namespace

Result<uint16_t> TcpKvServer::start() {
  PPD_RETURN_IF_ERROR(validate_tcp_server_options(state_->options));
  std::lock_guard lock(state_->mu);
  if (state_->started) return failed_precondition("tcp kv server: start() called twice");
  if (state_->stopped) return failed_precondition("tcp kv server: start() called after stop()");
  tcp::acceptor& acceptor = state_->acceptor.emplace(asio::make_strand(state_->executor));
  PPD_RETURN_IF_ERROR(listen_on(acceptor, state_->options));
  state_->started = true;
  asio::co_spawn(acceptor.get_executor(), state_->accept_loop(state_), asio::detached);
  return acceptor.local_endpoint().port();
}

void TcpKvServer::stop() {
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    if (!state_->started) return;
    for (const auto& [id, socket] : state_->connections) sockets.push_back(socket);
  }
  std::shared_ptr<State> state = state_;
  asio::dispatch(state->acceptor->get_executor(), [state] {
    boost::system::error_code ignored;
    state->acceptor->close(ignored);
  });
  for (std::shared_ptr<tcp::socket>& socket : sockets) {
    asio::dispatch(socket->get_executor(), [socket] {
      boost::system::error_code ignored;
      socket->close(ignored);
    });
  }
}

size_t TcpKvServer::num_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->connections.size();
}

}  // namespace ppd::transfer
