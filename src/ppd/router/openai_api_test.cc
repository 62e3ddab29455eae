#include "ppd/router/openai_api.h"

#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace ppd::router {
namespace {

using nlohmann::json;

ApiRequest parse_ok(const std::string& body, ApiKind kind) {
  Result<ApiRequest> r = parse_api_request(body, kind);
  EXPECT_TRUE(r.ok()) << body << " -> " << r.status().to_string();
  return r.ok() ? *r : ApiRequest{};
}

// The INVALID_ARGUMENT message for `body`, or the code's name when it is another error.
std::string error_of(const std::string& body, ApiKind kind) {
  Result<ApiRequest> r = parse_api_request(body, kind);
  if (r.ok()) return "OK";
  if (r.status().code() != StatusCode::kInvalidArgument) return r.status().to_string();
  return r.status().message();
}

// A chat body with one user message plus `extra` fields ("" or `,"key":value...`).
std::string chat(const std::string& extra) {
  return R"({"model":"m","messages":[{"role":"user","content":"hi"}])" + extra + "}";
}
std::string completion(const std::string& extra) { return R"({"model":"m","prompt":"hi")" + extra + "}"; }

TEST(OpenAiApiParseTest, ChatRequestCarriesEveryField) {
  const ApiRequest req =
      parse_ok(R"({"model":"llama","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],)"
               R"("temperature":0.5,"top_p":0.9,"top_k":40,"max_tokens":64,"min_tokens":2,"ignore_eos":true,"seed":7,)"
               R"("stop_token_ids":[2,3],"stop":["\n\n","END"],"stream":true,"stream_options":{"include_usage":true},)"
               R"("user":"u1","add_generation_prompt":false})",
               ApiKind::kChat);
  EXPECT_EQ(req.kind, ApiKind::kChat);
  EXPECT_EQ(req.model, "llama");
  ASSERT_EQ(req.messages.size(), 2u);
  EXPECT_EQ(req.messages[0].role, "system");
  EXPECT_EQ(req.messages[0].content, "be brief");
  EXPECT_EQ(req.messages[1].role, "user");
  EXPECT_EQ(req.messages[1].content, "hi");
  EXPECT_FALSE(req.prompt_text.has_value());
  EXPECT_FALSE(req.prompt_token_ids.has_value());
  EXPECT_DOUBLE_EQ(req.sampling.temperature, 0.5);
  EXPECT_DOUBLE_EQ(req.sampling.top_p, 0.9);
  EXPECT_EQ(req.sampling.top_k, 40);
  EXPECT_EQ(req.sampling.max_tokens, 64);
  EXPECT_EQ(req.sampling.min_tokens, 2);
  EXPECT_TRUE(req.sampling.ignore_eos);
  EXPECT_EQ(req.sampling.seed, 7u);
  EXPECT_EQ(req.sampling.stop_token_ids, (std::vector<TokenId>{2, 3}));
  EXPECT_EQ(req.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_TRUE(req.stream);
  EXPECT_TRUE(req.include_usage);
  EXPECT_EQ(req.user, "u1");
  EXPECT_FALSE(req.add_generation_prompt);
}

TEST(OpenAiApiParseTest, AbsentAndNullFieldsTakeOpenAiDefaults) {
  for (const std::string& extra :
       {std::string(), std::string(R"(,"temperature":null,"top_p":null,"top_k":null,"max_tokens":null,)"
                                   R"("max_completion_tokens":null,"min_tokens":null,"seed":null,"stop":null,)"
                                   R"("stream":null,"stream_options":null,"user":null,"n":null,"logprobs":null)")}) {
    const ApiRequest req = parse_ok(chat(extra), ApiKind::kChat);
    EXPECT_DOUBLE_EQ(req.sampling.temperature, 1.0) << extra;
    EXPECT_DOUBLE_EQ(req.sampling.top_p, 1.0);
    EXPECT_EQ(req.sampling.top_k, 0);
    EXPECT_FALSE(req.sampling.max_tokens.has_value());
    EXPECT_EQ(req.sampling.min_tokens, 0);
    EXPECT_FALSE(req.sampling.ignore_eos);
    EXPECT_FALSE(req.sampling.seed.has_value());
    EXPECT_TRUE(req.sampling.stop_token_ids.empty());
    EXPECT_TRUE(req.stop.empty());
    EXPECT_FALSE(req.stream);
    EXPECT_FALSE(req.include_usage);
    EXPECT_EQ(req.user, "");
    EXPECT_TRUE(req.add_generation_prompt);
  }
}

