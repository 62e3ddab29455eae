// The load generator against a fake OpenAI server on loopback: the server answers every turn
// with a text of its own and records what it was sent.
#include "ppd/loadgen/load_generator.h"

#include <cmath>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "ppd/net/asio_util.h"
#include "ppd/net/net_test_util.h"

namespace ppd::loadgen {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;

// The fake server: answers with max_tokens words "w<turn>-<i>" for a history of `turn` user
// messages; a user message containing "FAIL" gets HTTP 500, one containing "SLOW" waits 2 s.
class FakeServer : public net::testing::ServerFixture {
 protected:
  void SetUp() override {
    server().add_route(verb::get, "/v1/models",
                       [](const net::HttpRequest&, net::ResponseWriter& w) -> asio::awaitable<void> {
                         const nlohmann::json body = {{"object", "list"}, {"data", {{{"id", "fake-model"}}}}};
                         co_await w.send_json(status::ok, body);
                       });
    server().add_route(verb::post, "/v1/chat/completions",
                       [this](const net::HttpRequest& r, net::ResponseWriter& w) { return chat(r, w); });
    port_ = start_server();
    endpoint_ = *parse_endpoint(fmt::format("http://127.0.0.1:{}", port_));
  }

  asio::awaitable<void> chat(const net::HttpRequest& request, net::ResponseWriter& w) {
    const nlohmann::json body = nlohmann::json::parse(request.body());
    int turn = 0;
    std::string last_user;
    for (const nlohmann::json& m : body["messages"]) {
      if (m["role"] == "user") ++turn, last_user = m["content"];
    }
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(body);
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    co_await answer(w, body, turn, last_user);
    std::lock_guard lock(mu_);
    --in_flight_;
  }

  asio::awaitable<void> answer(net::ResponseWriter& w, const nlohmann::json& body, int turn, const std::string& user) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(user.find("SLOW") != std::string::npos ? 2000 : 20));
    co_await timer.async_wait(net::kUseTuple);
    if (user.find("FAIL") != std::string::npos) {
      co_await w.send_text(status::internal_server_error, "text/plain", "boom");
      co_return;
    }
    co_await w.begin_stream("text/event-stream");
    const int n = body["max_tokens"].get<int>();
    for (int i = 0; i < n; ++i) {
      const nlohmann::json chunk = {
          {"choices", {{{"delta", {{"content", fmt::format("{}w{}-{}", i ? " " : "", turn, i)}}}}}}};
      const std::string line = "data: " + chunk.dump() + "\n\n";
      co_await w.write_chunk(line);
    }
    const nlohmann::json usage = {
        {"choices", nlohmann::json::array()},
        {"usage",
         {{"prompt_tokens", 10 * turn}, {"completion_tokens", n}, {"prompt_tokens_details", {{"cached_tokens", 5}}}}}};
    const std::string tail = "data: " + usage.dump() + "\n\ndata: [DONE]\n\n";
    co_await w.write_chunk(tail);
    co_await w.end_stream();
  }

  std::vector<nlohmann::json> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

  Result<LoadResult> run(const workload::Workload& w, LoadOptions o = {}) {
    o.show_progress = false;
    std::ostringstream progress;
    return run_load(endpoint_, w, text_, o, progress);
  }

  uint16_t port_ = 0;
  Endpoint endpoint_;
  PromptText text_{nullptr, 1};
  std::mutex mu_;
  std::vector<nlohmann::json> bodies_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

workload::Conversation conversation(int64_t id, double arrival_s, std::vector<int64_t> outputs) {
  workload::Conversation c{.id = id, .arrival_s = arrival_s};
  for (const int64_t n : outputs) c.turns.push_back({.user_tokens = 4, .output_tokens = n});
  return c;
}

