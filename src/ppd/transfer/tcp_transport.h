// KV transfer over TCP: TcpKvServer serves a BlockSource's pinned blocks on a port, and
// TcpKvTransport pulls them from "host:port" straight into the caller's memory (no
// intermediate copy on either side). Both are thread-safe; every connection is served by
// one coroutine on its own strand, and the client keeps idle connections for reuse.
// Peer input is validated; bad frames get an error response and the connection is closed.
//
// Wire format (version 2; all integers little-endian; a connection carries any number of
// requests in sequence, each answered before the next is read):
//
//   request   = magic "PPDK" (4 bytes) | u16 version = 1 | u16 type | u32 payload_length
//               | payload (payload_length bytes)
//     type 1 PULL:    u64 handle | u32 num_blocks | u32 indices[num_blocks]
//                     (payload_length = 12 + 4 * num_blocks)
//     type 2 RELEASE: u64 handle  (payload_length = 8)
//     type 3 HELLO:   the cluster secret (payload_length <= 1024), answered OK or UNAUTHENTICATED;
//                     a server with a secret takes no other request before a HELLO that matches,
//                     and closes the connection after answering a wrong one
//   response  = magic "PPDR" (4 bytes) | u16 status | u16 block_format | u32 num_blocks
//               | u64 block_bytes | u32 message_length | message (message_length bytes)
//     status is ppd::StatusCode as an integer: 0 OK, 1 INVALID_ARGUMENT, 2 NOT_FOUND,
//     3 RESOURCE_EXHAUSTED, 4 FAILED_PRECONDITION, 5 UNAVAILABLE, 6 DEADLINE_EXCEEDED,
//     7 ABORTED, 8 CANCELLED, 9 DATA_LOSS, 10 UNIMPLEMENTED, 11 INTERNAL, 12 UNAUTHENTICATED. On error
//     num_blocks = block_bytes = 0 and the message (UTF-8, <= 4096 bytes) says why; on OK
//     message_length = 0. A RELEASE is answered by a header with num_blocks = 0.
//     block_format (version 2; reserved = 0 in version 1) says what a PULL OK's block values
//     are: 0 unsaid, 1 F32, 2 F16, 3 BF16 (wire::block_format_of); 0 in other answers. A client
//     that expects one format refuses blocks of another with FAILED_PRECONDITION: F16 and BF16
//     blocks have the same size, so block_bytes alone would not tell them apart.
//   PULL OK   = the response header, then num_blocks times, in request order:
//               u32 index | u32 reserved = 0 | u64 checksum (XXH3-64 of the block's bytes)
//               | block_bytes bytes of block data
//
// Deadlines: a connection with no request for idle_timeout_ms is closed, and a request's
// payload (or the peer's rest, after a rejected frame) must arrive within read_timeout_ms.
// Server rules: wrong magic, version or type, payload_length above max_frame_bytes - 12,
// num_blocks above max_blocks_per_request or disagreeing with payload_length are answered
// with INVALID_ARGUMENT naming the field, the rule and the value, and the connection is
// closed (its framing can no longer be trusted): the server stops sending and discards up to
// 1 MiB of what the peer still sends until it closes, so that the peer can read the answer.
// Errors from the BlockSource (NOT_FOUND for an unknown handle, INVALID_ARGUMENT for an
// index past the handle's blocks) are answered and the connection stays open. The server
// sends blocks with gather writes of up to 1 MiB of data (block headers and data straight
// from the source's memory), so large transfers stream; the client reads them with scatter
// reads into the destination spans.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ppd/transfer/kv_transport.h"

