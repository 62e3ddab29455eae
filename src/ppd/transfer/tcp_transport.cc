// TcpKvTransport: the client side of the wire format in tcp_transport.h.
#include "ppd/transfer/tcp_transport.h"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "ppd/transfer/transfer_util.h"
#include "ppd/transfer/wire_format.h"

namespace ppd::transfer {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One pull or release on one connection: what error messages and the retry decision need.
struct Exchange {
  std::string context;                   // "kv pull from <source> handle <h>"
  std::vector<uint8_t> frame;            // the request frame
  const PullRequest* request = nullptr;  // null for a release
  uint16_t block_format = 0;             // expected in a PULL answer; 0: any
  int64_t total_bytes = 0;               // block bytes expected
  int64_t received_bytes = 0;            // block bytes landed in dest
  bool response_started = false;         // a response byte arrived
  bool reusable = false;                 // the connection ended on a frame boundary

  void start_attempt() {
    received_bytes = 0;
    response_started = false;
    reusable = false;
  }
};

Status cancelled(const Exchange& x) {
  if (x.request == nullptr) return {StatusCode::kCancelled, x.context + ": cancelled"};
  return {StatusCode::kCancelled,
          fmt::format("{}: cancelled after {} of {} bytes", x.context, x.received_bytes, x.total_bytes)};
}

Status connection_lost(const Exchange& x, const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) return cancelled(x);
  if (x.request == nullptr) return unavailable("{}: connection lost: {}", x.context, ec.message());
  return unavailable("{}: connection lost after {} of {} bytes: {}", x.context, x.received_bytes, x.total_bytes,
                     ec.message());
}

// A failure on an idle pooled connection before any answer: the server most likely closed
// it while it sat in the pool, so one retry on a fresh connection is safe (requests are
// idempotent).
bool looks_stale(const Status& status, const Exchange& x, bool pooled) {
  return status.code() == StatusCode::kUnavailable && pooled && !x.response_started;
}

asio::awaitable<Result<wire::ResponseHeader>> send_and_read_header(tcp::socket& socket, Exchange& x) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(x.frame), kTuple);
  if (ec) co_return connection_lost(x, ec);
  wire::ResponseHeaderBytes bytes;
  auto [ec2, n2] = co_await asio::async_read(socket, asio::buffer(bytes), kTuple);
  x.response_started = n2 > 0;
  if (ec2) co_return connection_lost(x, ec2);
  Result<wire::ResponseHeader> header = wire::decode_response_header(bytes);
  if (!header.ok()) co_return header.status().with_context(x.context);
  co_return header;
}

// Reads the message of an error response and returns it as the source's Status.
asio::awaitable<Status> read_error(tcp::socket& socket, const wire::ResponseHeader& header, Exchange& x) {
  std::string message(header.message_bytes, '\0');
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(message), kTuple);
  if (ec) co_return connection_lost(x, ec);
  x.reusable = header.num_blocks == 0;
  co_return Status(header.code, fmt::format("{}: {}", x.context, message));
}

Status check_pull_response(const wire::ResponseHeader& header, const Exchange& x,
                           std::span<const std::span<uint8_t>> dest) {
  if (x.block_format != 0 && header.block_format != 0 && header.block_format != x.block_format) {
    return failed_precondition(
        "{}: the source's blocks are {} values; this node keeps {}: nodes must share the KV dtype", x.context,
        wire::block_format_name(header.block_format), wire::block_format_name(x.block_format));
  }
  if (header.num_blocks != dest.size()) {
    return data_loss("{}: response num_blocks: must be {} (as requested); got {}", x.context, dest.size(),
                     header.num_blocks);
  }
  for (size_t i = 0; i < dest.size(); ++i) {
    if (dest[i].size() != header.block_bytes) {
      return invalid_argument("{}: dest[{}]: {} bytes; the source's blocks are {} bytes", x.context, i, dest[i].size(),
                              header.block_bytes);
    }
  }
  return Status::Ok();
}

// Block bytes (headers excluded) among the first `n_read` bytes of a batch of blocks.
int64_t block_bytes_landed(size_t n_read, std::span<const std::span<uint8_t>> blocks) {
  int64_t landed = 0;
  for (const std::span<uint8_t>& block : blocks) {
    n_read -= std::min(n_read, wire::kBlockHeaderBytes);
    const size_t take = std::min(n_read, block.size());
    landed += static_cast<int64_t>(take);
    n_read -= take;
  }
  return landed;
}