TEST_F(FakeServer, TurnsRunInOrderWithTheAnswersAsReturned) {
  const workload::Workload w{.name = "t",
                             .conversations = {conversation(0, 0, {3, 2, 4}), conversation(1, 0.01, {1, 5})}};
  const Result<LoadResult> r = run(w);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->model, "fake-model");
  ASSERT_EQ(r->records.size(), 5u);
  EXPECT_EQ(r->num_skipped_turns, 0);
  for (const stats::RequestRecord& rec : r->records) {
    EXPECT_TRUE(rec.ok) << rec.error;
    EXPECT_EQ(rec.prompt_tokens, 10 * rec.turn);
    EXPECT_EQ(rec.cached_tokens, 5);
    EXPECT_EQ(static_cast<int64_t>(rec.token_times_s.size()), rec.output_tokens);
    EXPECT_GE(rec.first_token_s, rec.send_s);
    EXPECT_EQ(rec.end_s, rec.token_times_s.back());
  }
  // Conversation 0's third request carries both earlier answers exactly as streamed.
  std::optional<nlohmann::json> third;
  for (const nlohmann::json& b : bodies()) {
    if (b["messages"].size() == 5 && b["max_tokens"] == 4) third = b;
  }
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ((*third)["messages"][1]["content"], "w1-0 w1-1 w1-2");
  EXPECT_EQ((*third)["messages"][3]["content"], "w2-0 w2-1");
  EXPECT_EQ((*third)["messages"][4]["content"], text_.message(4, (0ull << 16) + 3));
  EXPECT_EQ((*third)["ignore_eos"], true);
  EXPECT_EQ((*third)["model"], "fake-model");
}

TEST_F(FakeServer, AFailedTurnEndsItsConversation) {
  workload::Conversation c = conversation(0, 0, {2, 2, 2});
  c.turns[1].user_text = "please FAIL";
  const Result<LoadResult> r = run({.name = "t", .conversations = {c}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_TRUE(r->records[0].ok);
  EXPECT_FALSE(r->records[1].ok);
  EXPECT_EQ(r->records[1].error, "HTTP 500: boom");
  EXPECT_EQ(r->num_skipped_turns, 1);
}

TEST_F(FakeServer, ATimeoutIsAFailedRequest) {
  workload::Conversation c = conversation(0, 0, {2});
  c.turns[0].user_text = "SLOW please";
  const Result<LoadResult> r = run({.name = "t", .conversations = {c}}, {.request_timeout_ms = 200});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_FALSE(r->records[0].ok);
  EXPECT_EQ(r->records[0].error, "timeout after 200 ms");
}

TEST_F(FakeServer, ConcurrencyLimitAndWarmup) {
  workload::Workload w{.name = "t"};
  for (int i = 0; i < 8; ++i) w.conversations.push_back(conversation(i, 0, {2, 2}));
  const Result<LoadResult> r = run(w, {.max_concurrency = 2, .num_warmup_conversations = 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records.size(), 10u);
  EXPECT_EQ(r->num_warmup_requests, 6);
  for (const stats::RequestRecord& rec : r->records) EXPECT_GE(rec.conversation_id, 3);
  std::lock_guard lock(mu_);
  EXPECT_EQ(max_in_flight_, 2);
}

TEST_F(FakeServer, ArrivalsAndThinkTimesAreKept) {
  workload::Conversation c = conversation(0, 0.2, {1, 1});
  c.turns[1].think_time_s = 0.3;
  const Result<LoadResult> r = run({.name = "t", .conversations = {c}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_GE(r->records[0].send_s, 0.2);
  EXPECT_GE(r->records[1].send_s, r->records[0].end_s + 0.3);
}

TEST(LoadGeneratorTest, AnUnreachableEndpointIsAnError) {
  const Endpoint e = *parse_endpoint("http://127.0.0.1:1");
  const PromptText text(nullptr, 0);
  std::ostringstream progress;
  const workload::Workload w{.name = "t", .conversations = {conversation(0, 0, {1})}};
  const Result<LoadResult> r = run_load(e, w, text, {}, progress);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.status().message().starts_with("endpoint http://127.0.0.1:1: GET /v1/models failed: "))
      << r.status().message();
}

TEST(LoadGeneratorTest, BadOptionsAreErrors) {
  const Endpoint e = *parse_endpoint("http://127.0.0.1:1");
  const PromptText text(nullptr, 0);
  std::ostringstream progress;
  const workload::Workload w{.name = "t", .conversations = {conversation(0, 0, {1})}};
  EXPECT_EQ(run_load(e, w, text, {.max_concurrency = -1}, progress).status().message(),
            "max_concurrency: must be >= 0; got -1");
  // The simulator's client checks these alike (workload::check_replay_options).
  EXPECT_EQ(run_load(e, w, text, {.duration_s = std::nan("")}, progress).status().message(),
            "duration_s: must be >= 0; got nan");
  EXPECT_EQ(run_load(e, w, text, {.num_warmup_conversations = -2}, progress).status().message(),
            "warmup: must be >= 0; got -2");
}

}  // namespace
}  // namespace ppd::loadgen