namespace ppd::transfer {

struct TcpServerOptions {
  std::string bind_address = "127.0.0.1";   // an IPv4 or IPv6 address literal
  uint16_t port = 0;                        // 0: an ephemeral port, returned by start()
  uint32_t max_blocks_per_request = 65536;  // in [1, 16777216]
  // Largest request frame (12-byte header + payload) accepted; must hold a PULL of
  // max_blocks_per_request blocks (>= 24 + 4 * max_blocks_per_request).
  uint32_t max_frame_bytes = 1u << 20;
  std::string secret;                // "": none; else the first request must be a matching HELLO
  uint16_t block_format = 0;         // sent in every PULL OK (wire::block_format_of); 0: unsaid
  int64_t idle_timeout_ms = 60'000;  // between requests; >= 1
  int64_t read_timeout_ms = 10'000;  // for the rest of a request once its header came; >= 1
};

// Checks every field; the error names the field, the rule and the value.
Status validate_tcp_server_options(const TcpServerOptions& options);

class TcpKvServer {
 public:
  // REQUIRES: the executor's io_context outlives the server; `source` outlives the server's
  // coroutines, i.e. until the executor has run them to their end after stop() (or its
  // io_context is destroyed).
  TcpKvServer(boost::asio::any_io_executor executor, BlockSource* source, TcpServerOptions options = {});
  ~TcpKvServer();  // stop()
  TcpKvServer(const TcpKvServer&) = delete;
  TcpKvServer& operator=(const TcpKvServer&) = delete;

  // Validates the options, binds, listens and starts accepting on the executor. Returns the
  // bound port. INVALID_ARGUMENT for bad options, UNAVAILABLE when the address cannot be
  // bound, FAILED_PRECONDITION when called twice.
  Result<uint16_t> start();

  // Closes the acceptor and every open connection: transfers in flight break off as if the
  // node had died. Idempotent and thread-safe. The closes run on the sockets' strands, so
  // they take effect once the executor runs them (soon after the call, not within it).
  void stop();

  // Connections open now. Thread-safe.
  size_t num_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct TcpTransportOptions {
  // Idle connections kept per source for reuse; 0 (or less) closes each after use.
  int max_idle_connections_per_source = 4;
  std::string secret;  // "": none; else each new connection starts with a HELLO carrying it
  // The block format this side keeps (wire::block_format_of); a PULL answer naming another
  // (not 0) fails with FAILED_PRECONDITION before any block is read. 0: accept any.
  uint16_t block_format = 0;
};

// Client side of the wire format. Pull errors: INVALID_ARGUMENT for a malformed source or
// destination, UNAVAILABLE when the source cannot be reached or the connection breaks
// ("... connection lost after B of T bytes: <reason>"), CANCELLED when the awaiting
// coroutine is cancelled, DATA_LOSS for a response that breaks the format, and the source's
// own error (e.g. NOT_FOUND) otherwise. A pooled connection that fails before any response
// byte arrives (the server closed it while idle) is retried once on a fresh connection.
class TcpKvTransport final : public KvTransport {
 public:
  // Sockets are created on `executor`, which must run while pulls are in flight.
  // REQUIRES: its io_context outlives the transport (the pool holds sockets).
  explicit TcpKvTransport(boost::asio::any_io_executor executor, TcpTransportOptions options = {});
  // REQUIRES: no pull or release in flight.
  ~TcpKvTransport() override = default;

  boost::asio::awaitable<Result<PullResult>> pull(const PullRequest& request,
                                                  std::span<const std::span<uint8_t>> dest) override;
  boost::asio::awaitable<Status> release(const std::string& source, uint64_t handle) override;

  // Idle pooled connections to `source`. Thread-safe.
  size_t num_idle_connections(const std::string& source) const;

 private:
  struct Lease {
    boost::asio::ip::tcp::socket socket;
    bool pooled = false;  // taken from the idle pool (may have gone stale)
  };

  // An idle pooled connection to `source` (unless fresh_only), else a new one. Errors are
  // prefixed with `context`.
  boost::asio::awaitable<Result<Lease>> acquire(const std::string& source, const std::string& context, bool fresh_only);
  std::optional<boost::asio::ip::tcp::socket> take_idle(const std::string& source);
  void give_back(const std::string& source, boost::asio::ip::tcp::socket socket);

  boost::asio::any_io_executor executor_;
  TcpTransportOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<boost::asio::ip::tcp::socket>> idle_;  // guarded by mu_
};

// Splits "host:port" ("[v6]:port" for IPv6). INVALID_ARGUMENT naming the value otherwise.
struct SourceAddress {
  std::string host;
  uint16_t port = 0;
};
Result<SourceAddress> parse_source_address(const std::string& source);

}  // namespace ppd::transfer