TEST(OpenAiApiParseTest, ContentPartsAreConcatenatedAndAssistantContentMayBeNull) {
  const ApiRequest req =
      parse_ok(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Hello, "},)"
               R"({"type":"text","text":"world"}]},{"role":"assistant","content":null},{"role":"assistant"},)"
               R"({"role":"user","content":[]}]})",
               ApiKind::kChat);
  ASSERT_EQ(req.messages.size(), 4u);
  EXPECT_EQ(req.messages[0].content, "Hello, world");
  EXPECT_EQ(req.messages[1].role, "assistant");
  EXPECT_EQ(req.messages[1].content, "");
  EXPECT_EQ(req.messages[2].content, "");
  EXPECT_EQ(req.messages[3].content, "");
}

TEST(OpenAiApiParseTest, RolesAreLeftToTheChatTemplate) {
  const ApiRequest req = parse_ok(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", ApiKind::kChat);
  EXPECT_EQ(req.messages[0].role, "tool");
}

TEST(OpenAiApiParseTest, MaxCompletionTokensWinsOverMaxTokens) {
  EXPECT_EQ(parse_ok(chat(R"(,"max_tokens":10,"max_completion_tokens":20)"), ApiKind::kChat).sampling.max_tokens, 20);
  EXPECT_EQ(parse_ok(chat(R"(,"max_completion_tokens":20,"max_tokens":10)"), ApiKind::kChat).sampling.max_tokens, 20);
  EXPECT_EQ(parse_ok(chat(R"(,"max_completion_tokens":30)"), ApiKind::kChat).sampling.max_tokens, 30);
  EXPECT_EQ(parse_ok(chat(R"(,"max_tokens":10,"max_completion_tokens":null)"), ApiKind::kChat).sampling.max_tokens, 10);
  // A chat-only field: ignored by /v1/completions like any unknown key.
  EXPECT_EQ(
      parse_ok(completion(R"(,"max_tokens":10,"max_completion_tokens":20)"), ApiKind::kCompletion).sampling.max_tokens,
      10);
  EXPECT_EQ(error_of(chat(R"(,"max_tokens":30,"max_completion_tokens":5,"min_tokens":10)"), ApiKind::kChat),
            "min_tokens: must be <= max_tokens 5; got 10");
}

TEST(OpenAiApiParseTest, CompletionPromptForms) {
  const ApiRequest text = parse_ok(R"({"model":"m","prompt":"Once upon"})", ApiKind::kCompletion);
  EXPECT_EQ(text.kind, ApiKind::kCompletion);
  EXPECT_EQ(text.prompt_text, "Once upon");
  EXPECT_FALSE(text.prompt_token_ids.has_value());
  EXPECT_TRUE(text.messages.empty());

  const ApiRequest ids = parse_ok(R"({"model":"m","prompt":[1,0,2147483647]})", ApiKind::kCompletion);
  EXPECT_FALSE(ids.prompt_text.has_value());
  EXPECT_EQ(ids.prompt_token_ids, (std::vector<TokenId>{1, 0, 2147483647}));

  const ApiRequest one = parse_ok(R"({"model":"m","prompt":["only one"]})", ApiKind::kCompletion);
  EXPECT_EQ(one.prompt_text, "only one");
  EXPECT_FALSE(one.prompt_token_ids.has_value());
}

TEST(OpenAiApiParseTest, VllmAndOpenAiValueMappings) {
  EXPECT_EQ(parse_ok(chat(R"(,"top_k":-1)"), ApiKind::kChat).sampling.top_k, 0);
  EXPECT_EQ(parse_ok(chat(R"(,"max_tokens":8.0)"), ApiKind::kChat).sampling.max_tokens, 8);
  EXPECT_EQ(parse_ok(chat(R"(,"seed":-1)"), ApiKind::kChat).sampling.seed, UINT64_MAX);
  EXPECT_EQ(parse_ok(chat(R"(,"seed":18446744073709551615)"), ApiKind::kChat).sampling.seed, UINT64_MAX);
  EXPECT_EQ(parse_ok(chat(R"(,"stop":"###")"), ApiKind::kChat).stop, std::vector<std::string>{"###"});
  EXPECT_EQ(parse_ok(chat(R"(,"temperature":0,"top_p":1)"), ApiKind::kChat).sampling.temperature, 0.0);
  EXPECT_FALSE(parse_ok(chat(R"(,"stream":true,"stream_options":{})"), ApiKind::kChat).include_usage);
}

TEST(OpenAiApiParseTest, NeutralValuesOfUnsupportedFeaturesAreAccepted) {
  parse_ok(chat(R"(,"n":1,"logprobs":false,"tools":[],"functions":null,"frequency_penalty":0,)"
                R"("presence_penalty":0.0,"repetition_penalty":1,"echo":false,"best_of":1,)"
                R"("response_format":{"type":"text"})"),
           ApiKind::kChat);
  parse_ok(completion(R"(,"logprobs":0,"echo":null,"best_of":null)"), ApiKind::kCompletion);
}

TEST(OpenAiApiParseTest, UnknownKeysAreIgnored) {
  const ApiRequest req =
      parse_ok(chat(R"(,"tool_choice":"none","min_p":0.1,"metadata":{"a":[1]},"skip_special_tokens":false,"prompt":5)"),
               ApiKind::kChat);
  EXPECT_EQ(req.messages.size(), 1u);
  parse_ok(completion(R"(,"messages":7,"suffix":"x")"), ApiKind::kCompletion);
}

// {kind, body, message}: every rule's exact message.
using ErrorCase = std::tuple<ApiKind, std::string, std::string>;

void expect_errors(const std::vector<ErrorCase>& cases) {
  for (const auto& [kind, body, message] : cases) EXPECT_EQ(error_of(body, kind), message) << body;
}

TEST(OpenAiApiErrorTest, BodyAndModel) {
  constexpr ApiKind kChat = ApiKind::kChat;
  expect_errors({
      {kChat, "{\"model\":",
       "request body: invalid JSON: parse error at line 1, column 10: syntax error while parsing value - unexpected "
       "end of input; expected '[', '{', or a literal"},
      {kChat, "[1]", "request body: expected a JSON object; got [1]"},
      {kChat, "{\"messages\":[]}", "model: missing"},
      {kChat, R"({"model":"","messages":[]})", "model: must not be empty"},
      {kChat, R"({"model":5})", "model: expected a string; got 5"},
  });
  EXPECT_EQ(error_of("{\"a\":1e400}", kChat).rfind("request body: invalid JSON: ", 0), 0u);
}

TEST(OpenAiApiErrorTest, Messages) {
  constexpr ApiKind k = ApiKind::kChat;
  expect_errors({
      {k, R"({"model":"m"})", "messages: missing"},
      {k, R"({"model":"m","messages":[]})", "messages: must be a non-empty array"},
      {k, R"({"model":"m","messages":"hi"})", "messages: expected an array; got \"hi\""},
      {k, R"({"model":"m","messages":[5]})", "messages[0]: expected an object; got 5"},
      {k, R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role: missing"},
      {k, R"({"model":"m","messages":[{"role":1,"content":"x"}]})", "messages[0].role: expected a string; got 1"},
      {k, R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":null}]})",
       "messages[1].content: expected a string or an array of text parts; got null"},
      {k, R"({"model":"m","messages":[{"role":"user"}]})",
       "messages[0].content: expected a string or an array of text parts; got null"},
      {k, R"({"model":"m","messages":[{"role":"user","content":{"text":"x"}}]})",
       "messages[0].content: expected a string or an array of text parts; got {\"text\":\"x\"}"},
      {k,
       R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"a"},)"
       R"({"type":"image_url","image_url":{"url":"x"}}]},{"role":"user","content":"c"}]})",
       "messages[1].content[1].type: only \"text\" is supported; got \"image_url\""},
      {k, R"({"model":"m","messages":[{"role":"user","content":[{"text":"a"}]}]})",
       "messages[0].content[0].type: only \"text\" is supported; got null"},
      {k, R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":3}]}]})",
       "messages[0].content[0].text: expected a string; got 3"},
      {k, R"({"model":"m","messages":[{"role":"user","content":["a"]}]})",
       "messages[0].content[0]: expected an object; got \"a\""},
      {k, chat(R"(,"add_generation_prompt":"yes")"), "add_generation_prompt: expected a boolean; got \"yes\""},
  });
}

TEST(OpenAiApiErrorTest, Prompt) {
  constexpr ApiKind k = ApiKind::kCompletion;
  expect_errors({
      {k, R"({"model":"m"})", "prompt: missing"},
      {k, R"({"model":"m","prompt":5})",
       "prompt: expected a string, an array of token ids or an array of one string; got 5"},
      {k, R"({"model":"m","prompt":[]})", "prompt: must not be empty; got []"},
      {k, R"({"model":"m","prompt":["a","b"]})", "prompt: must hold exactly one string; got [\"a\",\"b\"]"},
      {k, R"({"model":"m","prompt":[1,-2]})", "prompt[1]: must be >= 0; got -2"},
      {k, R"({"model":"m","prompt":[1,"x"]})", "prompt[1]: expected an integer; got \"x\""},
      {k, R"({"model":"m","prompt":[1,1.5]})", "prompt[1]: expected an integer; got 1.5"},
      {k, R"({"model":"m","prompt":[3000000000]})", "prompt[0]: must be <= 2147483647; got 3000000000"},
      {k, R"({"model":"m","prompt":[[1,2]]})", "prompt[0]: expected an integer; got [1,2]"},
  });
}

TEST(OpenAiApiErrorTest, SamplingRanges) {
  constexpr ApiKind k = ApiKind::kChat;
  expect_errors({
      {k, chat(R"(,"temperature":2.5)"), "temperature: must be in [0, 2]; got 2.5"},
      {k, chat(R"(,"temperature":-0.1)"), "temperature: must be in [0, 2]; got -0.1"},
      {k, chat(R"(,"temperature":"hot")"), "temperature: expected a number; got \"hot\""},
      {k, chat(R"(,"top_p":0)"), "top_p: must be in (0, 1]; got 0"},
      {k, chat(R"(,"top_p":1.5)"), "top_p: must be in (0, 1]; got 1.5"},
      {k, chat(R"(,"top_k":-2)"), "top_k: must be >= -1; got -2"},
      {k, chat(R"(,"top_k":2.5)"), "top_k: expected an integer; got 2.5"},
      {k, chat(R"(,"max_tokens":0)"), "max_tokens: must be >= 1; got 0"},
      {k, chat(R"(,"max_tokens":1.5)"), "max_tokens: expected an integer; got 1.5"},
      {k, chat(R"(,"max_tokens":"10")"), "max_tokens: expected an integer; got \"10\""},
      {k, chat(R"(,"max_tokens":true)"), "max_tokens: expected an integer; got true"},
      {k, chat(R"(,"max_tokens":18446744073709551615)"), "max_tokens: must be <= 2147483647; got 18446744073709551615"},
      {k, chat(R"(,"max_completion_tokens":0)"), "max_completion_tokens: must be >= 1; got 0"},
      {k, chat(R"(,"min_tokens":-1)"), "min_tokens: must be >= 0; got -1"},
      {k, chat(R"(,"min_tokens":10,"max_tokens":5)"), "min_tokens: must be <= max_tokens 5; got 10"},
      {k, chat(R"(,"ignore_eos":1)"), "ignore_eos: expected a boolean; got 1"},
      {k, chat(R"(,"seed":1.5)"), "seed: expected an integer; got 1.5"},
      {k, chat(R"(,"seed":"7")"), "seed: expected an integer; got \"7\""},
      {k, chat(R"(,"stop_token_ids":5)"), "stop_token_ids: expected an array of integers; got 5"},
      {k, chat(R"(,"stop_token_ids":[1,-1])"), "stop_token_ids[1]: must be >= 0; got -1"},
  });
}

TEST(OpenAiApiErrorTest, StopStreamUserAndUnsupportedFeatures) {
  constexpr ApiKind k = ApiKind::kChat;
  expect_errors({
      {k, chat(R"(,"stop":5)"), "stop: expected a string or an array of strings; got 5"},
      {k, chat(R"(,"stop":["a","b","c","d","e"])"), "stop: must hold at most 4 strings; got 5"},
      {k, chat(R"(,"stop":["a",""])"), "stop[1]: must not be empty; got \"\""},
      {k, chat(R"(,"stop":"")"), "stop: must not be empty; got \"\""},
      {k, chat(R"(,"stop":[1])"), "stop[0]: expected a string; got 1"},
      {k, chat(R"(,"stream":"yes")"), "stream: expected a boolean; got \"yes\""},
      {k, chat(R"(,"stream_options":{"include_usage":true})"), "stream_options: only allowed when stream is true"},
      {k, chat(R"(,"stream":false,"stream_options":{})"), "stream_options: only allowed when stream is true"},
      {k, chat(R"(,"stream":true,"stream_options":5)"), "stream_options: expected an object; got 5"},
      {k, chat(R"(,"stream":true,"stream_options":{"include_usage":"y"})"),
       "stream_options.include_usage: expected a boolean; got \"y\""},
      {k, chat(R"(,"user":5)"), "user: expected a string; got 5"},
      {k, chat(R"(,"n":2)"), "n: only 1 is supported; got 2"},
      {k, chat(R"(,"n":"1")"), "n: only 1 is supported; got \"1\""},
      {k, chat(R"(,"logprobs":true)"), "logprobs: not supported"},
      {ApiKind::kCompletion, completion(R"(,"logprobs":1)"), "logprobs: not supported"},
      {k, chat(R"(,"tools":[{"type":"function"}])"), "tools: not supported"},
      {k, chat(R"(,"functions":[{"name":"f"}])"), "functions: not supported"},
      {k, chat(R"(,"frequency_penalty":0.5)"), "frequency_penalty: not supported"},
      {k, chat(R"(,"presence_penalty":-1)"), "presence_penalty: not supported"},
      {k, chat(R"(,"repetition_penalty":1.1)"), "repetition_penalty: not supported"},
      {ApiKind::kCompletion, completion(R"(,"echo":true)"), "echo: not supported"},
      {ApiKind::kCompletion, completion(R"(,"best_of":2)"), "best_of: not supported"},
      {k, chat(R"(,"response_format":{"type":"json_object"})"), "response_format: not supported"},
  });
}

TEST(OpenAiApiErrorTest, ValuesAreCutToAboutFortyCharsOnUtf8Boundaries) {
  std::string ones = "[1";
  for (int i = 0; i < 49; ++i) ones += ",1";
  ones += "]";
  EXPECT_EQ(error_of(chat(R"(,"user":)" + ones), ApiKind::kChat),
            "user: expected a string; got " + ones.substr(0, 40) + "...");
  std::string e_acute;  // "é" is two bytes: a cut at byte 40 would split one
  for (int i = 0; i < 30; ++i) e_acute += "\xc3\xa9";
  EXPECT_EQ(error_of(chat(R"(,"max_tokens":")" + e_acute + "\""), ApiKind::kChat),
            "max_tokens: expected an integer; got \"" + e_acute.substr(0, 38) + "...");
  // Nesting within the bound makes a short message; past it the body is refused unparsed.
  const std::string nested = std::string(60, '[') + std::string(60, ']');
  EXPECT_EQ(error_of(chat(R"(,"user":)" + nested), ApiKind::kChat),
            "user: expected a string; got " + std::string(40, '[') + "...");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(chat(R"(,"user":)" + deep), ApiKind::kChat), "request body: JSON nested deeper than 64 levels");
}

TEST(OpenAiApiErrorTest, InvalidUtf8InTheParserMessageIsReplaced) {
  const std::string message = error_of("{\"model\":\xff}", ApiKind::kChat);
  EXPECT_EQ(message.rfind("request body: invalid JSON: ", 0), 0u) << message;
  for (char c : message) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << message;
}

const ResponseMeta kChatMeta{ApiKind::kChat, "chatcmpl-1", 1700000000, "llama"};
const ResponseMeta kCompletionMeta{ApiKind::kCompletion, "cmpl-1", 1700000001, "llama"};

TEST(OpenAiApiResponseTest, UsageJson) {
  EXPECT_EQ(usage_json({.prompt_tokens = 10, .completion_tokens = 5, .cached_tokens = 4}),
            json::parse(R"({"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,)"
                        R"("prompt_tokens_details":{"cached_tokens":4}})"));
}

