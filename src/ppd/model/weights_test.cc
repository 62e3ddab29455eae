#include "ppd/model/weights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ppd/common/file.h"
#include "ppd/model/safetensors.h"
#include "ppd/model/synth.h"
#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

ModelConfig small_config() {
  ModelConfig config;
  config.hidden_size = 128;
  config.intermediate_size = 64;
  config.num_layers = 1;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_dim = 32;
  config.vocab_size = 300;
  config.max_position_embeddings = 64;
  return config;
}

// Every tensor an HF checkpoint of `config` stores; element i of tensor t holds t + i / 1e4.
std::vector<TensorData> checkpoint_tensors(const ModelConfig& c) {
  const int64_t h = c.hidden_size, f = c.intermediate_size, q = c.num_heads * c.head_dim,
                kv = c.num_kv_heads * c.head_dim;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {{"model.embed_tokens.weight", {c.vocab_size, h}},
                                                                      {"model.norm.weight", {h}}};
  if (!c.tie_word_embeddings) shapes.push_back({"lm_head.weight", {c.vocab_size, h}});
  for (int layer = 0; layer < c.num_layers; ++layer) {
    const std::string p = fmt::format("model.layers.{}.", layer);
    for (auto& entry :
         std::vector<std::pair<std::string, std::vector<int64_t>>>{{"input_layernorm.weight", {h}},
                                                                   {"post_attention_layernorm.weight", {h}},
                                                                   {"self_attn.q_proj.weight", {q, h}},
                                                                   {"self_attn.k_proj.weight", {kv, h}},
                                                                   {"self_attn.v_proj.weight", {kv, h}},
                                                                   {"self_attn.o_proj.weight", {h, q}},
                                                                   {"mlp.gate_proj.weight", {f, h}},
                                                                   {"mlp.up_proj.weight", {f, h}},
                                                                   {"mlp.down_proj.weight", {h, f}}}) {
      shapes.push_back({p + entry.first, entry.second});
    }
    if (c.attention_bias) {
      shapes.push_back({p + "self_attn.q_proj.bias", {q}});
      shapes.push_back({p + "self_attn.k_proj.bias", {kv}});
      shapes.push_back({p + "self_attn.v_proj.bias", {kv}});
    }
  }
  std::vector<TensorData> tensors;
  for (size_t t = 0; t < shapes.size(); ++t) {
    TensorData data{{shapes[t].first, Dtype::kF32, shapes[t].second}, {}};
    data.values.resize(static_cast<size_t>(data.spec.num_elements()));
    for (size_t i = 0; i < data.values.size(); ++i) data.values[i] = static_cast<float>(t) + i * 1e-4f;
    tensors.push_back(std::move(data));
  }
  return tensors;
}

const TensorData& tensor_named(const std::vector<TensorData>& tensors, std::string_view name) {
  for (const TensorData& t : tensors) {
    if (t.spec.name == name) return t;
  }
  ADD_FAILURE() << "no tensor " << name;
  return tensors.front();
}

bool same_floats(const float* data, const std::vector<float>& expected) {
  return std::memcmp(data, expected.data(), expected.size() * sizeof(float)) == 0;
}

void expect_same_buffer(const AlignedBuffer& a, const AlignedBuffer& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  if (a.size() == 0) return;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what;
}

void expect_same_buffer(const WeightMatrix& a, const WeightMatrix& b, const char* what) {
  ASSERT_EQ(a.format(), b.format()) << what;
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  if (a.empty()) return;
  EXPECT_EQ(std::memcmp(a.bytes(), b.bytes(), a.num_bytes()), 0) << what;
}

void expect_same_weights(const ModelWeights& a, const ModelWeights& b) {
  expect_same_buffer(a.embed, b.embed, "embed");
  expect_same_buffer(a.final_norm, b.final_norm, "final_norm");
  expect_same_buffer(a.lm_head, b.lm_head, "lm_head");
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    expect_same_buffer(a.layers[l].attn_norm, b.layers[l].attn_norm, "attn_norm");
    expect_same_buffer(a.layers[l].wqkv, b.layers[l].wqkv, "wqkv");
    expect_same_buffer(a.layers[l].bqkv, b.layers[l].bqkv, "bqkv");
    expect_same_buffer(a.layers[l].wo, b.layers[l].wo, "wo");
    expect_same_buffer(a.layers[l].ffn_norm, b.layers[l].ffn_norm, "ffn_norm");
    expect_same_buffer(a.layers[l].w_gate_up, b.layers[l].w_gate_up, "w_gate_up");
    expect_same_buffer(a.layers[l].w_down, b.layers[l].w_down, "w_down");
  }
}

