// Bad input reaches the engine as one clear line naming the field or file, the rule and
// the value; nothing crashes and the engine keeps serving.
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

namespace fs = std::filesystem;

class BrokenModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("ppd-broken-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                     "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(tiny_model_dir(), dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string create_error() {
    SteadyClock clock;
    auto engine = engine::Engine::create(dir_.string(), test_options(), &clock);
    EXPECT_FALSE(engine.ok());
    return engine.ok() ? "" : engine.status().message();
  }
  void replace_in_config(const std::string& from, const std::string& to) {
    std::ifstream in(dir_ / "config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(dir_ / "config.json") << text;
  }

  fs::path dir_;
};

TEST_F(BrokenModelTest, MissingWeightsFile) {
  fs::remove(dir_ / "model.safetensors");
  EXPECT_EQ(create_error(), dir_.string() + ": no model.safetensors or model.safetensors.index.json");
}

TEST_F(BrokenModelTest, TruncatedWeightsFile) {
  const fs::path file = dir_ / "model.safetensors";
  fs::resize_file(file, fs::file_size(file) - 1000);
  EXPECT_EQ(create_error(),
            "model.safetensors: truncated: tensor \"model.layers.3.mlp.down_proj.weight\" needs bytes "
            "[4001792, 4198400) of the data region but it holds 4197912");
}

TEST_F(BrokenModelTest, ShapeDoesNotMatchConfig) {
  replace_in_config("\"intermediate_size\": 384", "\"intermediate_size\": 320");
  EXPECT_EQ(create_error(),
            "model.safetensors: tensor \"model.layers.0.mlp.gate_proj.weight\": shape [384, 128] does not "
            "match config.json: expected [320, 128]");
}

TEST_F(BrokenModelTest, UnknownArchitecture) {
  replace_in_config("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"");
  EXPECT_EQ(create_error(),
            (dir_ / "config.json").string() + ": model_type: unknown \"gpt2\"; supported: llama, mistral, qwen2");
}

TEST(EngineRequestErrorsTest, BadRequestsAreRejectedAndTheEngineKeepsServing) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options());
  ASSERT_NE(engine, nullptr);
  auto add_error = [&](std::vector<TokenId> prompt, request::SamplingParams p) {
    Result<RequestId> r = engine->add_request({.prompt = std::move(prompt), .params = p});
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(add_error(std::vector<TokenId>(600, 5), greedy(1)),
            "prompt: must be shorter than max_model_len 512 to leave room for output; got 600 tokens");
  EXPECT_EQ(add_error({1, 2, 3}, greedy(510)),
            "max_tokens: must be in [1, 509] for a 3-token prompt and max_model_len 512; got 510");
  EXPECT_EQ(add_error({1, 2, 3}, greedy(0)),
            "max_tokens: must be in [1, 509] for a 3-token prompt and max_model_len 512; got 0");
  request::SamplingParams hot = greedy(4);
  hot.temperature = 2.5;
  EXPECT_EQ(add_error({1}, hot), "temperature: must be in [0, 2]; got 2.5");
  request::SamplingParams nucleus = greedy(4);
  nucleus.top_p = 1.5;
  EXPECT_EQ(add_error({1}, nucleus), "top_p: must be in (0, 1]; got 1.5");
  EXPECT_EQ(add_error({1, 9999}, greedy(4)), "prompt: token id 9999 at index 1 outside the vocabulary [0, 2048)");
  EXPECT_TRUE(engine->check_invariants().ok());

  const Completion ok = run_one(*engine, {1}, greedy(5));
  EXPECT_EQ(ok.tokens, (std::vector<TokenId>{147, 201, 282, 215, 286}));
}

TEST(EngineRequestErrorsTest, RequestLargerThanThePoolIsRefused) {
  PPD_REQUIRE_TINYSTORIES(dir);
  auto engine = make_engine(dir, test_options(4));  // 64 token slots
  ASSERT_NE(engine, nullptr);
  Result<RequestId> r = engine->add_request({.prompt = std::vector<TokenId>(60, 5), .params = greedy(10)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "request: 60 prompt + 10 output tokens need 5 KV blocks; the pool holds 4");
}

TEST(EngineOptionsErrorsTest, InvalidOptionsNameTheField) {
  SteadyClock clock;
  engine::EngineOptions o = test_options();
  o.num_threads = 0;
  EXPECT_EQ(engine::Engine::create(tiny_model_dir(), o, &clock).status().message(),
            "num_threads: must be in [1, 256]; got 0");
  o = test_options();
  o.kernels = "neon";
  EXPECT_EQ(engine::Engine::create(tiny_model_dir(), o, &clock).status().message(),
            "kernels: unknown \"neon\"; supported: auto, scalar, avx2");
  o = test_options(0);
  o.kv_cache_bytes = 1000;
  EXPECT_EQ(engine::Engine::create(tiny_model_dir(), o, &clock).status().message(),
            "kv_cache_bytes: 1000 holds no block of 32768 bytes");
  // A pool larger than the machine is refused by name, not left to fail at first touch.
  o = test_options(std::numeric_limits<int>::max());
  std::string message = engine::Engine::create(tiny_model_dir(), o, &clock).status().message();
  EXPECT_TRUE(
      message.starts_with("num_kv_blocks: 2147483647 blocks of 32768 bytes need 65536.0 GiB; this machine has "))
      << message;
  o = test_options(0);
  o.kv_cache_bytes = int64_t{1} << 55;
  message = engine::Engine::create(tiny_model_dir(), o, &clock).status().message();
  EXPECT_TRUE(message.starts_with("kv_cache_bytes: 1099511627776 blocks of 32768 bytes need 33554432.0 GiB"))
      << message;
}

}  // namespace
}  // namespace ppd::testing

namespace ppd::testing {
namespace {

TEST(EngineAbortTest, AbortAtAnyStageFreesEveryBlock) {
  PPD_REQUIRE_TINYSTORIES(dir);
  engine::EngineOptions options = test_options(64);
  options.scheduler.max_num_batched_tokens = 32;  // a long prompt takes several steps
  auto engine = make_engine(dir, options);
  ASSERT_NE(engine, nullptr);
  int survivor_tokens = 0;
  int decoding_tokens = 0;
  auto step = [&](RequestId survivor, RequestId decoding) {
    for (const auto& out : engine->step().outputs) {
      survivor_tokens += out.id == survivor;
      decoding_tokens += out.id == decoding;
    }
    ASSERT_TRUE(engine->check_invariants().ok());
  };
  const RequestId decoding = *engine->add_request({.prompt = {1}, .params = greedy(100)});
  const RequestId survivor = *engine->add_request({.prompt = {1, 147}, .params = greedy(20)});
  step(survivor, decoding);
  step(survivor, decoding);
  const RequestId prefilling = *engine->add_request({.prompt = random_tokens(1, 300, 3, 2048), .params = greedy(50)});
  step(survivor, decoding);  // `prefilling` computed its first chunk
  EXPECT_TRUE(engine->abort_request(prefilling));
  step(survivor, decoding);
  EXPECT_GT(decoding_tokens, 1);
  EXPECT_TRUE(engine->abort_request(decoding));  // mid-decode
  EXPECT_FALSE(engine->abort_request(decoding));
  EXPECT_FALSE(engine->abort_request(RequestId{999}));
  while (engine->has_unfinished()) step(survivor, decoding);
  EXPECT_EQ(survivor_tokens, 20) << "the request nobody aborted runs to its end";
  EXPECT_EQ(engine->num_allocatable_blocks(), 64);
}

}  // namespace
}  // namespace ppd::testing