TEST(OpenAiApiResponseTest, CompletionBodies) {
  const Usage usage{3, 2, 0};
  EXPECT_EQ(completion_body(kChatMeta, "Hi there", "stop", usage), json::parse(R"({
    "id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"llama",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop","logprobs":null}],
    "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0}}})"));
  EXPECT_EQ(completion_body(kCompletionMeta, " a time", "length", usage), json::parse(R"({
    "id":"cmpl-1","object":"text_completion","created":1700000001,"model":"llama",
    "choices":[{"index":0,"text":" a time","finish_reason":"length","logprobs":null}],
    "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0}}})"));
}

TEST(OpenAiApiResponseTest, ChatChunks) {
  EXPECT_EQ(chunk_body(kChatMeta, "", std::nullopt, true, false), json::parse(R"({
    "id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"llama",
    "choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null,"logprobs":null}]})"));
  EXPECT_EQ(chunk_body(kChatMeta, "Hel", std::nullopt, true, true), json::parse(R"({
    "id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"llama",
    "choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null,"logprobs":null}],
    "usage":null})"));
  EXPECT_EQ(chunk_body(kChatMeta, "lo", std::nullopt, false, false), json::parse(R"({
    "id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"llama",
    "choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null,"logprobs":null}]})"));
  EXPECT_EQ(chunk_body(kChatMeta, "", "stop", false, false), json::parse(R"({
    "id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"llama",
    "choices":[{"index":0,"delta":{},"finish_reason":"stop","logprobs":null}]})"));
}

