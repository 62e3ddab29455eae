// Nodes as separate processes on loopback, KV moving over the TCP transport: 3-turn greedy
// conversations give the same tokens on the remote path (full and delta transfer) and the
// local path; bad input gets clear errors while the node keeps serving; a prefill node
// killed mid-transfer, a decode node killed mid-decode and a handle nobody pulls all end
// in an error or a released pin, with no block leaked on the surviving node.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "node_process.h"

namespace ppd::testing {
namespace {

namespace fs = std::filesystem;
using boost::beast::http::verb;
using nlohmann::json;

constexpr int kBlockSize = 16;

std::vector<int> random_ids(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(3, 1999);
  std::vector<int> ids(static_cast<size_t>(n));
  for (int& x : ids) x = dist(rng);
  return ids;
}

json greedy(int max_tokens) { return {{"temperature", 0}, {"max_tokens", max_tokens}, {"ignore_eos", true}}; }

class NodeE2eTest : public ::testing::Test {
 protected:
  // Presets (`small`) are synthesized once per suite into this cache directory.
  static void SetUpTestSuite() {
    cache_dir() = fs::temp_directory_path() / ("ppd-node-e2e-cache-" + std::to_string(::getpid()));
    ::setenv("PPD_CACHE_DIR", cache_dir().c_str(), 1);
  }
  static void TearDownTestSuite() { fs::remove_all(cache_dir()); }
  static fs::path& cache_dir() {
    static fs::path dir;
    return dir;
  }

  void SetUp() override {
    const char* shared = std::getenv("PPD_SHARED_DIR");
    if (shared == nullptr || *shared == '\0') GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
    model_ = std::string(shared) + "/models/tinystories-656k";
    dir_ = fs::temp_directory_path() / ("ppd-node-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<NodeProcess> start(const std::string& name, const std::string& role, const std::string& extra = "",
                                     const std::string& model = "") {
    return std::make_unique<NodeProcess>(
        PPD_BINARY, "--role " + role + " --model '" + (model.empty() ? model_ : model) + "' --kv-cache-mib 16 " + extra,
        dir_, name);
  }

  // Prefill on P; returns the handle (or null json, with a test failure).
  json prefill(const NodeProcess& p, const json& req) {
    Result<net::HttpResponse> r = http_call(p.http_port(), verb::post, "/prefill", req.dump());
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status_code, 200u) << r->body;
    return json::parse(r->body)["handle"];
  }

  json health(const NodeProcess& n) {
    Result<net::HttpResponse> r = http_call(n.http_port(), verb::get, "/health");
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? json::parse(r->body) : json();
  }

