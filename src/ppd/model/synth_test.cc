#include "ppd/model/synth.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/model/safetensors.h"
#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> file_names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

SynthOptions tiny_options(uint64_t seed) { return SynthOptions{*preset_config("tiny"), seed}; }

TEST(SynthTest, PresetParameterCounts) {
  EXPECT_EQ(preset_config("tiny")->num_parameters(), 1049728);      // ~1M
  EXPECT_EQ(preset_config("small")->num_parameters(), 27795968);    // ~28M
  EXPECT_EQ(preset_config("medium")->num_parameters(), 213156864);  // ~213M
  for (const std::string_view name : preset_names()) EXPECT_TRUE(preset_config(name)->tie_word_embeddings);
  EXPECT_EQ(preset_config("small-bf16")->num_parameters(), 27795968);
  EXPECT_EQ(preset_dtype("small"), Dtype::kF32);
  EXPECT_EQ(preset_dtype("medium-bf16"), Dtype::kBF16);
  EXPECT_EQ(preset_config("huge").status().message(),
            "preset: unknown \"huge\"; supported: tiny, small, medium, small-bf16, medium-bf16");
}

TEST(SynthTest, WritesHfLayoutWithMatchingTokenIds) {
  TempDir dir;
  const Result<SynthSummary> summary = synthesize_model(tiny_options(0), dir.path());
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(file_names(dir.path()),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                                      "tokenizer_config.json"}));
  int64_t total = 0;
  for (const std::string& name : file_names(dir.path())) total += static_cast<int64_t>(fs::file_size(dir.file(name)));
  EXPECT_EQ(summary->num_bytes_written, total);
  EXPECT_EQ(summary->num_parameters, 1049728);
  const Result<ModelConfig> config = load_model_config(dir.path());
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(*config->bos_token_id, 256);
  EXPECT_EQ(config->eos_token_ids, (std::vector<TokenId>{257, 259}));  // generation_config adds <|im_end|>
  const auto raw = nlohmann::json::parse(*read_file(dir.file("config.json")));
  EXPECT_EQ(raw["model_type"], "llama");
  EXPECT_EQ(raw["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(raw["eos_token_id"], 257);
  EXPECT_EQ(raw["torch_dtype"], "float32");
  const auto tokenizer_config = nlohmann::json::parse(*read_file(dir.file("tokenizer_config.json")));
  EXPECT_EQ(tokenizer_config["bos_token"], "<|bos|>");
  EXPECT_EQ(tokenizer_config["eos_token"], "<|eos|>");
  EXPECT_EQ(tokenizer_config["add_bos_token"], true);
  EXPECT_NE(tokenizer_config["chat_template"].get<std::string>().find("<|im_start|>"), std::string::npos);
}

TEST(SynthTest, SameSeedGivesIdenticalBytes) {
  TempDir a, b;
  ASSERT_TRUE(synthesize_model(tiny_options(42), a.path()).ok());
  ASSERT_TRUE(synthesize_model(tiny_options(42), b.path()).ok());
  for (const std::string& name : file_names(a.path())) {
    EXPECT_EQ(*read_file(a.file(name)), *read_file(b.file(name))) << name;
  }
}

TEST(SynthTest, DifferentSeedGivesDifferentWeights) {
  TempDir a, b;
  ASSERT_TRUE(synthesize_model(tiny_options(1), a.path()).ok());
  ASSERT_TRUE(synthesize_model(tiny_options(2), b.path()).ok());
  EXPECT_NE(*read_file(a.file("model.safetensors")), *read_file(b.file("model.safetensors")));
  EXPECT_EQ(*read_file(a.file("tokenizer.json")), *read_file(b.file("tokenizer.json")));
}

// Pins the generator: the same seed must give these exact values on every platform.
TEST(SynthTest, GoldenValuesAndInitScales) {
  TempDir dir;
  ASSERT_TRUE(synthesize_model(tiny_options(0), dir.path()).ok());
  const Result<SafetensorsFile> file = SafetensorsFile::open(dir.file("model.safetensors"));
  ASSERT_TRUE(file.ok());
  const TensorView* embed = file->find("model.embed_tokens.weight");
  std::vector<float> values(static_cast<size_t>(embed->num_elements()));
  embed->copy_to_f32(values.data());
  double sum = 0, sum_squares = 0;
  for (const float v : values) {
    sum += v;
    sum_squares += double{v} * v;
  }
  const double mean = sum / values.size(), stddev = std::sqrt(sum_squares / values.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(stddev, 3.0 / std::sqrt(128.0), 0.002);
  EXPECT_EQ(fmt::format("{:.9g} {:.9g} {:.9g}", values[0], values[1], values[2]),
            "-0.369464219 0.219562098 0.0105260853");
  const std::string bytes = *read_file(dir.file("model.safetensors"));
  EXPECT_EQ(fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size())), "13bbfbc00826bdce");
}

TEST(SynthTest, ValidatesOptions) {
  TempDir dir;
  SynthOptions options = tiny_options(0);
  options.config.num_heads = 3;
  EXPECT_EQ(synthesize_model(options, dir.path()).status().message(),
            "synth config: num_attention_heads: must be a multiple of num_key_value_heads (2); got 3");
  options = tiny_options(0);
  options.config.vocab_size = 100;
  EXPECT_EQ(synthesize_model(options, dir.path()).status().message(),
            "vocab_size: must be in [261, 1048576] for the synthetic tokenizer; got 100");
  options = tiny_options(0);
  options.num_shards = 1000;
  EXPECT_EQ(synthesize_model(options, dir.path()).status().message(), "num_shards: must be in [1, 38]; got 1000");
}

TEST(SynthTest, OverridesAndUntiedModels) {
  TempDir dir;
  SynthOptions options = tiny_options(0);
  options.config.tie_word_embeddings = false;
  options.config.num_layers = 1;
  options.dtype = Dtype::kBF16;
  ASSERT_TRUE(synthesize_model(options, dir.path()).ok());
  const Result<SafetensorsFile> file = SafetensorsFile::open(dir.file("model.safetensors"));
  ASSERT_TRUE(file.ok());
  EXPECT_NE(file->find("lm_head.weight"), nullptr);
  EXPECT_EQ(file->find("model.layers.0.mlp.up_proj.weight")->dtype, Dtype::kBF16);
  EXPECT_EQ(file->find("model.layers.1.mlp.up_proj.weight"), nullptr);
}

TEST(SynthTest, ResolveModel) {
  TempDir cache, model;
  EXPECT_EQ(*resolve_model(model.path(), cache.path()), model.path());
  const Result<std::string> tiny = resolve_model("tiny", cache.path());
  ASSERT_TRUE(tiny.ok()) << tiny.status().to_string();
  EXPECT_EQ(*tiny, cache.file("tiny-seed0"));
  EXPECT_TRUE(load_model_config(*tiny).ok());
  const auto written = fs::last_write_time(cache.file("tiny-seed0/model.safetensors"));
  EXPECT_EQ(*resolve_model("tiny", cache.path()), *tiny);
  EXPECT_EQ(fs::last_write_time(cache.file("tiny-seed0/model.safetensors")), written);
  EXPECT_EQ(file_names(cache.path()), std::vector<std::string>{"tiny-seed0"});  // no temp dir left
  const Status missing = resolve_model("x", cache.path()).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(),
            "model: \"x\" is neither a directory nor a preset; presets: tiny, small, medium, small-bf16, "
            "medium-bf16");
}

}  // namespace
}  // namespace ppd::model
