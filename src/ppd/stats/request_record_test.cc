#include "ppd/stats/request_record.h"

#include <gtest/gtest.h>

namespace ppd::stats {
namespace {

RequestRecord full_record() {
  RequestRecord r;
  r.conversation_id = 42;
  r.turn = 3;
  r.ok = false;
  r.error = "timeout after 30 s";
  r.send_s = 1.25;
  r.first_token_s = 1.7000000000000002;  // not a short decimal: the text must round-trip exactly
  r.end_s = 31.25;
  r.token_times_s = {1.7000000000000002, 1.8, 0.1 + 0.2};
  r.prompt_tokens = 1000;
  r.output_tokens = 3;
  r.cached_tokens = 512;
  return r;
}

TEST(RequestRecordTest, JsonHasEveryField) {
  const nlohmann::json j = to_json(full_record());
  EXPECT_EQ(j.size(), 11u);
  EXPECT_EQ(j["conversation_id"], 42);
  EXPECT_EQ(j["turn"], 3);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], "timeout after 30 s");
  EXPECT_EQ(j["send_s"], 1.25);
  EXPECT_EQ(j["end_s"], 31.25);
  EXPECT_EQ(j["token_times_s"].size(), 3u);
  EXPECT_EQ(j["prompt_tokens"], 1000);
  EXPECT_EQ(j["output_tokens"], 3);
  EXPECT_EQ(j["cached_tokens"], 512);
}

TEST(RequestRecordTest, JsonRoundTripsThroughText) {
  const RequestRecord original = full_record();
  const nlohmann::json parsed = nlohmann::json::parse(to_json(original).dump());
  Result<RequestRecord> back = record_from_json(parsed);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, original);

  RequestRecord defaults;
  Result<RequestRecord> back_defaults = record_from_json(to_json(defaults));
  ASSERT_TRUE(back_defaults.ok()) << back_defaults.status().to_string();
  EXPECT_EQ(*back_defaults, defaults);
}

TEST(RequestRecordTest, AcceptsIntegersForTimes) {
  nlohmann::json j = to_json(full_record());
  j["send_s"] = 2;
  j["token_times_s"] = {3, 4.5};
  Result<RequestRecord> r = record_from_json(j);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->send_s, 2.0);
  EXPECT_EQ(r->token_times_s, (std::vector<double>{3, 4.5}));
}

TEST(RequestRecordTest, BadJsonNamesTheField) {
  struct Case {
    std::string key;
    nlohmann::json value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"conversation_id", "7", "INVALID_ARGUMENT: conversation_id: expected an integer; got \"7\""},
      {"conversation_id", 18446744073709551615ull,
       "INVALID_ARGUMENT: conversation_id: expected an integer; got 18446744073709551615"},
      {"turn", 1.5, "INVALID_ARGUMENT: turn: expected an integer; got 1.5"},
      {"turn", 0, "INVALID_ARGUMENT: turn: must be >= 1; got 0"},
      {"turn", 4294967296, "INVALID_ARGUMENT: turn: must be <= 2147483647; got 4294967296"},
      {"ok", 1, "INVALID_ARGUMENT: ok: expected a boolean; got 1"},
      {"error", nullptr, "INVALID_ARGUMENT: error: expected a string; got null"},
      {"send_s", "0.5", "INVALID_ARGUMENT: send_s: expected a number; got \"0.5\""},
      {"first_token_s", true, "INVALID_ARGUMENT: first_token_s: expected a number; got true"},
      {"end_s", nlohmann::json::array(), "INVALID_ARGUMENT: end_s: expected a number; got []"},
      {"token_times_s", 1.0, "INVALID_ARGUMENT: token_times_s: expected an array of numbers; got 1.0"},
      {"token_times_s", {0.5, nullptr}, "INVALID_ARGUMENT: token_times_s[1]: expected a number; got null"},
      {"prompt_tokens", -1, "INVALID_ARGUMENT: prompt_tokens: must be >= 0; got -1"},
      {"output_tokens", 2.0, "INVALID_ARGUMENT: output_tokens: expected an integer; got 2.0"},
      {"cached_tokens", -3, "INVALID_ARGUMENT: cached_tokens: must be >= 0; got -3"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = to_json(full_record());
    j[c.key] = c.value;
    EXPECT_EQ(record_from_json(j).status().to_string(), c.message) << c.key << " = " << c.value.dump();
  }
}

TEST(RequestRecordTest, MissingAndUnknownFieldsAreErrors) {
  nlohmann::json missing = to_json(full_record());
  missing.erase("end_s");
  EXPECT_EQ(record_from_json(missing).status().to_string(), "INVALID_ARGUMENT: end_s: missing");

  nlohmann::json unknown = to_json(full_record());
  unknown["latency"] = 1;
  EXPECT_EQ(record_from_json(unknown).status().to_string(),
            "INVALID_ARGUMENT: latency: unknown field; allowed: conversation_id, turn, ok, error, send_s, "
            "first_token_s, end_s, token_times_s, prompt_tokens, output_tokens, cached_tokens");

  EXPECT_EQ(record_from_json(nlohmann::json::array({1, 2})).status().to_string(),
            "INVALID_ARGUMENT: record: expected a JSON object; got [1,2]");
  const nlohmann::json long_string = std::string(100, 'x');
  EXPECT_EQ(record_from_json(long_string).status().to_string(),
            "INVALID_ARGUMENT: record: expected a JSON object; got \"" + std::string(36, 'x') + "...");
}

}  // namespace
}  // namespace ppd::stats