  // Health until `done(health)` holds, for at most 20 s.
  json wait_health(const NodeProcess& n, const std::function<bool(const json&)>& done) {
    json h;
    for (int i = 0; i < 2000; ++i) {
      h = health(n);
      if (h.is_null() || done(h)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return h;
  }

  void expect_clean(const NodeProcess& n, int64_t free_blocks) {
    const json h = wait_health(n, [&](const json& x) {
      return x["num_pinned_handles"] == 0 && x["num_free_blocks"].get<int64_t>() == free_blocks;
    });
    EXPECT_EQ(h["invariants"], "ok");
    EXPECT_EQ(h["num_pinned_handles"], 0);
    EXPECT_EQ(h["num_free_blocks"].get<int64_t>(), free_blocks) << "blocks leaked";
  }

  std::string model_;
  fs::path dir_;
};

struct Turn {
  std::vector<int> output;
  json transfer;  // the first line's kv_transfer, or null on the local path
  int num_cached_tokens = 0;
};

// Reads a token stream's lines into a Turn; fails the test on errors.
Turn collect(const StreamedLines& s) {
  Turn t;
  EXPECT_TRUE(s.response.ok()) << s.response.status().to_string();
  for (const json& line : s.lines) {
    EXPECT_FALSE(line.contains("error")) << line.dump();
    if (!line.contains("token")) continue;
    t.output.push_back(line["token"]);
    if (line.contains("kv_transfer")) t.transfer = line["kv_transfer"];
    if (line.contains("finish_reason")) t.num_cached_tokens = line["num_cached_tokens"];
  }
  return t;
}

TEST_F(NodeE2eTest, ThreeTurnConversationsGiveTheSameTokensOnEveryPath) {
  std::map<std::string, std::vector<Turn>> by_mode;
  std::vector<std::vector<int>> prompts;
  for (const std::string mode : {"full", "delta", "local"}) {
    auto p = start("p-" + mode, "prefill");
    auto d = start("d-" + mode, "decode");
    std::vector<int> history;
    prompts.clear();
    for (int turn = 0; turn < 3; ++turn) {
      const std::vector<int> user = random_ids(100 + turn, 20 + 13 * turn);
      history.insert(history.end(), user.begin(), user.end());
      prompts.push_back(history);
      json req = {{"request_id", mode + std::to_string(turn)}, {"token_ids", history}, {"sampling", greedy(24)}};
      Turn t;
      if (turn > 0 && mode == "local") {
        t = collect(http_stream_lines(d->http_port(), "/generate", req.dump()));
      } else {
        req["handle"] = prefill(*p, req);
        req["transfer"] = turn == 0 ? "full" : mode;
        t = collect(http_stream_lines(d->http_port(), "/decode", req.dump()));
      }
      ASSERT_EQ(t.output.size(), 24u) << mode << " turn " << turn + 1;
      history.insert(history.end(), t.output.begin(), t.output.end());
      by_mode[mode].push_back(t);
    }
    expect_clean(*p, health(*p)["num_free_blocks"]);
  }
  const int64_t block_bytes = by_mode["full"][0].transfer["bytes"].get<int64_t>() /
                              ((static_cast<int64_t>(prompts[0].size()) + kBlockSize - 1) / kBlockSize);
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(by_mode["full"][t].output, by_mode["delta"][t].output) << "turn " << t + 1;
    EXPECT_EQ(by_mode["full"][t].output, by_mode["local"][t].output) << "turn " << t + 1;
    const int64_t prompt_blocks = (static_cast<int64_t>(prompts[t].size()) + kBlockSize - 1) / kBlockSize;
    EXPECT_EQ(by_mode["full"][t].transfer["bytes"], prompt_blocks * block_bytes);
    if (t == 0) continue;
    const size_t kept_tokens = prompts[t - 1].size() + 24 - 1;
    const int64_t kept = static_cast<int64_t>(std::min(kept_tokens, prompts[t].size()) / kBlockSize);
    EXPECT_EQ(by_mode["delta"][t].transfer["num_local_blocks"], kept);
    EXPECT_EQ(by_mode["delta"][t].transfer["bytes"], (prompt_blocks - kept) * block_bytes);
    EXPECT_TRUE(by_mode["local"][t].transfer.is_null());
    EXPECT_EQ(by_mode["local"][t].num_cached_tokens, kept * kBlockSize);
  }
}

// Sends raw bytes to a KV port and returns what comes back until the server closes.
std::string raw_kv_exchange(const std::string& address, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  const size_t colon = address.rfind(':');
  socket.connect({boost::asio::ip::make_address(address.substr(0, colon)),
                  static_cast<uint16_t>(std::stoi(address.substr(colon + 1)))});
  boost::asio::write(socket, boost::asio::buffer(bytes));
  std::string reply(4096, '\0');
  boost::system::error_code ec;
  const size_t n = boost::asio::read(socket, boost::asio::buffer(reply), ec);
  reply.resize(n);
  return reply;
}

TEST_F(NodeE2eTest, BadInputGetsAClearErrorAndTheNodeKeepsServing) {
  auto p = start("p", "prefill");
  auto d = start("d", "decode", "--max-body-bytes 4096");
  const json good = {{"token_ids", random_ids(1, 20)}, {"sampling", greedy(4)}};
  struct Case {
    const NodeProcess* node;
    std::string target;
    std::string body;
    unsigned status;
    std::string message;
  };
  json unknown_handle = prefill(*p, good);
  unknown_handle["handle"] = 987654;
  const std::vector<Case> cases = {
      {d.get(), "/generate", "{\"token_ids\": [1, 2", 400, "request body: invalid JSON"},
      {d.get(), "/generate", "{\"token_ids\": [1, 99999]}", 400,
       "prompt: token id 99999 at index 1 outside the vocabulary"},
      {d.get(), "/generate", "{\"token_ids\": [1], \"bogus\": 1}", 400, "bogus: unknown field"},
      {d.get(), "/decode", json{{"token_ids", good["token_ids"]}, {"handle", unknown_handle}}.dump(), 404,
       "kv handle 987654: unknown, released or expired"},
      {d.get(), "/generate", std::string(5000, ' '), 413, "4096"},
      {p.get(), "/decode", json{{"token_ids", good["token_ids"]}, {"handle", unknown_handle}}.dump(), 400,
       "decode: not served by a prefill node"},
      {p.get(), "/prefill", json{{"token_ids", json::array()}}.dump(), 400, "prompt"},
  };
  for (const Case& c : cases) {
    Result<net::HttpResponse> r = http_call(c.node->http_port(), verb::post, c.target, c.body);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status_code, c.status) << c.target << " " << r->body;
    EXPECT_NE(r->body.find(c.message), std::string::npos) << r->body;
  }
  // An oversized KV frame: payload length 0x7fffffff in a (version 2) PULL request.
  const std::string frame =
      std::string("PPDK") + std::string("\x02\x00\x01\x00", 4) + std::string("\xff\xff\xff\x7f", 4);
  const std::string reply = raw_kv_exchange(p->kv_address(), frame);
  EXPECT_EQ(reply.substr(0, 4), "PPDR");
  EXPECT_NE(reply.find("payload_length"), std::string::npos) << reply;
  // Both nodes still serve.
  const Turn t = collect(http_stream_lines(d->http_port(), "/generate", good.dump()));
  EXPECT_EQ(t.output.size(), 4u);
  EXPECT_EQ(health(*p)["invariants"], "ok");
  EXPECT_EQ(health(*d)["invariants"], "ok");
}

TEST_F(NodeE2eTest, PrefillNodeKilledMidTransferFailsTheDecodeCleanly) {
  // `small` blocks are 256 KiB, one per link chunk: 10 blocks at 1 MiB/s take 2.5 s, and P
  // dies after the first few have arrived.
  auto p = start("p", "prefill", "", "small");
  auto d = start("d", "decode", "--link-bytes-per-s 1048576", "small");
  const int64_t d_free = health(*d)["num_free_blocks"];
  json req = {{"token_ids", random_ids(2, 150)}, {"sampling", greedy(8)}};
  req["handle"] = prefill(*p, req);
  auto decode =
      std::async(std::launch::async, [&] { return http_stream_lines(d->http_port(), "/decode", req.dump()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  p->kill_now();
  const StreamedLines s = decode.get();
  ASSERT_TRUE(s.response.ok()) << s.response.status().to_string();
  EXPECT_EQ(s.response->status_code, 503u) << s.response->body;
  EXPECT_NE(s.response->body.find("decode: kv pull of 10 blocks from p"), std::string::npos) << s.response->body;
  expect_clean(*d, d_free);
}

TEST_F(NodeE2eTest, DecodeNodeKilledMidDecodeLeavesNothingPinnedOnThePrefillNode) {
  // The `small` preset decodes a few ms per token: 400 tokens take seconds, so D surely dies
  // mid-decode.
  // D may die before its release of the handle reaches P; the pin then times out.
  auto p = start("p", "prefill", "--pin-timeout-ms 3000", "small");
  auto d = start("d", "decode", "", "small");
  const int64_t p_free = health(*p)["num_free_blocks"];
  json req = {{"token_ids", random_ids(3, 60)}, {"sampling", {{"max_tokens", 400}, {"ignore_eos", true}}}};
  req["handle"] = prefill(*p, req);
  // D dies as soon as its first token arrives.
  const StreamedLines s =
      http_stream_lines(d->http_port(), "/decode", req.dump(), 60'000, [&](const json&) { d->kill_now(); });
  EXPECT_FALSE(s.response.ok()) << "the stream should have broken off";
  EXPECT_LT(s.lines.size(), 400u);
  // P's cache keeps the prompt's full blocks (evictable), so allocatable blocks return to the start.
  expect_clean(*p, p_free);
}

TEST_F(NodeE2eTest, PinnedHandleNobodyPullsIsReleasedAfterTheTimeout) {
  auto p = start("p", "prefill", "--pin-timeout-ms 200");
  const int64_t p_free = health(*p)["num_free_blocks"];
  const json handle = prefill(*p, {{"token_ids", random_ids(4, 50)}});
  EXPECT_EQ(health(*p)["num_pinned_handles"], 1);
  expect_clean(*p, p_free);
  Result<net::HttpResponse> r =
      http_call(p->http_port(), verb::post, "/release", json{{"handle", handle["handle"]}}.dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status_code, 404u) << r->body;
}

}  // namespace
}  // namespace ppd::testing