// Reads one batch of blocks (headers and data) straight into dest and records the checksums.
asio::awaitable<Status> read_batch(tcp::socket& socket, Exchange& x, std::span<const std::span<uint8_t>> dest,
                                   size_t begin, std::span<uint64_t> checksums) {
  const size_t end = batch_end(dest, begin, kBatchBytes);
  std::vector<wire::BlockHeaderBytes> headers(end - begin);
  std::vector<asio::mutable_buffer> buffers;
  for (size_t i = begin; i < end; ++i) {
    buffers.push_back(asio::buffer(headers[i - begin]));
    buffers.push_back(asio::buffer(dest[i].data(), dest[i].size()));
  }
  auto [ec, n_read] = co_await asio::async_read(socket, buffers, TransferAllLarge{}, kTuple);
  const int64_t landed = block_bytes_landed(n_read, dest.subspan(begin, end - begin));
  x.received_bytes += landed;
  add_progress(*x.request, landed);
  if (ec) co_return connection_lost(x, ec);
  for (size_t i = begin; i < end; ++i) {
    const wire::BlockHeader h = wire::decode_block_header(headers[i - begin]);
    if (h.index != x.request->indices[i]) {
      co_return data_loss("{}: block {}: response index {}; requested {}", x.context, i, h.index,
                          x.request->indices[i]);
    }
    checksums[i] = h.checksum;
  }
  co_return Status::Ok();
}

asio::awaitable<Result<PullResult>> pull_once(tcp::socket& socket, Exchange& x,
                                              std::span<const std::span<uint8_t>> dest) {
  x.start_attempt();
  PPD_CO_ASSIGN_OR_RETURN(const wire::ResponseHeader header, co_await send_and_read_header(socket, x));
  if (header.code != StatusCode::kOk) co_return co_await read_error(socket, header, x);
  PPD_CO_RETURN_IF_ERROR(check_pull_response(header, x, dest));
  PullResult result;
  result.checksums.resize(dest.size());
  for (size_t begin = 0; begin < dest.size(); begin = batch_end(dest, begin, kBatchBytes)) {
    PPD_CO_RETURN_IF_ERROR(co_await read_batch(socket, x, dest, begin, result.checksums));
  }
  x.reusable = true;
  result.bytes = x.received_bytes;
  co_return result;
}

asio::awaitable<Status> release_once(tcp::socket& socket, Exchange& x) {
  x.start_attempt();
  PPD_CO_ASSIGN_OR_RETURN(const wire::ResponseHeader header, co_await send_and_read_header(socket, x));
  if (header.code != StatusCode::kOk) co_return co_await read_error(socket, header, x);
  if (header.num_blocks != 0) {
    co_return data_loss("{}: response num_blocks: must be 0 for a RELEASE; got {}", x.context, header.num_blocks);
  }
  x.reusable = true;
  co_return Status::Ok();
}

// Presents the cluster secret on a new connection (a HELLO answered OK).
asio::awaitable<Status> say_hello(tcp::socket& socket, const std::string& secret, const std::string& context) {
  Exchange x;
  x.context = context + ": HELLO";
  x.frame = wire::encode_hello_request(secret);
  PPD_CO_ASSIGN_OR_RETURN(const wire::ResponseHeader header, co_await send_and_read_header(socket, x));
  if (header.code != StatusCode::kOk) co_return co_await read_error(socket, header, x);
  co_return Status::Ok();
}

}  // namespace

Result<SourceAddress> parse_source_address(const std::string& source) {
  const size_t colon = source.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return invalid_argument("source: must be \"host:port\"; got \"{}\"", source);
  }
  std::string host = source.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return invalid_argument("source: IPv6 host must be \"[address]\"; got \"{}\"", source);
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return invalid_argument("source: an IPv6 host must be in brackets, \"[address]:port\"; got \"{}\"", source);
  }
  const char* first = source.data() + colon + 1;
  const char* last = source.data() + source.size();
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(first, last, port);
  if (first == last || ec != std::errc() || end != last || port < 1 || port > 65535) {
    return invalid_argument("source: port must be in [1, 65535]; got \"{}\"", source);
  }
  return SourceAddress{std::move(host), static_cast<uint16_t>(port)};
}

