// Process-level tests of the `ppd` binary: what a user types, what they see.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ppd-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `ppd <args>` with stdin from `input`, with the model cache inside the test dir.
  CommandRun ppd(const std::string& args, const std::string& input = "") {
    std::ofstream(dir_ / "stdin") << input;
    const std::string cmd = "PPD_CACHE_DIR='" + (dir_ / "cache").string() + "' '" PPD_BINARY "' " + args + " <'" +
                            (dir_ / "stdin").string() + "' >'" + (dir_ / "stdout").string() + "' 2>'" +
                            (dir_ / "stderr").string() + "'";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }

  static std::string tinystories() {
    const char* shared = std::getenv("PPD_SHARED_DIR");
    return shared && *shared ? std::string(shared) + "/models/tinystories-656k" : "";
  }

  fs::path dir_;
};

TEST_F(CliTest, GenerateFromAnEmptyPromptTellsTheReferenceStory) {
  const std::string model = tinystories();
  if (model.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
  const CommandRun r = ppd("generate --model '" + model + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("Once upon a time, there was a little girl named Lily.")) << r.out;
  EXPECT_NE(r.err.find("output tokens"), std::string::npos) << r.err;
}

TEST_F(CliTest, TokenizePrintsIds) {
  const std::string model = tinystories();
  if (model.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
  // The text the reference greedy ids decode to: encoding gives "▁" (80), then those ids.
  CommandRun r = ppd("tokenize --model '" + model + "'",
                     "Once upon a time, there was a little girl named Lily. She had a toy car that she loved very much");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "80 147 201 282 215 286 598 1662 356 499 826 1363 1145 1652\n");
  r = ppd("tokenize --bos --model '" + model + "'", "Once");
  EXPECT_TRUE(r.out.starts_with("1 ")) << r.out;
}

TEST_F(CliTest, SynthThenGenerateWithAPreset) {
  CommandRun r = ppd("model synth --preset tiny --seed 3 --out '" + (dir_ / "tiny3").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "tiny3" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "tiny3" / "tokenizer.json"));
  r = ppd("generate --model '" + (dir_ / "tiny3").string() + "' --prompt 'Hello there' --max-tokens 8 --ignore-eos");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("8 output tokens"), std::string::npos) << r.err;
  // A preset name works wherever a model directory does; it is synthesized on first use.
  r = ppd("generate --model tiny --max-tokens 4 --ignore-eos --temperature 0.7 --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandRun again = ppd("generate --model tiny --max-tokens 4 --ignore-eos --temperature 0.7 --seed 5");
  EXPECT_EQ(again.out, r.out) << "same seed, same text";
}

TEST_F(CliTest, ErrorsAreOneClearLine) {
  CommandRun r = ppd("generate --model /nonexistent/model");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd generate: model: \"/nonexistent/model\" is neither a directory nor a preset; presets: tiny, small, medium\n");
  r = ppd("generate --model tiny --temperature 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd generate: temperature: must be in [0, 2]; got 3\n");
  r = ppd("model synth --preset huge --out '" + (dir_ / "x").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd model synth: preset: unknown \"huge\"; supported: tiny, small, medium\n");
  r = ppd("frobnicate");
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(CliTest, BenchServeBadInputIsOneClearLine) {
  CommandRun r = ppd("bench serve --endpoint http://127.0.0.1:1 --rate 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd bench serve: --rate: must be > 0; got 0\n");
  r = ppd("bench serve --endpoint http://127.0.0.1:1 --rate -2");
  EXPECT_EQ(r.err, "ppd bench serve: --rate: must be > 0; got -2\n");
  r = ppd("bench serve --endpoint https://example.com:443 --rate 1");
  EXPECT_EQ(r.err, "ppd bench serve: endpoint: must start with http:// (https is not supported); got "
                   "\"https://example.com:443\"\n");
  // Nothing listens on port 1: the endpoint check fails before any load is sent.
  r = ppd("bench serve --endpoint http://127.0.0.1:1 --rate 1 --no-progress");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("ppd bench serve: endpoint http://127.0.0.1:1: GET /v1/models failed: ")) << r.err;
  const std::string trace = (dir_ / "bad.jsonl").string();
  std::ofstream(trace) << "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [0]}\n"
                       << "{\"timestamp\": 5, \"input_length\": \"many\", \"output_length\": 5, \"hash_ids\": [0]}\n";
  // The workload is checked after the endpoint: `ppd bench compare` reports these with its cluster up.
  r = ppd("bench compare --model tiny --rate 1 --policies pd --workload mooncake --trace '" + trace + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(trace + ": line 2: input_length"), std::string::npos) << r.err;
}

TEST_F(CliTest, SimInterferencePrintsTheThreeSteps) {
  CommandRun r = ppd("sim interference --hardware h100-80gb --model llama-3.1-8b --decode-batch 200");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("decode batch 200 at 1024 tokens of context: 15.93 ms per step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ full prefill of 1024 tokens:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ append-prefill of 1024 tokens on 2048 cached:"), std::string::npos) << r.out;
  r = ppd("sim interference --model llama-3.1-70b --tensor-parallel 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd sim interference: tensor_parallel: must be >= 1 and divide 64 heads and 8 KV heads; got 3\n");
}

TEST_F(CliTest, HelpExplainsEveryFlag) {
  const CommandRun r = ppd("generate --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--model", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--seed",
                           "--ignore-eos", "--chat", "--threads", "--kernels"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  const CommandRun serve = ppd("bench serve --help");
  EXPECT_EQ(serve.exit_code, 0);
  for (const char* flag : {"--endpoint", "--rate", "--workload", "--trace", "--concurrency", "--warmup", "--duration-s",
                           "--timeout-ms", "--slo-ttft-ms", "--slo-tpot-ms", "--json", "--plot-dir", "--think-time-s"}) {
    EXPECT_NE(serve.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(CliTest, BenchEngineSmokeRun) {
  const CommandRun r = ppd("bench engine --models tiny --threads 1 --prompt-tokens 64 --context-tokens 64 "
                    "--batches 1,2 --decode-steps 4 --repeats 1 --json '" + (dir_ / "bench.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("machine: "), std::string::npos);
  EXPECT_NE(r.out.find("prefill 64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("decode b=2 ctx=64"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir_ / "bench.json").find("\"tokens_per_s\""), std::string::npos);
}

}  // namespace