TEST(OpenAiApiResponseTest, CompletionChunksAndUsageChunks) {
  EXPECT_EQ(chunk_body(kCompletionMeta, "tok", std::nullopt, true, false), json::parse(R"({
    "id":"cmpl-1","object":"text_completion","created":1700000001,"model":"llama",
    "choices":[{"index":0,"text":"tok","finish_reason":null,"logprobs":null}]})"));
  EXPECT_EQ(chunk_body(kCompletionMeta, "", "length", false, true), json::parse(R"({
    "id":"cmpl-1","object":"text_completion","created":1700000001,"model":"llama",
    "choices":[{"index":0,"text":"","finish_reason":"length","logprobs":null}],"usage":null})"));
  const Usage usage{7, 3, 5};
  const json usage_value = json::parse(
      R"({"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":5}})");
  EXPECT_EQ(usage_chunk_body(kChatMeta, usage), json({{"id", "chatcmpl-1"},
                                                      {"object", "chat.completion.chunk"},
                                                      {"created", 1700000000},
                                                      {"model", "llama"},
                                                      {"choices", json::array()},
                                                      {"usage", usage_value}}));
  EXPECT_EQ(usage_chunk_body(kCompletionMeta, usage), json({{"id", "cmpl-1"},
                                                            {"object", "text_completion"},
                                                            {"created", 1700000001},
                                                            {"model", "llama"},
                                                            {"choices", json::array()},
                                                            {"usage", usage_value}}));
}