TEST(WeightsTest, AlignedBufferIsAlignedAndZeroed) {
  const AlignedBuffer buffer(17);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % 64, 0u);
  for (size_t i = 0; i < buffer.size(); ++i) EXPECT_EQ(buffer.data()[i], 0.0f);
  EXPECT_EQ(AlignedBuffer().data(), nullptr);
}

TEST(WeightsTest, TinyStoriesTiedWithOnlyLmHeadStored) {
  const std::string dir = tinystories_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: no TinyStories model to read";
  const Result<ModelConfig> config = load_model_config(dir);
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const Result<ModelWeights> weights = load_weights(dir, *config);
  ASSERT_TRUE(weights.ok()) << weights.status().to_string();
  const Result<SafetensorsFile> file = SafetensorsFile::open(dir + "/model.safetensors");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(weights->format(), WeightFormat::kF32);
  EXPECT_EQ(weights->embed.num_bytes(), 2048u * 128 * 4);
  EXPECT_TRUE(weights->lm_head.empty());
  EXPECT_EQ(&weights->lm_head_matrix(), &weights->embed);
  EXPECT_EQ(std::memcmp(weights->embed.f32(), file->find("lm_head.weight")->bytes.data(), 2048 * 128 * 4), 0);
  ASSERT_EQ(weights->layers.size(), 2u);
  const LayerWeights& layer = weights->layers[1];
  EXPECT_EQ(layer.wqkv.rows(), 128 + 2 * 64);
  EXPECT_EQ(layer.wqkv.cols(), 128);
  EXPECT_EQ(layer.bqkv.size(), 0u);
  EXPECT_EQ(layer.w_gate_up.rows(), 2 * 384);
  const auto bytes_of = [&](const char* name) { return file->find(name)->bytes.data(); };
  EXPECT_EQ(std::memcmp(layer.wqkv.f32() + 128 * 128, bytes_of("model.layers.1.self_attn.k_proj.weight"), 64 * 128 * 4),
            0);
  EXPECT_EQ(std::memcmp(layer.wqkv.f32() + 192 * 128, bytes_of("model.layers.1.self_attn.v_proj.weight"), 64 * 128 * 4),
            0);
  EXPECT_EQ(
      std::memcmp(layer.w_gate_up.f32() + 384 * 128, bytes_of("model.layers.1.mlp.up_proj.weight"), 384 * 128 * 4), 0);
  EXPECT_EQ(weights->streamed_bytes_per_step(), 656000 * 4);
  EXPECT_EQ(weights->resident_bytes(), 656000 * 4);  // tied: the table once
}

TEST(WeightsTest, FusedLayoutAndBiases) {
  TempDir dir;
  ModelConfig config = small_config();
  config.attention_bias = true;
  const std::vector<TensorData> tensors = checkpoint_tensors(config);
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), tensors).ok());
  const Result<ModelWeights> weights = load_weights(dir.path(), config);
  ASSERT_TRUE(weights.ok()) << weights.status().to_string();
  const LayerWeights& layer = weights->layers[0];
  const auto& t = [&](const char* name) { return tensor_named(tensors, name).values; };
  EXPECT_TRUE(same_floats(layer.wqkv.f32(), t("model.layers.0.self_attn.q_proj.weight")));
  EXPECT_TRUE(same_floats(layer.wqkv.f32() + 128 * 128, t("model.layers.0.self_attn.k_proj.weight")));
  EXPECT_TRUE(same_floats(layer.wqkv.f32() + 192 * 128, t("model.layers.0.self_attn.v_proj.weight")));
  EXPECT_TRUE(same_floats(layer.bqkv.data(), t("model.layers.0.self_attn.q_proj.bias")));
  EXPECT_TRUE(same_floats(layer.bqkv.data() + 128, t("model.layers.0.self_attn.k_proj.bias")));
  EXPECT_TRUE(same_floats(layer.bqkv.data() + 192, t("model.layers.0.self_attn.v_proj.bias")));
  EXPECT_TRUE(same_floats(layer.w_gate_up.f32(), t("model.layers.0.mlp.gate_proj.weight")));
  EXPECT_TRUE(same_floats(layer.w_gate_up.f32() + 64 * 128, t("model.layers.0.mlp.up_proj.weight")));
  EXPECT_TRUE(same_floats(layer.w_down.f32(), t("model.layers.0.mlp.down_proj.weight")));
  EXPECT_TRUE(same_floats(weights->lm_head.f32(), t("lm_head.weight")));
  EXPECT_TRUE(same_floats(weights->embed.f32(), t("model.embed_tokens.weight")));
}