TcpKvTransport::TcpKvTransport(asio::any_io_executor executor, TcpTransportOptions options)
    : executor_(std::move(executor)), options_(options) {}

std::optional<tcp::socket> TcpKvTransport::take_idle(const std::string& source) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(source);
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  tcp::socket socket = std::move(it->second.back());
  it->second.pop_back();
  return socket;
}

void TcpKvTransport::give_back(const std::string& source, tcp::socket socket) {
  std::lock_guard lock(mu_);
  std::vector<tcp::socket>& idle = idle_[source];
  if (static_cast<int>(idle.size()) < options_.max_idle_connections_per_source) idle.push_back(std::move(socket));
}

size_t TcpKvTransport::num_idle_connections(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = idle_.find(source);
  return it == idle_.end() ? 0 : it->second.size();
}

asio::awaitable<Result<TcpKvTransport::Lease>> TcpKvTransport::acquire(const std::string& source,
                                                                       const std::string& context, bool fresh_only) {
  if (!fresh_only) {
    if (std::optional<tcp::socket> idle = take_idle(source)) co_return Lease{std::move(*idle), true};
  }
  PPD_CO_ASSIGN_OR_RETURN(const SourceAddress address, parse_source_address(source));
  tcp::resolver resolver(executor_);
  auto [ec, endpoints] = co_await resolver.async_resolve(address.host, std::to_string(address.port),
                                                         tcp::resolver::numeric_service, kTuple);
  if (ec) co_return unavailable("{}: resolve \"{}\": {}", context, address.host, ec.message());
  tcp::socket socket(executor_);
  auto [ec2, endpoint] = co_await asio::async_connect(socket, endpoints, kTuple);
  if (ec2 == asio::error::operation_aborted) co_return Status(StatusCode::kCancelled, context + ": cancelled");
  if (ec2) co_return unavailable("{}: connect: {}", context, ec2.message());
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (!options_.secret.empty()) PPD_CO_RETURN_IF_ERROR(co_await say_hello(socket, options_.secret, context));
  co_return Lease{std::move(socket), false};
}

asio::awaitable<Result<PullResult>> TcpKvTransport::pull(const PullRequest& request,
                                                         std::span<const std::span<uint8_t>> dest) {
  PPD_CO_RETURN_IF_ERROR(check_destinations(request, dest));
  Exchange x;
  x.context = fmt::format("kv pull from {} handle {}", request.source, request.handle);
  x.frame = wire::encode_pull_request(request.handle, request.indices);
  x.request = &request;
  x.block_format = options_.block_format;
  x.total_bytes = total_bytes(dest);
  try {
    for (bool fresh_only = false;; fresh_only = true) {
      PPD_CO_ASSIGN_OR_RETURN(Lease lease, co_await acquire(request.source, x.context, fresh_only));
      Result<PullResult> result = co_await pull_once(lease.socket, x, dest);
      if (x.reusable) give_back(request.source, std::move(lease.socket));
      if (fresh_only || !looks_stale(result.status(), x, lease.pooled)) co_return result;
    }
  } catch (const boost::system::system_error&) {
    // The awaiting coroutine was cancelled between two operations.
  }
  co_return cancelled(x);
}

asio::awaitable<Status> TcpKvTransport::release(const std::string& source, uint64_t handle) {
  Exchange x;
  x.context = fmt::format("kv release to {} handle {}", source, handle);
  x.frame = wire::encode_release_request(handle);
  try {
    for (bool fresh_only = false;; fresh_only = true) {
      PPD_CO_ASSIGN_OR_RETURN(Lease lease, co_await acquire(source, x.context, fresh_only));
      Status status = co_await release_once(lease.socket, x);
      if (x.reusable) give_back(source, std::move(lease.socket));
      if (fresh_only || !looks_stale(status, x, lease.pooled)) co_return status;
    }
  } catch (const boost::system::system_error&) {
    // The awaiting coroutine was cancelled between two operations.
  }
  co_return cancelled(x);
}

}  // namespace ppd::transfer
