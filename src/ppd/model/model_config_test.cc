#include "ppd/model/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

using nlohmann::json;

json llama_config() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256,
    "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 8,
    "num_key_value_heads": 4, "vocab_size": 1000, "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "hidden_act": "silu",
    "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16", "use_cache": true})");
}

std::string error_of(const json& config) {
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  return parsed.ok() ? "OK" : parsed.status().message();
}

TEST(ModelConfigTest, TinyStoriesParsesToKnownValues) {
  const std::string dir = tinystories_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: no TinyStories model to read";
  const Result<ModelConfig> config = load_model_config(dir);
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->architecture, Architecture::kLlama);
  EXPECT_EQ(config->hidden_size, 128);
  EXPECT_EQ(config->num_layers, 2);
  EXPECT_EQ(config->num_heads, 8);
  EXPECT_EQ(config->num_kv_heads, 4);
  EXPECT_EQ(config->head_dim, 16);
  EXPECT_EQ(config->intermediate_size, 384);
  EXPECT_EQ(config->vocab_size, 2048);
  EXPECT_DOUBLE_EQ(config->rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(config->rope_theta, 10000.0);
  EXPECT_EQ(config->rope_scaling.kind, RopeScalingKind::kNone);
  EXPECT_TRUE(config->tie_word_embeddings);
  EXPECT_FALSE(config->attention_bias);
  EXPECT_EQ(config->max_model_len(), 512);
  EXPECT_EQ(config->bos_token_id, 1);
  EXPECT_EQ(config->eos_token_ids, std::vector<TokenId>{2});
  EXPECT_EQ(config->num_parameters(), 656000);
}

TEST(ModelConfigTest, LlamaDefaultsAndOptionalFields) {
  json config = llama_config();
  config.erase("num_key_value_heads");
  config.erase("architectures");
  config.erase("rms_norm_eps");
  config["rope_scaling"] = nullptr;
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->num_kv_heads, 8);
  EXPECT_EQ(parsed->head_dim, 32);
  EXPECT_DOUBLE_EQ(parsed->rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(parsed->rope_theta, 500000.0);
  EXPECT_FALSE(parsed->tie_word_embeddings);
  EXPECT_EQ(parsed->sliding_window, 0);
}

TEST(ModelConfigTest, ExplicitHeadDimAndLlamaAttentionBias) {
  json config = llama_config();
  config["head_dim"] = 64;
  config["attention_bias"] = true;
  config["eos_token_id"] = {2, 7};
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->head_dim, 64);
  EXPECT_TRUE(parsed->attention_bias);
  EXPECT_EQ(parsed->eos_token_ids, (std::vector<TokenId>{2, 7}));
}

TEST(ModelConfigTest, Llama3RopeScaling) {
  json config = llama_config();
  config["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", 8.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 8192}};
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->rope_scaling.kind, RopeScalingKind::kLlama3);
  EXPECT_DOUBLE_EQ(parsed->rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(parsed->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(parsed->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(parsed->rope_scaling.original_max_position_embeddings, 8192);
}

TEST(ModelConfigTest, LinearRopeScalingWithOldTypeKey) {
  json config = llama_config();
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->rope_scaling.kind, RopeScalingKind::kLinear);
  EXPECT_DOUBLE_EQ(parsed->rope_scaling.factor, 2.0);
}

TEST(ModelConfigTest, Qwen2HasAttentionBiasAndOptionalWindow) {
  json config = llama_config();
  config["model_type"] = "qwen2";
  config["architectures"] = {"Qwen2ForCausalLM"};
  config["sliding_window"] = 1024;
  config["use_sliding_window"] = false;
  config["tie_word_embeddings"] = true;
  Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->architecture, Architecture::kQwen2);
  EXPECT_TRUE(parsed->attention_bias);
  EXPECT_TRUE(parsed->tie_word_embeddings);
  EXPECT_EQ(parsed->max_model_len(), 2048);
  config["use_sliding_window"] = true;
  parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->max_model_len(), 1024);
}

TEST(ModelConfigTest, MistralSlidingWindowCapsContext) {
  json config = llama_config();
  config["model_type"] = "mistral";
  config["architectures"] = {"MistralForCausalLM"};
  config["sliding_window"] = 512;
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->architecture, Architecture::kMistral);
  EXPECT_FALSE(parsed->attention_bias);
  EXPECT_EQ(parsed->sliding_window, 512);
  EXPECT_EQ(parsed->max_model_len(), 512);
  config["sliding_window"] = nullptr;
  EXPECT_EQ(error_of(config), "OK");
}