TEST(WeightsTest, ShapeMismatchNamesFileTensorAndBothShapes) {
  TempDir dir;
  const ModelConfig config = small_config();
  std::vector<TensorData> tensors = checkpoint_tensors(config);
  for (TensorData& t : tensors) {
    if (t.spec.name != "model.layers.0.self_attn.q_proj.weight") continue;
    t.spec.shape = {128, 64};
    t.values.resize(128 * 64);
  }
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), tensors).ok());
  const Status status = load_weights(dir.path(), config).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "model.safetensors: tensor \"model.layers.0.self_attn.q_proj.weight\": shape [128, 64] "
            "does not "
            "match config.json: expected [128, 128]");
}

TEST(WeightsTest, NonFiniteWeightIsAnError) {
  TempDir dir;
  const ModelConfig config = small_config();
  std::vector<TensorData> tensors = checkpoint_tensors(config);
  for (TensorData& t : tensors) {
    if (t.spec.name == "model.layers.0.mlp.down_proj.weight") t.values[17] = std::nanf("");
  }
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), tensors).ok());
  EXPECT_EQ(load_weights(dir.path(), config).status().message(),
            "model.safetensors: tensor \"model.layers.0.mlp.down_proj.weight\": element 17 is nan; "
            "weights must be finite");
}

TEST(WeightsTest, HugeConfigFailsOnTheFirstShapeWithoutAllocating) {
  TempDir dir;
  const ModelConfig config = small_config();
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), checkpoint_tensors(config)).ok());
  ModelConfig huge = config;
  huge.vocab_size = 1 << 24;
  huge.hidden_size = 1 << 20;  // 64 TiB of embeddings if allocated before the check
  EXPECT_EQ(load_weights(dir.path(), huge).status().message(),
            "model.safetensors: tensor \"model.embed_tokens.weight\": shape [300, 128] does not "
            "match config.json: expected [16777216, 1048576]");
}

TEST(WeightsTest, MissingTensorIsNotFound) {
  TempDir dir;
  const ModelConfig config = small_config();
  std::vector<TensorData> tensors = checkpoint_tensors(config);
  std::erase_if(tensors, [](const TensorData& t) { return t.spec.name == "model.layers.0.mlp.up_proj.weight"; });
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), tensors).ok());
  const Status status = load_weights(dir.path(), config).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "model.safetensors: tensor \"model.layers.0.mlp.up_proj.weight\": missing");
}

TEST(WeightsTest, MissingWeightsFile) {
  TempDir dir;
  const Status status = load_weights(dir.path(), small_config()).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), dir.path() + ": no model.safetensors or model.safetensors.index.json");
}

Result<ModelWeights> synth_and_load(const std::string& dir, Dtype dtype, int num_shards, const LoadOptions& load = {}) {
  PPD_ASSIGN_OR_RETURN(ModelConfig config, preset_config("tiny"));
  SynthOptions options{config, 7, dtype, num_shards};
  PPD_RETURN_IF_ERROR(synthesize_model(options, dir).status());
  PPD_ASSIGN_OR_RETURN(ModelConfig loaded, load_model_config(dir));
  return load_weights(dir, loaded, load);
}

TEST(WeightsTest, SynthesizedTinyLoadsAndShardsMatch) {
  TempDir single, sharded;
  const Result<ModelWeights> a = synth_and_load(single.path(), Dtype::kF32, 1);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  const Result<ModelWeights> b = synth_and_load(sharded.path(), Dtype::kF32, 3);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_TRUE(file_exists(sharded.file("model-00003-of-00003.safetensors")));
  EXPECT_FALSE(file_exists(sharded.file("model.safetensors")));
  expect_same_weights(*a, *b);
  EXPECT_TRUE(a->lm_head.empty());
  EXPECT_EQ(a->layers[0].attn_norm.data()[5], 1.0f);
}

TEST(WeightsTest, HalfPrecisionModelsMatchF32WithinPrecision) {
  TempDir f32_dir, half_dir;
  const Result<ModelWeights> reference = synth_and_load(f32_dir.path(), Dtype::kF32, 1);
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();
  for (const auto& [dtype, relative] : {std::pair{Dtype::kF16, 0x1p-11}, std::pair{Dtype::kBF16, 0x1p-8}}) {
    const Result<ModelWeights> half = synth_and_load(half_dir.path(), dtype, 1, {.format = WeightFormat::kF32});
    ASSERT_TRUE(half.ok()) << half.status().to_string();
    const WeightMatrix& x = reference->layers[2].wqkv;
    const WeightMatrix& y = half->layers[2].wqkv;
    ASSERT_EQ(x.num_bytes(), y.num_bytes());
    for (size_t i = 0; i < x.num_bytes() / 4; ++i) {
      ASSERT_NEAR(x.f32()[i], y.f32()[i], relative * std::fabs(x.f32()[i]) + 0x1p-25) << i;
    }
  }
}