TEST(OpenAiApiResponseTest, SseFramingAndModels) {
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_event(json{{"t", "\xc3"}}), "data: {\"t\":\"\xef\xbf\xbd\"}\n\n");  // cut UTF-8 -> U+FFFD
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
  EXPECT_EQ(models_body("llama", 1700000000), json::parse(R"({"object":"list","data":[)"
                                                          R"({"id":"llama","object":"model","created":1700000000,)"
                                                          R"("owned_by":"ppd"}]})"));
}

// Parses an SSE error event back into its JSON, checking the framing.
json sse_error_json(const Status& status) {
  const std::string event = sse_error_event(status);
  EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
  EXPECT_EQ(event.substr(event.size() - 2), "\n\n") << event;
  return json::parse(event.substr(6));
}

TEST(OpenAiApiResponseTest, SseErrorEventsCarryTheOpenAiErrorObject) {
  EXPECT_EQ(sse_error_json(invalid_argument("max_tokens: must be >= 1; got 0")),
            json::parse(R"({"error":{"message":"max_tokens: must be >= 1; got 0",)"
                        R"("type":"invalid_request_error","param":null,"code":400}})"));
  EXPECT_EQ(sse_error_json(unavailable("decode node d1: connection refused")),
            json::parse(R"({"error":{"message":"decode node d1: connection refused",)"
                        R"("type":"service_unavailable_error","param":null,"code":503}})"));
  const std::vector<std::tuple<Status, int, std::string>> codes = {
      {failed_precondition("x"), 400, "invalid_request_error"},
      {not_found("x"), 404, "not_found_error"},
      {resource_exhausted("x"), 429, "rate_limit_error"},
      {Status(StatusCode::kDeadlineExceeded, "x"), 504, "timeout_error"},
      {internal_error("x"), 500, "server_error"},
      {Status(StatusCode::kCancelled, "x"), 500, "server_error"},
  };
  for (const auto& [status, code, type] : codes) {
    const json error = sse_error_json(status)["error"];
    EXPECT_EQ(error["code"], code) << status.to_string();
    EXPECT_EQ(error["type"], type) << status.to_string();
  }
}

}  // namespace
}  // namespace ppd::router
