#include "ppd/loadgen/load_generator.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "ppd/loadgen/progress_bar.h"
#include "ppd/loadgen/turn_client.h"
#include "ppd/net/asio_util.h"
#include "ppd/net/http_client.h"
#include "ppd/workload/replay.h"

namespace ppd::loadgen {
namespace {

namespace asio = boost::asio;

// A counting semaphore for coroutines on one thread; max_concurrency 0 never blocks.
class Slots {
 public:
  explicit Slots(int num_slots) : num_free_(num_slots), unlimited_(num_slots <= 0) {}

  asio::awaitable<void> acquire() {
    if (unlimited_) co_return;
    if (num_free_ > 0) {
      --num_free_;
      co_return;
    }
    asio::steady_timer wake(co_await asio::this_coro::executor, SteadyTime::time_point::max());
    waiters_.push_back(&wake);
    co_await wake.async_wait(net::kUseTuple);  // cancelled by release(): the slot is handed over
  }

  void release() {
    if (unlimited_) return;
    if (waiters_.empty()) {
      ++num_free_;
      return;
    }
    asio::steady_timer* next = waiters_.front();
    waiters_.pop_front();
    next->cancel();
  }

 private:
  int num_free_ = 0;
  bool unlimited_ = false;
  std::deque<asio::steady_timer*> waiters_;
};

// Everything the conversations share; all on the one thread of the run.
struct Run {
  const Endpoint* endpoint = nullptr;
  const PromptText* text = nullptr;
  const LoadOptions* options = nullptr;
  std::string model;
  SteadyTime::time_point start;
  Slots slots{0};
  ProgressCounts counts;
  int num_conversations_left = 0;
  bool stopping = false;
  LoadResult result;
  asio::signal_set* signals = nullptr;           // cancelled when the last conversation ends
  asio::steady_timer* progress_timer = nullptr;  // likewise
};

void end_conversation(Run& run) {
  if (--run.num_conversations_left > 0) return;
  run.signals->cancel();
  if (run.progress_timer != nullptr) run.progress_timer->cancel();
}

asio::awaitable<void> sleep_until(SteadyTime::time_point when) {
  if (SteadyTime::now() >= when) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(net::kUseTuple);
}

std::vector<ChatMessage> opening_messages(const Run& run, const workload::Conversation& c) {
  std::vector<ChatMessage> messages;
  if (!c.system_text.empty()) {
    messages.push_back({"system", c.system_text});
  } else if (c.system_tokens > 0) {
    messages.push_back({"system", run.text->message(c.system_tokens, static_cast<uint64_t>(c.id) << 16)});
  }
  return messages;
}

std::string user_text(const Run& run, const workload::Conversation& c, size_t turn_index) {
  const workload::Turn& t = c.turns[turn_index];
  if (!t.user_text.empty()) return t.user_text;
  return run.text->message(t.user_tokens, (static_cast<uint64_t>(c.id) << 16) + turn_index + 1);
}

TurnCall make_call(const Run& run, const workload::Conversation& c, size_t turn_index,
                   const std::vector<ChatMessage>& messages) {
  const TurnRequest request{.model = run.model,
                            .messages = &messages,
                            .max_tokens = c.turns[turn_index].output_tokens,
                            .ignore_eos = run.options->ignore_eos,
                            .temperature = run.options->temperature,
                            .seed = run.options->seed};
  return TurnCall{.endpoint = run.endpoint,
                  .body = chat_request_body(request),
                  .api_key = run.options->api_key,
                  .session_id = fmt::format("conversation-{}-{}", run.options->seed, c.id),
                  .timeout_ms = run.options->request_timeout_ms,
                  .start = run.start,
                  .conversation_id = c.id,
                  .turn = static_cast<int>(turn_index) + 1};
}

void store(Run& run, const workload::Conversation& c, stats::RequestRecord record) {
  --run.counts.num_in_flight;
  ++run.counts.num_finished;
  if (!record.ok) ++run.counts.num_failed;
  if (c.id < run.options->num_warmup_conversations) {
    ++run.result.num_warmup_requests;
    return;
  }
  run.result.records.push_back(std::move(record));
}

// Waits until the turn is due (workload::turn_due_ns: its arrival, think time and trace offset);
// false when the run stopped meanwhile or the turn falls past its duration.
asio::awaitable<bool> wait_for_turn(Run& run, const workload::Conversation& c, size_t i, double previous_end_s) {
  const int64_t due_ns = workload::turn_due_ns(c, i, workload::seconds_to_ns(previous_end_s));
  co_await sleep_until(run.start + std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds(due_ns)));
  co_return !run.stopping && !workload::past_duration(run.options->duration_s, seconds_since(run.start));
}

asio::awaitable<void> run_conversation(Run& run, const workload::Conversation& c) {
  std::vector<ChatMessage> messages = opening_messages(run, c);
  double previous_end_s = 0;
  size_t i = 0;
  for (; i < c.turns.size(); ++i) {
    const bool go = co_await wait_for_turn(run, c, i, previous_end_s);
    if (!go) break;
    messages.push_back({"user", user_text(run, c, i)});
    co_await run.slots.acquire();
    ++run.counts.num_in_flight;
    TurnCall call = make_call(run, c, i, messages);  // coroutine rule 1 (docs/decisions/0005)
    TurnOutcome outcome = co_await send_turn(std::move(call));
    run.slots.release();
    const bool ok = outcome.record.ok;
    previous_end_s = outcome.record.end_s;
    store(run, c, std::move(outcome.record));
    if (!ok) {
      ++i;
      break;
    }
    messages.push_back({"assistant", std::move(outcome.answer)});
  }
  run.result.num_skipped_turns += static_cast<int64_t>(c.turns.size() - i);
  run.counts.num_skipped += static_cast<int64_t>(c.turns.size() - i);
  end_conversation(run);
}

asio::awaitable<void> show_progress(Run& run, std::ostream& out) {
  const bool tty = stream_is_terminal(out);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  run.progress_timer = &timer;
  while (run.num_conversations_left > 0) {
    timer.expires_after(std::chrono::milliseconds(tty ? 500 : 10'000));
    co_await timer.async_wait(net::kUseTuple);
    if (run.num_conversations_left > 0) write_progress(out, run.counts, seconds_since(run.start), tty);
  }
  run.progress_timer = nullptr;
  write_progress(out, run.counts, seconds_since(run.start), tty);
  if (tty) out << "\n" << std::flush;
}

}  // namespace

Result<std::string> probe_endpoint(const Endpoint& e, const LoadOptions& o) {
  net::HttpRequestSpec spec{.host = e.host, .port = e.port, .target = e.base_path + "/models", .timeout_ms = 10'000};
  if (!o.api_key.empty()) spec.headers.emplace_back("Authorization", "Bearer " + o.api_key);
  const Result<net::HttpResponse> answer = net::http_request_blocking(std::move(spec));
  if (!answer.ok())
    return unavailable("endpoint {}: GET {}/models failed: {}", e.url, e.base_path, answer.status().message());
  if (answer->status_code != 200) {
    return unavailable("endpoint {}: GET {}/models answered HTTP {}: {}", e.url, e.base_path, answer->status_code,
                       answer->body.substr(0, 300));
  }
  if (!o.model.empty()) return o.model;
  const nlohmann::json j = nlohmann::json::parse(answer->body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() ||
      !j["data"][0].contains("id") || !j["data"][0]["id"].is_string()) {
    return unavailable("endpoint {}: GET {}/models named no model; pass --model", e.url, e.base_path);
  }
  return j["data"][0]["id"].get<std::string>();
}

namespace {

Status check_options(const LoadOptions& o) {
  if (o.max_concurrency < 0) return invalid_argument("max_concurrency: must be >= 0; got {}", o.max_concurrency);
  PPD_RETURN_IF_ERROR(workload::check_replay_options(o.num_warmup_conversations, o.duration_s));
  if (o.request_timeout_ms < 1)
    return invalid_argument("request_timeout_ms: must be >= 1; got {}", o.request_timeout_ms);
  return Status::Ok();
}

void measure_duration(LoadResult* r) {
  if (r->records.empty()) return;
  double first_send = r->records.front().send_s, last_end = r->records.front().end_s;
  for (const stats::RequestRecord& rec : r->records) {
    first_send = std::min(first_send, rec.send_s);
    last_end = std::max(last_end, rec.end_s);
  }
  r->duration_s = std::max(last_end - first_send, 1e-9);
}

}  // namespace

Result<LoadResult> run_load(const Endpoint& endpoint, const workload::Workload& w, const PromptText& text,
                            const LoadOptions& options, std::ostream& progress) {
  PPD_RETURN_IF_ERROR(check_options(options));
  PPD_RETURN_IF_ERROR(workload::validate_workload(w));
  PPD_ASSIGN_OR_RETURN(const std::string model, probe_endpoint(endpoint, options));
  auto run = std::make_unique<Run>();  // outlives the io_context and the coroutine frames it destroys
  asio::io_context io;
  run->endpoint = &endpoint;
  run->text = &text;
  run->options = &options;
  run->model = model;
  run->result.model = model;
  run->slots = Slots(options.max_concurrency);
  run->counts.num_turns = workload::num_turns(w);
  run->num_conversations_left = static_cast<int>(w.conversations.size());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  run->signals = &signals;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    run->result.interrupted = true;
    io.stop();  // requests in flight are dropped; what finished is kept
  });
  run->start = SteadyTime::now();
  for (const workload::Conversation& c : w.conversations) {
    asio::co_spawn(io, run_conversation(*run, c), asio::detached);
  }
  if (options.show_progress) asio::co_spawn(io, show_progress(*run, progress), asio::detached);
  if (w.conversations.empty()) signals.cancel();
  io.run();
  if (run->result.interrupted && options.show_progress) progress << "\ninterrupted; keeping what finished\n";
  measure_duration(&run->result);
  return std::move(run->result);
}

}  // namespace ppd::loadgen
