// Process-level tests of the `ppd` binary: what a user types, what they see.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  CommandRun r =
      ppd("tokenize --model '" + model + "'",
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
  EXPECT_EQ(r.err,
            "ppd generate: model: \"/nonexistent/model\" is neither a directory nor a preset; presets: tiny, small, "
            "medium, small-bf16, medium-bf16\n");
  r = ppd("generate --model tiny --temperature 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd generate: temperature: must be in [0, 2]; got 3\n");
  r = ppd("model synth --preset huge --out '" + (dir_ / "x").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ppd model synth: preset: unknown \"huge\"; supported: tiny, small, medium, small-bf16, medium-bf16\n");
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
  EXPECT_EQ(r.err,
            "ppd bench serve: endpoint: must start with http:// (https is not supported); got "
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
  EXPECT_NE(r.out.find("+ full prefill of the whole 3072 tokens:            87.95 ms (+452.2%)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("+ append of 64 tokens:                              17.00 ms (+6.7%)"), std::string::npos)
      << r.out;
  r = ppd("sim interference --model llama-3.1-70b --tensor-parallel 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd sim interference: tensor_parallel: must be >= 1 and divide 64 heads and 8 KV heads; got 3\n");
}

// A simulated run is a pure function of its flags: the same seed gives the same result file
// byte for byte, a --config file gives what the same flags give, another seed differs.
TEST_F(CliTest, SimSameSeedSameResultFileByteForByte) {
  const std::string run =
      "sim --model llama-3.1-8b --prefill 1 --decode 2 --policy ppd --scale 0.25 "
      "--num-conversations 40 --rate 8 --records --json ";
  CommandRun r = ppd(run + "'" + (dir_ / "a.json").string() + "' --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("== ppd at 8 conv/s: 80 requests measured"), std::string::npos) << r.out;
  ASSERT_EQ(ppd(run + "'" + (dir_ / "b.json").string() + "' --seed 3").exit_code, 0);
  std::ofstream(dir_ / "sim.toml") << "model = \"llama-3.1-8b\"\nprefill = 1\ndecode = 2\npolicy = \"ppd\"\n"
                                      "scale = 0.25\nnum-conversations = 40\nrate = [8]\nseed = 3\nrecords = true\n";
  r = ppd("sim --config '" + (dir_ / "sim.toml").string() + "' --json '" + (dir_ / "c.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ppd(run + "'" + (dir_ / "d.json").string() + "' --seed 4").exit_code, 0);
  const std::string a = slurp(dir_ / "a.json");
  EXPECT_NE(a.find("\"records\""), std::string::npos);
  EXPECT_EQ(a, slurp(dir_ / "b.json"));
  EXPECT_EQ(a, slurp(dir_ / "c.json"));
  EXPECT_NE(a, slurp(dir_ / "d.json"));
}

TEST_F(CliTest, SimWritesAChromeTrace) {
  const std::string trace = (dir_ / "trace.json").string();
  const CommandRun r =
      ppd("sim --prefill 1 --decode 1 --policy pd --scale 0.1 --num-conversations 3 --rate 1 "
          "--chrome-trace '" +
          trace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string t = slurp(trace);
  EXPECT_TRUE(t.starts_with("[\n{\"name\":\"thread_name\"")) << t.substr(0, 80);
  EXPECT_TRUE(t.ends_with("\n]\n"));
  EXPECT_NE(t.find("\"name\":\"prefill\",\"ph\":\"X\""), std::string::npos);
  EXPECT_NE(t.find("\"name\":\"pull\",\"cat\":\"kv\",\"ph\":\"b\""), std::string::npos);
}

TEST_F(CliTest, SimBadInputIsOneClearLine) {
  CommandRun r = ppd("sim --rate 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ppd sim: --rate: must be > 0; got 0\n");
  r = ppd("sim --rate 1 --profile '" + (dir_ / "none.json").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("ppd sim: --profile: ")) << r.err;
  std::ofstream(dir_ / "bad.json")
      << R"({"kind": "ppd-step-profile", "name": "x", "model": "small", "coefficients_us": [1, -2, 0, 0, 0]})";
  r = ppd("sim --rate 1 --profile '" + (dir_ / "bad.json").string() + "'");
  EXPECT_NE(r.err.find("coefficients_us: expected 5 numbers >= 0; got [1,-2,0,0,0]"), std::string::npos) << r.err;
  r = ppd("sim --rate 1 --policy table");
  EXPECT_EQ(r.err, "ppd sim: --table: the table policy needs its lookup table file\n");
  r = ppd("sim --rate 1 --model llama-3.1-70b --tensor-parallel 3");
  EXPECT_EQ(r.err, "ppd sim: tensor_parallel: must be >= 1 and divide 64 heads and 8 KV heads; got 3\n");
  r = ppd("sim --rate 1 --model llama-3.1-70b --hardware a100-80gb --tensor-parallel 1 --kv-blocks 0");
  EXPECT_EQ(r.err,
            "ppd sim: --kv-blocks: a100-80gb leaves no room for KV blocks; give --kv-blocks or a larger "
            "memory\n");
  std::ofstream(dir_ / "bad.toml") << "decodes = 3\n";
  r = ppd("sim --config '" + (dir_ / "bad.toml").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("decodes"), std::string::npos) << r.err;
}

// The profile `ppd sim calibrate` writes is one `ppd sim --profile` runs on.
TEST_F(CliTest, SimCalibrateWritesAProfileTheSimulatorRuns) {
  const std::string profile = (dir_ / "profile.json").string();
  CommandRun r = ppd("sim calibrate --model tiny --batches 1,2 --contexts 32,64 --repeats 1 --out '" + profile + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile: cpu tiny, 1 thread, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over 14 steps; written to " + profile), std::string::npos) << r.out;
  EXPECT_NE(slurp(profile).find("\"kind\": \"ppd-step-profile\""), std::string::npos);
  // A CPU profile records no device memory: the KV pool is given, as to `ppd node`.
  r = ppd("sim --model tiny --profile '" + profile +
          "' --prefill 1 --decode 1 --scale 0.05 --num-conversations 6 --rate 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--kv-cache-mib: the profile \"cpu tiny, 1 thread, "), std::string::npos) << r.err;
  r = ppd("sim --model tiny --profile '" + profile +
          "' --kv-cache-mib 64 --prefill 1 --decode 1 --scale 0.05 "
          "--num-conversations 6 --rate 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("12 requests measured"), std::string::npos) << r.out;
  // Calibrations made at different times fit together from the samples their files keep.
  const std::string both = (dir_ / "both.json").string();
  r = ppd("sim calibrate --refit '" + profile + "' --refit '" + profile + "' --out '" + both + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile: cpu tiny, 1 thread, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; 28 steps of 2 calibrations\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over 28 steps; written to " + both), std::string::npos) << r.out;
  std::ofstream(dir_ / "bare.json") << R"({"kind": "ppd-step-profile", "name": "x", "model": "tiny",
                                           "coefficients_us": [1, 1, 0, 0, 0]})";
  r = ppd("sim calibrate --refit '" + (dir_ / "bare.json").string() + "' --out '" + both + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bare.json: the profile keeps no samples to fit"), std::string::npos) << r.err;
}

// The H100 and H200 profiles scripts/gpu_step_profile.py measured: the C++ fit of the steps
// each keeps gives back the script's own fit (the two fitters agree), and the simulator runs
// on the H100 one.
TEST_F(CliTest, TheMeasuredGpuProfileRefitsToItselfAndRuns) {
  for (const char* card : {"h200", "h100"}) {
    SCOPED_TRACE(card);
    const std::string committed = std::string(PPD_SOURCE_DIR "/tests/data/gpu-profiles/profile-") + card + ".json";
    const std::string refit = (dir_ / "refit.json").string();
    CommandRun r = ppd("sim calibrate --refit '" + committed + "' --out '" + refit + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(", llama-3.1-8b bf16 random weights"), std::string::npos) << r.out;
    const nlohmann::json script = nlohmann::json::parse(slurp(committed));
    const nlohmann::json ours = nlohmann::json::parse(slurp(refit));
    ASSERT_GE(script["num_samples"].get<int>(), 40);
    EXPECT_EQ(ours["num_samples"], script["num_samples"]);
    EXPECT_EQ(ours["token_floor"], script["token_floor"]);
    for (size_t i = 0; i < 5; ++i) {
      const double a = script["coefficients_us"][i], b = ours["coefficients_us"][i];
      EXPECT_NEAR(b, a, 1e-9 * std::max(1.0, a)) << i;
    }
    EXPECT_NEAR(ours["mean_abs_error"].get<double>(), script["mean_abs_error"].get<double>(), 1e-9);
  }
  const std::string committed = PPD_SOURCE_DIR "/tests/data/gpu-profiles/profile-h100.json";
  // Two measurements of a card fitted together keep the card's name (not this machine's).
  const std::string twice = (dir_ / "twice.json").string();
  CommandRun r = ppd("sim calibrate --refit '" + committed + "' --refit '" + committed + "' --out '" + twice + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string name = nlohmann::json::parse(slurp(twice))["name"];
  EXPECT_EQ(name.rfind("NVIDIA H100 80GB HBM3", 0), 0u) << name;
  EXPECT_NE(name.find("; 90 steps of 2 calibrations"), std::string::npos) << name;
  // The spec-sheet roofline against the card's measured steps: a table, and exit 1 when some
  // step is outside the tolerance.
  r = ppd("sim validate --profile '" + committed + "' --roofline h100-80gb --tolerance 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("roofline h100-80gb on llama-3.1-8b against"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200 decodes at 1024 + 1024 on 2048"), std::string::npos) << r.out;
  r = ppd("sim validate --profile '" + committed + "' --roofline h100-80gb --tolerance 0.0001");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the roofline is off the measured steps by more than 0% on"), std::string::npos) << r.err;

  r = ppd("sim interference --profile '" + committed + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(measured profile, model llama-3.1-8b)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ append-prefill of 1024 tokens on 2048 cached:"), std::string::npos) << r.out;
  r = ppd("sim interference --profile '" + committed + "' --hardware h200");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--hardware excludes --profile"), std::string::npos) << r.err;

  const std::string results = (dir_ / "results.json").string();
  r = ppd("sim --model llama-3.1-8b --profile '" + committed +
          "' --kv-blocks 20000 --prefill 1 --decode 1 "
          "--num-conversations 6 --rate 2 --json '" +
          results + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("12 requests measured"), std::string::npos) << r.out;
  EXPECT_TRUE(nlohmann::json::parse(slurp(results))["cost_model"].get<std::string>().starts_with(
      "profile NVIDIA H100 80GB HBM3"));
  EXPECT_EQ(nlohmann::json::parse(slurp(results))["kv_blocks_per_node"], 20000);
  // Without --kv-blocks the pool comes from the H100's memory the profile records (85,017,493,504
  // bytes): 85% of it less 16.06 GB of weights is 26,800 blocks of 2 MiB (56.2 GB), not 1 GiB.
  r = ppd("sim --model llama-3.1-8b --profile '" + committed +
          "' --prefill 1 --decode 1 --num-conversations 6 "
          "--rate 2 --json '" +
          results + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(results))["kv_blocks_per_node"], 26800);
}

TEST_F(CliTest, SimValidateComparesMeansAndFailsOutsideTheTolerance) {
  auto run = [](double t1_ttft, double t2_tpot) {
    const std::string group = R"({"ttft_ms": {"mean": %T}, "tpot_ms": {"mean": %P}})";
    auto fill = [&](double ttft, double tpot) {
      std::string g = group;
      g.replace(g.find("%T"), 2, std::to_string(ttft));
      g.replace(g.find("%P"), 2, std::to_string(tpot));
      return g;
    };
    return R"({"runs": [{"label": "ppd", "rate": 0.5, "summary": {"turn1": )" + fill(t1_ttft, 5) +
           R"(, "turn2plus": )" + fill(100, t2_tpot) + "}}]}";
  };
  std::ofstream(dir_ / "measured.json") << run(200, 10);
  std::ofstream(dir_ / "close.json") << run(220, 9);
  std::ofstream(dir_ / "far.json") << run(200, 12);
  const std::string measured = " --measured '" + (dir_ / "measured.json").string() + "'";
  CommandRun r = ppd("sim validate" + measured + " --simulated '" + (dir_ / "close.json").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("turn 1 TTFT mean ms        200.00     220.00   +10.0%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 of 4 means within 15%"), std::string::npos) << r.out;
  r = ppd("sim validate" + measured + " --simulated '" + (dir_ / "far.json").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("+20.0%  outside"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "ppd sim validate: 1 of 4 means are off by more than 15%\n");
}

// The profile against the steps a node logged: decode-only steps by batch size, per decoding
// sequence, and lone prefills; steps mixing both are counted and left out.
TEST_F(CliTest, SimValidateChecksAProfileAgainstTheStepsANodeLogged) {
  // step_us = 1000 + 1000 per token computed.
  std::ofstream(dir_ / "profile.json") << R"({"kind": "ppd-step-profile", "name": "test", "model": "small",
                                              "coefficients_us": [1000, 1000, 0, 0, 0]})";
  auto line = [](int prefill, int decodes, int context, int us) {
    return "2026-11-27T11:25:17.988 debug step prefill_tokens=" + std::to_string(prefill) +
           " decodes=" + std::to_string(decodes) + " context_tokens=" + std::to_string(context) +
           " step_us=" + std::to_string(us) + "\n";
  };
  std::ofstream(dir_ / "node.log") << "2026-11-27T11:25:17.900 info node start name=decode-0\n"
                                   << line(0, 1, 300, 2000) << line(0, 1, 301, 2000) << line(0, 2, 600, 3000)
                                   << line(100, 0, 100, 101000) << line(10, 1, 50, 9);
  std::ofstream(dir_ / "slow.log") << line(0, 1, 300, 4000) << line(0, 12, 3000, 26000);
  const std::string profile = " --profile '" + (dir_ / "profile.json").string() + "'";
  CommandRun r = ppd("sim validate" + profile + " --node-log '" + (dir_ / "node.log").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("the profile against 5 logged steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 decodes                            2         2.00        2.00    +0.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("decode step per sequence             3         2.50        2.50    +0.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("lone prefill                         1       101.00      101.00    +0.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 steps mixing prefill and decodes not compared"), std::string::npos) << r.out;
  r = ppd("sim validate" + profile + " --node-log '" + (dir_ / "slow.log").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("9-16 decodes                         1        26.00       13.00   -50.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("-50.0%  outside"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("slow.log: the profile is off the node's own steps by more than 15%"), std::string::npos)
      << r.err;
  std::ofstream(dir_ / "bad.log") << "x\n2026 debug step prefill_tokens=1 decodes=-1 context_tokens=1 step_us=1\n";
  r = ppd("sim validate" + profile + " --node-log '" + (dir_ / "bad.log").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find("bad.log:2: expected \"step prefill_tokens=N decodes=N context_tokens=N step_us=N\" with numbers "
                 ">= 0; got \"step prefill_tokens=1 decodes=-1"),
      std::string::npos)
      << r.err;
  r = ppd("sim validate" + profile);
  EXPECT_EQ(r.err, "ppd sim validate: --profile: give --node-log or --roofline with it\n");
  r = ppd("sim validate --roofline h100-80gb");
  EXPECT_EQ(r.err, "ppd sim validate: --node-log and --roofline: they need --profile\n");
}

// Steps that follow the profile's linear form exactly give a profile that reproduces them.
TEST_F(CliTest, SimCalibrateFitsTheStepsNodesLogged) {
  auto line = [](int prefill, int decodes, int context, int us) {
    return "t debug step prefill_tokens=" + std::to_string(prefill) + " decodes=" + std::to_string(decodes) +
           " context_tokens=" + std::to_string(context) + " step_us=" + std::to_string(us) + "\n";
  };
  // 1000 µs per step and per token computed, 2 µs per token of decode context.
  std::ofstream(dir_ / "decode.log") << line(0, 1, 500, 3000) << line(0, 2, 1000, 5000) << line(0, 4, 1500, 8000)
                                     << line(0, 1, 1250, 4500) << line(20, 1, 300, 99999);
  std::ofstream(dir_ / "prefill.log") << line(100, 0, 100, 101000) << line(200, 0, 200, 201000);
  const std::string profile = (dir_ / "p.json").string();
  CommandRun r = ppd("sim calibrate --from-node-log '" + (dir_ / "decode.log").string() + "' --from-node-log '" +
                     (dir_ / "prefill.log").string() + "' --out '" + profile + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile: cpu small, fitted to 6 steps of 2 node logs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("decode step per sequence             4         6.19        6.19    +0.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("lone prefill                         2       151.00      151.00    +0.0%"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mean |error| 0.0% over 6 steps"), std::string::npos) << r.out;
  r = ppd("sim validate --profile '" + profile + "' --node-log '" + (dir_ / "decode.log").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = ppd("sim calibrate --from-node-log '" + (dir_ / "prefill.log").string() + "' --out '" + profile + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ppd sim calibrate: "), std::string::npos) << r.err;
  r = ppd("sim calibrate --from-node-log '" + (dir_ / "decode.log").string() + "' --refit '" + profile + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

// A sweep's results do not depend on how many threads ran it; its table feeds `--policy table`.
TEST_F(CliTest, SimSweepIsTheSameOnAnyThreadCountAndBuildsATable) {
  const std::string grid =
      "sim sweep --rate 2,4 --splits 1P1D,1P2D --policies pd,local --scale 0.1 "
      "--num-conversations 12 --json ";
  CommandRun r = ppd(grid + "'" + (dir_ / "one.json").string() + "' --jobs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sweep: 8/8 points"), std::string::npos) << r.err;
  ASSERT_EQ(ppd(grid + "'" + (dir_ / "two.json").string() + "' --jobs 2").exit_code, 0);
  EXPECT_EQ(slurp(dir_ / "one.json"), slurp(dir_ / "two.json"));
  EXPECT_NE(slurp(dir_ / "one.json").find("\"policy\": \"local\""), std::string::npos);
  ASSERT_EQ(ppd(grid + "'" + (dir_ / "template.json").string() + "' --jobs 2 --template-tokens 40").exit_code, 0);
  EXPECT_NE(slurp(dir_ / "one.json"), slurp(dir_ / "template.json")) << "--template-tokens lengthens every prompt";
  const std::string table = (dir_ / "table.json").string();
  r = ppd("sim sweep --emit-table '" + table +
          "' --table-rates 1,4 --prefill 1 --decode 1 --scale 0.1 "
          "--num-conversations 8 --jobs 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("lookup table of 36 cells written"), std::string::npos) << r.err;
  r = ppd("sim --policy table --table '" + table +
          "' --prefill 1 --decode 1 --scale 0.1 --num-conversations 8 --rate 1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = ppd("sim sweep --rate 1 --splits 2P");
  EXPECT_EQ(r.err, "ppd sim sweep: --splits: expected NPMD with M >= 1, such as 1P3D; got \"2P\"\n");
}

// A small grid of the policy scorecard (the full one is docs/results/policy-scorecard): every
// policy runs in every cell, the table policy on a table built for the grid, and the report
// carries a summary line per grid and a row per cell.
TEST_F(CliTest, SimScorecardScoresEveryPolicyInEveryCell) {
  const std::string profile = PPD_SOURCE_DIR "/tests/data/gpu-profiles/profile-h100.json";
  const fs::path out = dir_ / "scorecard";
  CommandRun r = ppd("sim scorecard --profiles '" + profile +
                     "' --links 150e9 --splits 1P1D --rate 4 --workloads paper "
                     "--paper-contexts small --paper-types tiny,huge_paste --num-conversations 20 --jobs 2 --out '" +
                     out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("h100 150 GB/s paper: ppd within 10% TTFT and 5% TPOT of the best fixed policy in "),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(out / "tables" / "table-h100-150GBps-1P1D.json"));
  const nlohmann::json j = nlohmann::json::parse(slurp(out / "scorecard.json"));
  ASSERT_EQ(j["cells"].size(), 2u);
  ASSERT_EQ(j["run_columns"].size(), 15u);
  for (const nlohmann::json& cell : j["cells"]) {
    ASSERT_EQ(cell["runs"].size(), 11u);
    for (const nlohmann::json& run : cell["runs"]) EXPECT_EQ(run.size(), 15u) << run.dump();
    EXPECT_GT(cell["slo_tight"]["ttft_ms"].get<double>(), 0);
    EXPECT_GT(cell["slo_loose"]["tpot_ms"].get<double>(), cell["slo_tight"]["tpot_ms"].get<double>());
  }
  EXPECT_EQ(j["cells"][0]["runs"][8][0], "ppd");
  EXPECT_GT(j["cells"][0]["runs"][8][12].get<int>(), 0) << "ppd's runs carry its prediction error";
  const std::string report = slurp(out / "report.md");
  EXPECT_NE(report.find("| small/huge_paste | 1P1D | 4 |"), std::string::npos) << report;
  EXPECT_NE(report.find("Written by `ppd sim scorecard`"), std::string::npos);
  r = ppd("sim scorecard --profiles '" + profile + "' --policies ppd --splits 1X --out '" + out.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--splits: expected NPMD"), std::string::npos) << r.err;
  r = ppd("sim scorecard --profiles nowhere.json --out '" + out.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("ppd sim scorecard: --profiles: nowhere.json: ")) << r.err;
}

// Repeats: every (policy, rate) runs --repeats times on its own cluster; the report gives medians
// with ranges and judges ppd in SLO mode against the best other policy.
TEST_F(CliTest, BenchCompareRepeatsEveryPointAndJudgesPpdInSloMode) {
  const fs::path out = dir_ / "compare";
  CommandRun r =
      ppd("bench compare --model tiny --rate 2 --policies pd,ppd-slo --repeats 2 --scale 0.1 "
          "--num-conversations 3 --slo-ttft-ms 1000 --slo-tpot-ms 100 --threads 2 --no-progress --out '" +
          out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(slurp(out / "results.json"));
  ASSERT_EQ(j["runs"].size(), 4u);
  EXPECT_EQ(j["runs"][3]["label"], "ppd-slo");
  EXPECT_EQ(j["runs"][3]["repeat"], 1);
  const std::string report = slurp(out / "report.md");
  EXPECT_NE(report.find("## SLO attainment: ppd-slo against the best other policy"), std::string::npos) << report;
  EXPECT_NE(report.find("| pd | 2 | "), std::string::npos) << report;
  EXPECT_NE(report.find("- SLOs (attainment and goodput): TTFT <= 1000 ms and TPOT <= 100 ms"), std::string::npos);
  r = ppd("bench compare --model tiny --rate 2 --policies ppd-slo --out '" + out.string() + "'");
  EXPECT_EQ(r.err, "ppd bench compare: --policies: ppd-slo needs --slo-ttft-ms or --slo-tpot-ms\n");
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
  for (const char* flag :
       {"--endpoint", "--rate", "--workload", "--trace", "--concurrency", "--warmup", "--duration-s", "--timeout-ms",
        "--slo-ttft-ms", "--slo-tpot-ms", "--json", "--plot-dir", "--think-time-s"}) {
    EXPECT_NE(serve.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(CliTest, BenchEngineSmokeRun) {
  const CommandRun r =
      ppd("bench engine --models tiny --threads 1 --prompt-tokens 64 --context-tokens 64 "
          "--batches 1,2 --decode-steps 4 --repeats 1 --json '" +
          (dir_ / "bench.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("machine: "), std::string::npos);
  EXPECT_NE(r.out.find("prefill 64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("decode b=2 ctx=64"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir_ / "bench.json").find("\"tokens_per_s\""), std::string::npos);
}

}  // namespace