TEST(ModelConfigTest, ErrorMessages) {
  json config = llama_config();
  config["model_type"] = "gpt2";
  EXPECT_EQ(error_of(config), "config.json: model_type: unknown \"gpt2\"; supported: llama, mistral, qwen2");
  config = llama_config();
  config["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_EQ(error_of(config),
            "config.json: architectures: unknown \"GPT2LMHeadModel\"; supported: "
            "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM");
  config["architectures"] = {"Qwen2ForCausalLM"};
  EXPECT_EQ(error_of(config), "config.json: architectures: \"Qwen2ForCausalLM\" does not match model_type \"llama\"");
  config = llama_config();
  config.erase("hidden_size");
  EXPECT_EQ(error_of(config), "config.json: hidden_size: missing");
  config["hidden_size"] = "abc";
  EXPECT_EQ(error_of(config), "config.json: hidden_size: expected an integer; got \"abc\"");
  config["hidden_size"] = 0;
  EXPECT_EQ(error_of(config), "config.json: hidden_size: must be in [1, 1048576]; got 0");
  config["hidden_size"] = 100;
  EXPECT_EQ(error_of(config), "config.json: hidden_size: must be a multiple of num_attention_heads (8); got 100");
  config = llama_config();
  config["num_attention_heads"] = 6;
  EXPECT_EQ(error_of(config), "config.json: num_attention_heads: must be a multiple of num_key_value_heads (4); got 6");
  config = llama_config();
  config["rms_norm_eps"] = "small";
  EXPECT_EQ(error_of(config), "config.json: rms_norm_eps: expected a number; got \"small\"");
  config["rms_norm_eps"] = -1;
  EXPECT_EQ(error_of(config), "config.json: rms_norm_eps: must be > 0; got -1");
  config = llama_config();
  config["tie_word_embeddings"] = "yes";
  EXPECT_EQ(error_of(config), "config.json: tie_word_embeddings: expected a boolean; got \"yes\"");
  config = llama_config();
  config["hidden_act"] = "gelu";
  EXPECT_EQ(error_of(config), "config.json: hidden_act: unsupported \"gelu\"; supported: silu");
}

TEST(ModelConfigTest, RopeAndTokenErrorMessages) {
  json config = llama_config();
  config["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(error_of(config),
            "config.json: rope_scaling.rope_type: unsupported \"yarn\"; supported: llama3, linear, "
            "default");
  config["rope_scaling"] = {{"rope_type", "llama3"}, {"low_freq_factor", 1.0}};
  EXPECT_EQ(error_of(config), "config.json: rope_scaling.factor: missing");
  config["rope_scaling"] = {{"factor", 2.0}};
  EXPECT_EQ(error_of(config), "config.json: rope_scaling.type: missing");
  config["rope_scaling"] = "linear";
  EXPECT_EQ(error_of(config), "config.json: rope_scaling: expected null or an object; got \"linear\"");
  config = llama_config();
  config["eos_token_id"] = 5000;
  EXPECT_EQ(error_of(config), "config.json: eos_token_id: must be in [0, 1000); got 5000");
  config["eos_token_id"] = {2, "x"};
  EXPECT_EQ(error_of(config), "config.json: eos_token_id: expected an integer or a list of integers; got \"x\"");
  config = llama_config();
  config["bos_token_id"] = 1.5;
  EXPECT_EQ(error_of(config), "config.json: bos_token_id: expected an integer; got 1.5");
}

TEST(ModelConfigTest, MlpBiasIsUnimplemented) {
  json config = llama_config();
  config["mlp_bias"] = true;
  const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(parsed.status().message(), "config.json: mlp_bias: true is not implemented");
  config["mlp_bias"] = false;
  EXPECT_EQ(error_of(config), "OK");
}

TEST(ModelConfigTest, MalformedDocuments) {
  EXPECT_EQ(parse_model_config("[1, 2]", "config.json").status().message(),
            "config.json: expected a JSON object; got [1,2]");
  const Status bad = parse_model_config("{\"model_type\": ", "config.json").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad.message().starts_with("config.json: invalid JSON: ")) << bad.message();
}

TEST(ModelConfigTest, LoadAppliesGenerationConfigAndNamesRealPaths) {
  TempDir dir;
  ASSERT_TRUE(write_file(dir.file("config.json"), llama_config().dump()).ok());
  ASSERT_TRUE(write_file(dir.file("generation_config.json"),
                         R"({"bos_token_id": 3, "eos_token_id": [2, 9], "temperature": 0.6})")
                  .ok());
  Result<ModelConfig> loaded = load_model_config(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->bos_token_id, 3);
  EXPECT_EQ(loaded->eos_token_ids, (std::vector<TokenId>{2, 9}));
  ASSERT_TRUE(write_file(dir.file("generation_config.json"), R"({"eos_token_id": "x"})").ok());
  EXPECT_EQ(
      load_model_config(dir.path()).status().message(),
      dir.file("generation_config.json") + ": eos_token_id: expected an integer or a list of integers; got \"x\"");
  json config = llama_config();
  config.erase("vocab_size");
  ASSERT_TRUE(write_file(dir.file("config.json"), config.dump()).ok());
  EXPECT_EQ(load_model_config(dir.path()).status().message(), dir.file("config.json") + ": vocab_size: missing");
}

TEST(ModelConfigTest, JsonRoundTrip) {
  for (const char* type : {"llama", "mistral", "qwen2"}) {
    json config = llama_config();
    config["model_type"] = type;
    config.erase("architectures");
    config["sliding_window"] = 1024;
    config["use_sliding_window"] = true;
    config["eos_token_id"] = {2, 3};
    config["rope_scaling"] = {{"rope_type", "llama3"},
                              {"factor", 8.0},
                              {"low_freq_factor", 1.0},
                              {"high_freq_factor", 4.0},
                              {"original_max_position_embeddings", 8192}};
    const Result<ModelConfig> parsed = parse_model_config(config.dump(), "config.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
    const Result<ModelConfig> again = parse_model_config(model_config_to_json(*parsed), "again");
    ASSERT_TRUE(again.ok()) << again.status().to_string();
    EXPECT_EQ(*again, *parsed) << type;
  }
}

}  // namespace
}  // namespace ppd::model