// A half-precision checkpoint stays in its dtype: the matrices hold the file's bytes exactly,
// and the weights take the file's size in memory.
TEST(WeightsTest, HalfPrecisionCheckpointKeepsItsDtype) {
  for (const Dtype dtype : {Dtype::kF16, Dtype::kBF16}) {
    TempDir dir;
    const Result<ModelWeights> w = synth_and_load(dir.path(), dtype, 1);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    EXPECT_EQ(w->format(), weight_format_of(dtype));
    const Result<SafetensorsFile> file = SafetensorsFile::open(dir.file("model.safetensors"));
    ASSERT_TRUE(file.ok());
    const TensorView* down = file->find("model.layers.1.mlp.down_proj.weight");
    ASSERT_EQ(w->layers[1].w_down.num_bytes(), down->bytes.size());
    EXPECT_EQ(std::memcmp(w->layers[1].w_down.bytes(), down->bytes.data(), down->bytes.size()), 0);
    int64_t file_tensor_bytes = 0;
    for (const TensorView& t : file->tensors()) file_tensor_bytes += static_cast<int64_t>(t.bytes.size());
    // Norms are widened to F32: a few KiB over the file's tensors.
    EXPECT_GE(w->resident_bytes(), file_tensor_bytes);
    EXPECT_LE(w->resident_bytes(), file_tensor_bytes + file_tensor_bytes / 100);
  }
}

TEST(WeightsTest, ConvertsAtLoadToTheRequestedFormat) {
  TempDir f32_dir, bf16_dir;
  const Result<ModelWeights> converted =
      synth_and_load(f32_dir.path(), Dtype::kF32, 1, {.format = WeightFormat::kBF16});
  ASSERT_TRUE(converted.ok()) << converted.status().to_string();
  const Result<ModelWeights> stored = synth_and_load(bf16_dir.path(), Dtype::kBF16, 1);
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  // The synthesizer rounds F32 to BF16 the way the load does: the same bytes either way.
  expect_same_weights(*converted, *stored);

  const Result<ModelWeights> q8 = synth_and_load(f32_dir.path(), Dtype::kF32, 1, {.format = WeightFormat::kQ8_0});
  ASSERT_TRUE(q8.ok()) << q8.status().to_string();
  const Result<ModelWeights> f32 = synth_and_load(f32_dir.path(), Dtype::kF32, 1);
  ASSERT_TRUE(f32.ok());
  const WeightMatrix& q = q8->layers[0].w_gate_up;
  EXPECT_EQ(q.num_bytes(), static_cast<size_t>(q.rows() * q.cols() / 32 * 34));
  std::vector<float> row(static_cast<size_t>(q.cols()));
  q.row_to_f32(3, row.data());
  const float* exact = f32->layers[0].w_gate_up.f32() + 3 * q.cols();
  for (size_t b = 0; b < row.size() / 32; ++b) {
    float amax = 0;
    for (size_t i = 32 * b; i < 32 * b + 32; ++i) amax = std::max(amax, std::fabs(exact[i]));
    // Within half a quantization step (the F16 scale adds a relative 2^-11 at most).
    for (size_t i = 32 * b; i < 32 * b + 32; ++i) ASSERT_NEAR(row[i], exact[i], amax / 127 * 0.501f) << i;
  }
}

TEST(WeightsTest, Q8NeedsRowsOfWholeBlocks) {
  TempDir dir;
  ModelConfig config = small_config();
  config.intermediate_size = 48;  // w_down rows of 48 values
  ASSERT_TRUE(write_safetensors(dir.file("model.safetensors"), checkpoint_tensors(config)).ok());
  const Result<ModelWeights> w = load_weights(dir.path(), config, {.format = WeightFormat::kQ8_0});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(
      w.status().message(),
      "format q8_0: tensor \"model.layers.0.mlp.down_proj.weight\" has rows of 48 values; q8_0 needs a multiple of "
      "32");
}

TEST(WeightsTest, ShardedIndexErrors) {
  TempDir dir;
  ASSERT_TRUE(synthesize_model(SynthOptions{*preset_config("tiny"), 0, Dtype::kF32, 2}, dir.path()).ok());
  const Result<ModelConfig> config = load_model_config(dir.path());
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(write_file(dir.file("model.safetensors.index.json"),
                         R"({"weight_map": {"model.norm.weight": "../x.safetensors"}})")
                  .ok());
  EXPECT_EQ(load_weights(dir.path(), *config).status().message(),
            "model.safetensors.index.json: weight_map[\"model.norm.weight\"]: expected a file name "
            "in the "
            "model directory; got \"../x.safetensors\"");
  ASSERT_TRUE(write_file(dir.file("model.safetensors.index.json"),
                         R"({"weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors"}})")
                  .ok());
  EXPECT_EQ(load_weights(dir.path(), *config).status().message(),
            "model.safetensors.index.json: tensor \"model.embed_tokens.weight\": missing from "
            "weight_map");
}

}  // namespace
}  // namespace ppd::model
