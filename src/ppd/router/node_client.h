// The router's side of a node's internal API (docs/architecture.md §7): a streamed
// /generate or /decode whose NDJSON lines a spawned coroutine reads into a channel (so the
// caller can write each token to its client as it comes, and cancel the call when the
// client leaves), and the one-shot /prefill. Runs on the router's executor; one NodeStream
// is used by one coroutine.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <nlohmann/json.hpp>

#include "ppd/common/ids.h"
#include "ppd/common/status.h"
#include "ppd/net/http_client.h"

namespace ppd::router {

// One output line of /generate or /decode.
struct NodeOutput {
  TokenId token = -1;
  int index = 0;
  std::string finish_reason;  // "" until the last output
  int num_prompt_tokens = 0;
  int num_cached_tokens = 0;
  int num_output_tokens = 0;
  int64_t transfer_bytes = 0;  // the first output of /decode: KV bytes pulled
};

// Parses one line; an {"error": {...}} line becomes its Status (UNAVAILABLE when the code
// is not known), anything malformed INTERNAL naming the node.
Result<NodeOutput> parse_node_output(std::string_view line, std::string_view node);

// The Status of a node's non-2xx answer: its OpenAI error message, prefixed with the node,
// with the code of its HTTP status (400 invalid argument, 404, 429, 503, 504, else internal).
Status status_from_node_error(unsigned http_status, std::string_view body, std::string_view node);

// How long a stream may go without a line before the router gives it up: the node must send
// its first line within first_line_ms and each later one within line_gap_ms, and is given up
// at once when node_alive() turns false (checked every check_ms; its load reports stopped).
struct StreamWatch {
  int64_t first_line_ms = 600'000;
  int64_t line_gap_ms = 60'000;
  int64_t check_ms = 100;
  std::function<bool()> node_alive;  // null: always alive
};

class NodeStream {
 public:
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code, std::string)>;
  // Starts `POST target` with a JSON body on `node` and returns at once.
  static std::shared_ptr<NodeStream> start(boost::asio::any_io_executor executor, const net::HostPort& node,
                                           std::string target, std::string body, int64_t timeout_ms,
                                           StreamWatch watch = {}, const std::string& cluster_secret = "");

  // The next output; nullopt after the last one of a complete stream. Errors: the node's
  // error answer or error line, a broken connection (UNAVAILABLE), a stream that ends
  // without a finished output (UNAVAILABLE), the deadline, a line later than the watch allows
  // (DEADLINE_EXCEEDED) or a node the watch finds dead (UNAVAILABLE).
  boost::asio::awaitable<Result<std::optional<NodeOutput>>> next();
  // Cancels the HTTP exchange: the connection closes and the node aborts the request at
  // its next write. Idempotent.
  void cancel();
  const std::string& node() const { return node_name_; }
  // True once the node answered at all (a status line); false for a failed connection.
  bool node_answered() const { return node_answered_; }
  // True when the node refused the request (a non-2xx answer: draining, full, bad input).
  bool node_refused() const { return node_refused_; }

  NodeStream(boost::asio::any_io_executor executor, std::string node_name, StreamWatch watch = {});  // use start()

 private:
  static constexpr size_t kMaxBufferedLines = 4096;
  Result<std::optional<NodeOutput>> take(boost::system::error_code ec, const std::string& line);
  static boost::asio::awaitable<void> watchdog(std::weak_ptr<NodeStream> weak);
  // Why the watch gives the stream up now, or OK to keep waiting.
  Status check_watch() const;

  Channel lines_;
  boost::asio::cancellation_signal cancel_;
  std::string node_name_;
  Status end_ = Status::Ok();  // how the exchange ended; read after the end marker
  bool finished_ = false;      // a finished output was returned
  bool ended_ = false;
  bool node_answered_ = false;
  bool node_refused_ = false;
  StreamWatch watch_;
  std::chrono::steady_clock::time_point last_line_;  // start() or the node's last line
  bool got_line_ = false;
  bool reader_done_ = false;           // the HTTP exchange ended
  Status watch_error_ = Status::Ok();  // why the watch gave the stream up
};

// POST /release of a handle (5 s deadline); the outcome is only logged (DEBUG).
boost::asio::awaitable<void> release_handle(net::HostPort node, uint64_t handle, std::string cluster_secret);

// POST /prefill; returns the "handle" object of the answer.
boost::asio::awaitable<Result<nlohmann::json>> call_prefill(net::HostPort node, std::string body, int64_t timeout_ms,
                                                            std::string cluster_secret = "");

}  // namespace ppd::router
