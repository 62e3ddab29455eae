#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "ppd/router/cluster_monitor.h"
#include "ppd/router/dispatch.h"
#include "ppd/router/node_client.h"

namespace ppd::router {
namespace {

TEST(NodeClientTest, ParsesOutputLines) {
  const NodeOutput first = *parse_node_output(R"({"token": 42, "index": 0, "kv_transfer": {"bytes": 4096}})", "n");
  EXPECT_EQ(first.token, 42);
  EXPECT_EQ(first.transfer_bytes, 4096);
  EXPECT_TRUE(first.finish_reason.empty());
  const NodeOutput last = *parse_node_output(
      R"({"token": 2, "index": 9, "finish_reason": "stop", "num_prompt_tokens": 30, "num_cached_tokens": 16,
          "num_output_tokens": 10})",
      "n");
  EXPECT_EQ(last.finish_reason, "stop");
  EXPECT_EQ(last.num_cached_tokens, 16);
  EXPECT_EQ(last.num_output_tokens, 10);
}

TEST(NodeClientTest, ErrorLinesAndMalformedLinesBecomeStatuses) {
  const Status e =
      parse_node_output(R"({"error": {"message": "pull failed", "code": "DEADLINE_EXCEEDED"}})", "d0").status();
  EXPECT_EQ(e.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(e.message(), "node d0: pull failed");
  EXPECT_EQ(parse_node_output("not json", "d0").status().message(), "node d0: malformed output line: not json");
  EXPECT_EQ(parse_node_output(R"({"token": "x"})", "d0").status().code(), StatusCode::kInternal);
  // A hostile or broken node: wrong types in its error, nesting past the bound.
  const Status typed = parse_node_output(R"({"error": {"message": 7, "code": []}})", "d0").status();
  EXPECT_EQ(typed.message(), "node d0: unknown error");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(parse_node_output(R"({"token":)" + deep + "}", "d0").status().code(), StatusCode::kInternal);
  EXPECT_EQ(status_from_node_error(500, R"({"error":)" + deep + "}", "d0").message(), "node d0: HTTP 500");
}

TEST(NodeClientTest, ErrorAnswersKeepTheNodesMessageAndMapTheStatus) {
  const std::string body = R"({"error": {"message": "prompt: empty", "type": "invalid_request_error"}})";
  const Status bad = status_from_node_error(400, body, "p0");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "node p0: prompt: empty");
  EXPECT_EQ(status_from_node_error(429, body, "p0").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status_from_node_error(503, "", "p0").message(), "node p0: HTTP 503");
  EXPECT_EQ(status_from_node_error(502, "", "p0").code(), StatusCode::kInternal);
}

TEST(ClusterMonitorTest, ParsesEngineFactsAndNamesWhatIsMissing) {
  nlohmann::json health = {{"engine",
                            {{"model_identity", "00000000000000ff"},
                             {"block_size", 16},
                             {"block_bytes", 8192},
                             {"max_model_len", 512},
                             {"max_prefill_tokens", 256},
                             {"vocab_size", 1000}}}};
  const EngineFacts f = *parse_engine_facts(health, "d0");
  EXPECT_EQ(f.model_identity, 255u);
  EXPECT_EQ(f.block_size, 16);
  EXPECT_EQ(f.max_prefill_tokens, 256);
  EXPECT_EQ(f.max_num_running, 0);  // an older node that does not say: unknown
  EXPECT_EQ(f.kv_hash_seed, 255u);  // nor its hash seed: the model identity
  health["engine"]["kv_hash_seed"] = "0000000000000abc";
  health["engine"]["kv_dtype"] = "BF16";
  health["engine"]["weights"] = "bf16";
  const EngineFacts half = *parse_engine_facts(health, "d0");
  EXPECT_EQ(half.kv_hash_seed, 0xabcu);
  EXPECT_EQ(half.kv_dtype, "BF16");
  EXPECT_EQ(half.weights, "bf16");
  health["engine"]["kv_hash_seed"] = "abc";
  EXPECT_EQ(parse_engine_facts(health, "d0").status().message(),
            "node d0: engine.kv_hash_seed: expected 16 hex digits");
  health["engine"]["kv_hash_seed"] = "0000000000000abc";
  health["engine"]["max_num_running"] = 64;
  EXPECT_EQ(parse_engine_facts(health, "d0")->max_num_running, 64);
  health["engine"]["max_num_running"] = "many";
  EXPECT_EQ(parse_engine_facts(health, "d0").status().code(), StatusCode::kInternal);
  health["engine"]["max_num_running"] = 64;
  health["engine"]["model_identity"] = "xyz";
  EXPECT_EQ(parse_engine_facts(health, "d0").status().message(),
            "node d0: engine.model_identity: expected 16 hex digits");
  EXPECT_EQ(parse_engine_facts(nlohmann::json::object(), "d0").status().message(),
            "node d0: /health has no engine facts");
}

TEST(ClusterMonitorTest, AMalformedLoadReportIsAnErrorNotAnException) {
  std::vector<routing::StepSample> steps;
  nlohmann::json report = {
      {"type", "load"}, {"num_running", 3}, {"num_free_blocks", 10}, {"recent_steps", {{1, 2, 30, 0.5, 0.01}}}};
  const routing::NodeLoad load = *parse_load(report, &steps);
  EXPECT_EQ(load.num_running, 3);
  EXPECT_EQ(load.num_free_blocks, 10);
  EXPECT_EQ(steps.size(), 1u);
  EXPECT_EQ(parse_load({{"type", "load"}}, &steps)->num_free_blocks, -1);  // not reported
  report["num_running"] = "many";
  EXPECT_EQ(parse_load(report, &steps).status().code(), StatusCode::kInternal);
  report["num_running"] = 3;
  report["recent_steps"] = {{1, 2, "thirty", 0.5, 0.01}};
  const Result<routing::NodeLoad> bad_step = parse_load(report, &steps);
  EXPECT_EQ(bad_step.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad_step.status().message().find("malformed load report"), std::string::npos);
}

TEST(DispatchTest, SamplingJsonCarriesWhatTheNodeParses) {
  request::SamplingParams p;
  p.temperature = 0;
  p.max_tokens = 7;
  p.seed = 9;
  p.stop_token_ids = {3};
  const nlohmann::json j = sampling_json(p);
  EXPECT_EQ(j["max_tokens"], 7);
  EXPECT_EQ(j["seed"], 9u);
  EXPECT_EQ(j["stop_token_ids"], nlohmann::json::array({3}));
  EXPECT_FALSE(sampling_json(request::SamplingParams{}).contains("seed"));
}

// Where a failure before the first token sends the next attempt.
TEST(DispatchTest, FailuresBeforeTheFirstTokenChooseTheRetry) {
  routing::RouteDecision remote{.path = routing::Path::kRemote, .decode = NodeId(1), .prefill = NodeId(0)};
  boost::asio::io_context io;
  NodeStream unanswered(io.get_executor(), "d1");
  AttemptResult r = attribute_stream_failure(remote, unavailable("connect refused"), unanswered);
  EXPECT_TRUE(r.retryable);
  EXPECT_TRUE(r.unreachable);
  EXPECT_EQ(r.failed_node, NodeId(1));
  r = attribute_stream_failure(remote, invalid_argument("bad"), unanswered);
  EXPECT_FALSE(r.retryable);
}

}  // namespace
}  // namespace ppd::router
