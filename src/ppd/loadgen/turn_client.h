// One streamed chat-completion request of the load generator, timed chunk by chunk into a
// stats::RequestRecord. Internal to the bench library. The coroutine runs on the caller's
// executor; it always finishes (the request has a deadline) and never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "ppd/loadgen/chat_protocol.h"
#include "ppd/stats/request_record.h"

namespace ppd::loadgen {

using SteadyTime = std::chrono::steady_clock;

// Seconds from `start` to now.
double seconds_since(SteadyTime::time_point start);

struct TurnCall {
  const Endpoint* endpoint = nullptr;
  std::string body;        // chat_request_body()
  std::string api_key;     // "": no Authorization header
  std::string session_id;  // sent as X-Session-ID (the conversation) when not empty
  int64_t timeout_ms = 300'000;
  SteadyTime::time_point start;  // the run's time origin
  int64_t conversation_id = 0;
  int turn = 1;
};

struct TurnOutcome {
  stats::RequestRecord record;
  std::string answer;  // the streamed text, in order
};

// Sends the request and reads its stream. ok when the answer is HTTP 200, the stream ended with
// [DONE] and carried no error event; otherwise record.error says what happened ("timeout after
// N ms", "HTTP 429: ...", the error event's message, a transport error). Output tokens come
// from the usage chunk, or count the content chunks when there is none.
boost::asio::awaitable<TurnOutcome> send_turn(TurnCall call);

}  // namespace ppd::loadgen
