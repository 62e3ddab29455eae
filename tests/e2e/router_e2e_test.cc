// The router end to end on TinyStories-656K: `ppd up` clusters under several policies, and
// node and router processes started one by one for the fault and bad-input tests.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "router_process.h"

namespace ppd::testing {
namespace {

namespace fs = std::filesystem;
using boost::beast::http::verb;
using Messages = std::vector<std::pair<std::string, std::string>>;

// The sum of a metric's samples whose line contains every one of `parts`.
double metric_sum(uint16_t port, const std::vector<std::string>& parts) {
  Result<net::HttpResponse> r = http_call(port, verb::get, "/metrics");
  if (!r.ok()) return -1;
  double sum = 0;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#")) continue;
    bool all = true;
    for (const std::string& p : parts) all &= line.find(p) != std::string::npos;
    if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

const std::string kSystem =
    "You are a storyteller for small children. Every story you tell is short, kind and simple. It has a little girl "
    "or a little boy in it, a friendly animal, a small problem and a happy ending. Use easy words that a child of "
    "three or four years can understand, and tell the story in the past tense, one sentence after the other.";
const std::vector<std::string> kUserTurns = {"Tell me a story about a cat and a ball.", "What did the cat do next?",
                                             "Did they find the ball?", "How did the day end?"};

struct Turn {
  std::string text;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;
};

std::vector<Turn> run_conversation(uint16_t port) {
  Messages messages = {{"system", kSystem}};
  std::vector<Turn> turns;
  for (const std::string& user : kUserTurns) {
    messages.emplace_back("user", user);
    int status = 0;
    const nlohmann::json answer = post_json(port, "/v1/chat/completions", chat_body(messages, 48), &status);
    EXPECT_EQ(status, 200) << answer.dump();
    if (status != 200) return turns;
    Turn t{.text = answer["choices"][0]["message"]["content"].get<std::string>(),
           .prompt_tokens = answer["usage"]["prompt_tokens"].get<int>(),
           .completion_tokens = answer["usage"]["completion_tokens"].get<int>(),
           .cached_tokens = answer["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>()};
    messages.emplace_back("assistant", t.text);
    turns.push_back(t);
  }
  return turns;
}

class RouterE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = tinystories();
    if (model_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories-656K is needed";
  }
  // The scratch directories go when the test passes; a failing test keeps them (the
  // processes' logs) for reading. Processes must be stopped by now.
  void TearDown() override {
    if (HasFailure()) return;
    std::error_code ignored;
    for (const fs::path& dir : dirs_) fs::remove_all(dir, ignored);
  }
  // A fresh scratch directory for the logs of the processes a test starts.
  fs::path temp_dir(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("ppd-router-e2e-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    dirs_.push_back(dir);
    return dir;
  }
  std::unique_ptr<PpdProcess> node(const fs::path& dir, const std::string& role, const std::string& name) {
    return std::make_unique<PpdProcess>(
        std::vector<std::string>{"node", "--role", role, "--model", model_, "--name", name, "--port", "0", "--kv-port",
                                 "0", "--threads", "1", "--kv-cache-mib", "64", "--load-report-ms", "20"},
        "ppd node ready", dir, name);
  }
  std::unique_ptr<PpdProcess> router(const fs::path& dir, std::vector<std::string> flags) {
    std::vector<std::string> args = {"router", "--model", model_, "--port", "0", "--node-timeout-ms", "1000"};
    args.insert(args.end(), flags.begin(), flags.end());
    return std::make_unique<PpdProcess>(args, "ppd router ready", dir, "router");
  }
  std::vector<fs::path> dirs_;
  std::string model_;
};

TEST_F(RouterE2eTest, FourTurnConversationGivesTheSameTextUnderPdLocalAndPpd) {
  std::map<std::string, std::vector<Turn>> by_policy;
  for (const std::string policy : {"pd", "local", "ppd"}) {
    const fs::path dir = temp_dir("up-" + policy);
    PpdProcess up({"up", "--model", model_, "--prefill", "1", "--decode", "1", "--policy", policy, "--port", "0",
                   "--threads", "2", "--kv-cache-mib", "64", "--log-dir", dir.string()},
                  "ppd up ready", dir, "up");
    ASSERT_TRUE(up.started()) << up.log();
    wait_healthy(up.http_port(), 2);
    by_policy[policy] = run_conversation(up.http_port());
    ASSERT_EQ(by_policy[policy].size(), kUserTurns.size()) << policy;
    const double local = metric_sum(up.http_port(), {"ppd:router_decisions_total{", "path=\"local\""});
    if (policy == "local") {
      EXPECT_EQ(local, 3) << "turns 2-4 take the local path";
    }
    if (policy == "pd") {
      EXPECT_EQ(local, 0);
    }
  }
  for (size_t i = 0; i < kUserTurns.size(); ++i) {
    EXPECT_FALSE(by_policy["pd"][i].text.empty());
    EXPECT_EQ(by_policy["local"][i].text, by_policy["pd"][i].text) << "turn " << i + 1;
    EXPECT_EQ(by_policy["ppd"][i].text, by_policy["pd"][i].text) << "turn " << i + 1;
  }
  // Local path, turn 2+: the decode node holds the whole history but its last partial block.
  const std::vector<Turn>& local = by_policy["local"];
  for (size_t i = 1; i < local.size(); ++i) {
    const int history = local[i - 1].prompt_tokens + local[i - 1].completion_tokens;
    EXPECT_GE(local[i].cached_tokens, 0.9 * history) << "turn " << i + 1 << ": history " << history;
    std::printf("local turn %zu: cached %d of %d history tokens (%.1f%%)\n", i + 1, local[i].cached_tokens, history,
                100.0 * local[i].cached_tokens / history);
  }
}

// F16 KV end to end: the remote path (pd: every turn's KV over the TCP plane, in F16 blocks)
// gives the tokens of the local path with the same KV dtype.
TEST_F(RouterE2eTest, HalfPrecisionKvConversationGivesTheSameTextRemoteAndLocal) {
  std::map<std::string, std::vector<Turn>> by_policy;
  for (const std::string policy : {"pd", "local"}) {
    const fs::path dir = temp_dir("f16-" + policy);
    PpdProcess up({"up", "--model", model_, "--prefill", "1", "--decode", "1", "--policy", policy, "--port", "0",
                   "--threads", "2", "--kv-cache-mib", "64", "--kv-dtype", "f16", "--log-dir", dir.string()},
                  "ppd up ready", dir, "up");
    ASSERT_TRUE(up.started()) << up.log();
    wait_healthy(up.http_port(), 2);
    by_policy[policy] = run_conversation(up.http_port());
    ASSERT_EQ(by_policy[policy].size(), kUserTurns.size()) << policy;
  }
  for (size_t i = 0; i < kUserTurns.size(); ++i) {
    EXPECT_FALSE(by_policy["pd"][i].text.empty());
    EXPECT_EQ(by_policy["local"][i].text, by_policy["pd"][i].text) << "turn " << i + 1;
  }
}

// Nodes that keep their KV in other dtypes cannot share it: the router uses the first node
// whose facts it reads and rejects the other, naming both precisions; requests still run.
TEST_F(RouterE2eTest, ADecodeNodeWithAnotherKvDtypeIsRejected) {
  const fs::path dir = temp_dir("kv-dtype");
  auto d0 = node(dir, "decode", "d0");
  auto d1 = std::make_unique<PpdProcess>(
      std::vector<std::string>{"node", "--role", "decode", "--model", model_, "--name", "d1", "--port", "0",
                               "--kv-port", "0", "--threads", "1", "--kv-cache-mib", "64", "--kv-dtype", "f16"},
      "ppd node ready", dir, "d1");
  auto r = router(dir, {"--policy", "local", "--decode", d0->http_address() + "," + d1->http_address()});
  std::string log;
  for (int i = 0; i < 200 && log.find("node_rejected") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = r->log();
  }
  ASSERT_NE(log.find("node_rejected"), std::string::npos) << log;
  EXPECT_NE(log.find("with kv_dtype F16"), std::string::npos) << log;
  EXPECT_NE(log.find("with kv_dtype F32"), std::string::npos) << log;
  EXPECT_NE(log.find("nodes must share both to share KV"), std::string::npos) << log;
  wait_healthy(r->http_port(), 1);
  int status = 0;
  const nlohmann::json answer =
      post_json(r->http_port(), "/v1/chat/completions", chat_body({{"user", kUserTurns[0]}}, 8), &status);
  EXPECT_EQ(status, 200) << answer.dump();
}

TEST_F(RouterE2eTest, DecodeKilledMidStreamGivesAnErrorEventAndTheNextTurnRunsOnAnotherDecode) {
  const fs::path dir = temp_dir("kill-decode");
  auto p = node(dir, "prefill", "p0");
  auto d0 = node(dir, "decode", "d0");
  auto d1 = node(dir, "decode", "d1");
  auto r = router(dir, {"--policy", "local", "--prefill", p->http_address(), "--decode",
                        d0->http_address() + "," + d1->http_address()});
  wait_healthy(r->http_port(), 3);
  Messages messages = {{"user", kUserTurns[0]}};
  const nlohmann::json first = post_json(r->http_port(), "/v1/chat/completions", chat_body(messages, 32));
  messages.emplace_back("assistant", first["choices"][0]["message"]["content"].get<std::string>());
  messages.emplace_back("user", kUserTurns[1]);

  PpdProcess* killed = nullptr;
  const SseResult broken =
      post_sse(r->http_port(), "/v1/chat/completions", chat_body(messages, 400, true), [&](const SseResult& so_far) {
        if (killed != nullptr || so_far.events.size() < 3) return true;
        for (PpdProcess* d : {d0.get(), d1.get()}) {
          const nlohmann::json h = nlohmann::json::parse(http_call(d->http_port(), verb::get, "/health")->body);
          if (h["num_running"].get<int>() > 0) killed = d;
        }
        if (killed != nullptr) killed->kill_now();
        return true;
      });
  ASSERT_NE(killed, nullptr);
  ASSERT_FALSE(broken.events.empty());
  EXPECT_TRUE(broken.events.back().contains("error")) << broken.events.back().dump();
  EXPECT_EQ(broken.events.back()["error"]["code"], 503);

  int status = 0;
  const nlohmann::json retried = post_json(r->http_port(), "/v1/chat/completions", chat_body(messages, 16), &status);
  EXPECT_EQ(status, 200) << retried.dump();
  EXPECT_EQ(retried["usage"]["completion_tokens"], 16);
  PpdProcess* survivor = killed == d0.get() ? d1.get() : d0.get();
  EXPECT_GE(metric_sum(survivor->http_port(), {"ppd:node_requests_total{", "outcome=\"ok\""}), 1);
}

TEST_F(RouterE2eTest, OnlyPrefillNodeKilledTurnOneRunsAsALocalFullPrefill) {
  const fs::path dir = temp_dir("kill-prefill");
  auto p = node(dir, "prefill", "p0");
  auto d = node(dir, "decode", "d0");
  auto r = router(dir, {"--policy", "pd", "--prefill", p->http_address(), "--decode", d->http_address()});
  wait_healthy(r->http_port(), 2);
  p->kill_now();
  int status = 0;
  const nlohmann::json answer =
      post_json(r->http_port(), "/v1/chat/completions", chat_body({{"user", kUserTurns[0]}}, 16), &status);
  EXPECT_EQ(status, 200) << answer.dump();
  EXPECT_EQ(answer["usage"]["completion_tokens"], 16);
  EXPECT_EQ(metric_sum(r->http_port(), {"ppd:router_decisions_total{", "path=\"local\""}), 1);
  EXPECT_EQ(metric_sum(r->http_port(), {"ppd:router_requests_total{", "outcome=\"ok\""}), 1);
}

// One mixed node behind a router with an API key, a small body limit and one request at a time.
class RouterApiTest : public RouterE2eTest {
 protected:
  void SetUp() override {
    RouterE2eTest::SetUp();
    if (model_.empty()) return;
    dir_ = temp_dir("api");
    node_ = node(dir_, "mixed", "m0");
    router_ = router(dir_, {"--decode", node_->http_address(), "--api-key", "sekret", "--max-body-bytes", "4096",
                            "--max-active-requests", "1"});
    wait_healthy(router_->http_port(), 1);
  }
  // status and error message of a POST with the right key (unless `headers` says otherwise)
  std::pair<int, std::string> call(const std::string& body, Headers headers = {{"Authorization", "Bearer sekret"}},
                                   const std::string& target = "/v1/chat/completions") {
    Result<net::HttpResponse> r = http_call(router_->http_port(), verb::post, target, body, 60'000, headers);
    EXPECT_TRUE(r.ok());
    const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
    std::string message = j.contains("error") ? j["error"]["message"].get<std::string>() : "";
    return {static_cast<int>(r->status_code), message};
  }
  void TearDown() override {
    router_.reset();
    node_.reset();
    RouterE2eTest::TearDown();
  }
  fs::path dir_;
  std::unique_ptr<PpdProcess> node_, router_;
};

TEST_F(RouterApiTest, BadRequestsGetTheirStatusAndMessage) {
  const std::string good = chat_body({{"user", "Hi"}}, 4).dump();
  EXPECT_EQ(call(good, {}).first, 401);
  EXPECT_EQ(call(good, {{"Authorization", "Bearer wrong"}}),
            std::make_pair(401, std::string("Incorrect API key provided; pass it as \"Authorization: Bearer KEY\"")));
  EXPECT_EQ(call(good).first, 200);
  const auto [json_status, json_message] = call("{\"model\": ");
  EXPECT_EQ(json_status, 400);
  EXPECT_TRUE(json_message.starts_with("request body: invalid JSON: ")) << json_message;
  nlohmann::json unknown_model = chat_body({{"user", "Hi"}}, 4);
  unknown_model["model"] = "gpt-4";
  EXPECT_EQ(call(unknown_model.dump()),
            std::make_pair(404, std::string("model: unknown \"gpt-4\"; served: tinystories-656k")));
  nlohmann::json hot = chat_body({{"user", "Hi"}}, 4);
  hot["temperature"] = 2.5;
  EXPECT_EQ(call(hot.dump()), std::make_pair(400, std::string("temperature: must be in [0, 2]; got 2.5")));
  nlohmann::json zero = chat_body({{"user", "Hi"}}, 0);
  EXPECT_EQ(call(zero.dump()).first, 400);
  nlohmann::json long_output = chat_body({{"user", "Hi"}}, 100000);
  const auto [long_status, long_message] = call(long_output.dump());
  EXPECT_EQ(long_status, 400);
  EXPECT_TRUE(long_message.starts_with("max_tokens: must be in [1, ")) << long_message;
  nlohmann::json big = chat_body({{"user", std::string(5000, 'a')}}, 4);
  EXPECT_EQ(call(big.dump()).first, 413);
  EXPECT_EQ(call(good).first, 200);  // and the router still serves
}

TEST_F(RouterApiTest, ModelsNeedsTheKeyToo) {
  EXPECT_EQ(http_call(router_->http_port(), verb::get, "/v1/models")->status_code, 401u);
  Result<net::HttpResponse> models =
      http_call(router_->http_port(), verb::get, "/v1/models", "", 10'000, {{"Authorization", "Bearer sekret"}});
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(nlohmann::json::parse(models->body)["data"][0]["id"], "tinystories-656k");
}

// One mixed node behind a router that admits one request at a time.
class RouterStreamTest : public RouterE2eTest {
 protected:
  void SetUp() override {
    RouterE2eTest::SetUp();
    if (model_.empty()) return;
    dir_ = temp_dir("stream");
    node_ = node(dir_, "mixed", "m0");
    router_ = router(dir_, {"--decode", node_->http_address(), "--max-active-requests", "1"});
    wait_healthy(router_->http_port(), 1);
  }
  int node_running() {
    return nlohmann::json::parse(http_call(node_->http_port(), verb::get, "/health")->body)["num_running"].get<int>();
  }
  void TearDown() override {
    router_.reset();
    node_.reset();
    RouterE2eTest::TearDown();
  }
  fs::path dir_;
  std::unique_ptr<PpdProcess> node_, router_;
};

TEST_F(RouterStreamTest, StreamsChunksThenUsageThenDone) {
  const SseResult r = post_sse(router_->http_port(), "/v1/chat/completions", chat_body({{"user", "Hi"}}, 12, true));
  ASSERT_TRUE(r.response.ok()) << r.response.status().message();
  ASSERT_TRUE(r.done);
  ASSERT_GE(r.events.size(), 3u);
  EXPECT_EQ(r.events.front()["choices"][0]["delta"]["role"], "assistant");
  const nlohmann::json& usage = r.events.back();
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 12);
  EXPECT_EQ(r.events[r.events.size() - 2]["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(sse_text(r).empty());
}

TEST_F(RouterStreamTest, StopsAtAStopString) {
  nlohmann::json body = {{"model", "tinystories-656k"},
                         {"prompt", "Once upon a time"},
                         {"max_tokens", 40},
                         {"temperature", 0},
                         {"ignore_eos", true}};
  const std::string whole = post_json(router_->http_port(), "/v1/completions", body)["choices"][0]["text"];
  ASSERT_GT(whole.size(), 30u);
  const std::string stop = whole.substr(20, 4);
  body["stop"] = stop;
  const nlohmann::json cut = post_json(router_->http_port(), "/v1/completions", body);
  EXPECT_EQ(cut["choices"][0]["text"], whole.substr(0, whole.find(stop)));
  EXPECT_EQ(cut["choices"][0]["finish_reason"], "stop");
}

// The router counts the prompt on the node until its first token, the request as decoding from
// then, and the request until its end.
TEST_F(RouterStreamTest, ThePromptLeavesTheRoutersCountAtTheFirstTokenAndTheRequestAtTheEnd) {
  using Counts = std::tuple<int, int, int64_t>;  // active, decoding, prefill tokens
  auto counts = [&] {
    const nlohmann::json h = nlohmann::json::parse(http_call(router_->http_port(), verb::get, "/health")->body);
    const nlohmann::json& n = h["nodes"][0];
    return Counts{n["router_active"].get<int>(), n["router_decoding"].get<int>(),
                  n["router_prefill_tokens"].get<int64_t>()};
  };
  bool checked = false;
  const SseResult r = post_sse(router_->http_port(), "/v1/chat/completions", chat_body({{"user", "Hi"}}, 200, true),
                               [&](const SseResult& so_far) {
                                 if (checked || so_far.events.size() < 3) return true;
                                 EXPECT_EQ(counts(), (Counts{1, 1, 0}));
                                 checked = true;
                                 return true;
                               });
  ASSERT_TRUE(r.done);
  EXPECT_TRUE(checked);
  Counts after = counts();  // the router may still be closing the stream
  for (int i = 0; i < 100 && after != Counts{0, 0, 0}; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = counts();
  }
  EXPECT_EQ(after, (Counts{0, 0, 0}));
}

TEST_F(RouterStreamTest, A429WhileFullAndAClientThatLeavesAbortsItsRequest) {
  std::atomic<bool> checked{false};
  const SseResult r = post_sse(router_->http_port(), "/v1/chat/completions", chat_body({{"user", "Hi"}}, 400, true),
                               [&](const SseResult& so_far) {
                                 if (so_far.events.size() < 3) return true;
                                 Result<net::HttpResponse> second =
                                     http_call(router_->http_port(), verb::post, "/v1/chat/completions",
                                               chat_body({{"user", "Hi"}}, 4).dump());
                                 EXPECT_EQ(second->status_code, 429u);
                                 EXPECT_EQ(second->header("Retry-After").value_or(""), "1");
                                 checked = true;
                                 return false;  // leave
                               });
  EXPECT_TRUE(checked);
  EXPECT_FALSE(r.response.ok());
  int running = 1;
  for (int i = 0; i < 100 && running > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running = node_running();
  }
  EXPECT_EQ(running, 0) << "the node still runs the request of a client that left";
}

}  // namespace
}  // namespace ppd::testing
