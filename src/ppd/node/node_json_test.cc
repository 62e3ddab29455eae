#include "ppd/node/node_json.h"

#include <gtest/gtest.h>

namespace ppd::node {
namespace {

TEST(NodeJsonTest, ParsesAFullGenerateRequest) {
  Result<NodeRequest> r = parse_node_request(
      R"({"request_id":"r1","token_ids":[1,2,3],"sampling":{"temperature":0.5,"top_k":4,"top_p":0.9,"max_tokens":7,)"
      R"("min_tokens":2,"ignore_eos":true,"stop_token_ids":[9],"seed":18446744073709551615}})",
      "generate");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->request_id, "r1");
  EXPECT_EQ(r->token_ids, (std::vector<TokenId>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(r->sampling.temperature, 0.5);
  EXPECT_EQ(r->sampling.top_k, 4);
  EXPECT_EQ(r->sampling.max_tokens, 7);
  EXPECT_EQ(r->sampling.min_tokens, 2);
  EXPECT_TRUE(r->sampling.ignore_eos);
  EXPECT_EQ(r->sampling.stop_token_ids, std::vector<TokenId>{9});
  EXPECT_EQ(r->sampling.seed, 18446744073709551615ull);
  EXPECT_FALSE(r->handle.has_value());
}

TEST(NodeJsonTest, BadRequestsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1]", "INVALID_ARGUMENT: request body: expected a JSON object; got [1]"},
      {"{}", "INVALID_ARGUMENT: token_ids: missing"},
      {R"({"token_ids":[1,"x"]})", "INVALID_ARGUMENT: token_ids[1]: expected a 32-bit integer; got \"x\""},
      {R"({"token_ids":[1],"sampling":{"top_p":"x"}})",
       "INVALID_ARGUMENT: sampling.top_p: expected a number; got \"x\""},
      {R"({"token_ids":[1],"sampling":{"seed":-1}})",
       "INVALID_ARGUMENT: sampling.seed: expected an unsigned 64-bit integer; got -1"},
      {R"({"token_ids":[1],"handle":{}})",
       "INVALID_ARGUMENT: handle: unknown field; allowed: request_id, token_ids, sampling"},
  };
  for (const auto& [body, message] : cases) {
    EXPECT_EQ(parse_node_request(body, "generate").status().to_string(), message) << body;
  }
}

// 100,000 levels of nesting once crashed the node: the error message serialised the whole
// value recursively. Such a body is now refused before it is parsed; one within the bound is
// quoted in a short excerpt.
TEST(NodeJsonTest, DeepNestingIsRefusedNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(parse_node_request(R"({"token_ids":)" + deep + "}", "generate").status().to_string(),
            "INVALID_ARGUMENT: request body: JSON nested deeper than 64 levels");
  EXPECT_EQ(parse_node_request(R"({"token_ids":[1],"sampling":{"temperature":)" + deep + "}}", "prefill")
                .status()
                .to_string(),
            "INVALID_ARGUMENT: request body: JSON nested deeper than 64 levels");
  const std::string nested = std::string(62, '[') + std::string(62, ']');
  EXPECT_EQ(parse_node_request(R"({"token_ids":)" + nested + "}", "generate").status().to_string(),
            "INVALID_ARGUMENT: token_ids[0]: expected a 32-bit integer; got " + std::string(60, '[') + "...");
  EXPECT_EQ(parse_node_request(R"({"token_ids":[1e400]})", "generate").status().code(), StatusCode::kInvalidArgument);
}

KvHandle sample_handle() {
  return {.node = "p0",
          .kv_address = "127.0.0.1:9",
          .handle = 7,
          .num_prompt_tokens = 20,
          .block_size = 16,
          .num_cached_tokens = 16,
          .block_ids = {BlockId{3}, BlockId{4}},
          .block_hashes = {BlockHash{0xabcdef0123456789}},
          .first_token = 42,
          .sampling_seed = 0xfedcba9876543210};
}

TEST(NodeJsonTest, HandleRoundTripsThroughJson) {
  const KvHandle h = sample_handle();
  const nlohmann::json j = to_json(h);
  EXPECT_EQ(j["block_hashes"][0], "abcdef0123456789");
  Result<KvHandle> back = kv_handle_from_json(j);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->handle, 7u);
  EXPECT_EQ(back->block_ids, h.block_ids);
  EXPECT_EQ(back->block_hashes, h.block_hashes);
  EXPECT_EQ(back->sampling_seed, h.sampling_seed);
  nlohmann::json decode = {{"token_ids", nlohmann::json::array()}, {"handle", j}, {"transfer", "full"}};
  for (int i = 0; i < 20; ++i) decode["token_ids"].push_back(i);
  Result<NodeRequest> r = parse_node_request(decode.dump(), "decode");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->mode, sched::ImportMode::kFull);
}

TEST(NodeJsonTest, BadHandlesAreRefused) {
  nlohmann::json j = to_json(sample_handle());
  j["block_hashes"][0] = "xyz";
  EXPECT_EQ(kv_handle_from_json(j).status().to_string(),
            "INVALID_ARGUMENT: handle.block_hashes[0]: expected 16 hex digits; got \"xyz\"");
  j = to_json(sample_handle());
  j["block_ids"].push_back(5);
  EXPECT_EQ(kv_handle_from_json(j).status().to_string(),
            "INVALID_ARGUMENT: handle: 3 block ids and 1 hashes do not cover 20 tokens in blocks of 16");
  j = to_json(sample_handle());
  j.erase("kv_address");
  EXPECT_EQ(kv_handle_from_json(j).status().to_string(), "INVALID_ARGUMENT: handle.kv_address: missing");
  nlohmann::json decode = {{"token_ids", {1}}, {"handle", to_json(sample_handle())}, {"transfer", "some"}};
  EXPECT_EQ(parse_node_request(decode.dump(), "decode").status().to_string(),
            "INVALID_ARGUMENT: transfer: must be \"delta\" or \"full\"; got \"some\"");
}

}  // namespace
}  // namespace ppd::node
