#include "ppd/model/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "ppd/common/dtype.h"
#include "ppd/common/file.h"
#include "ppd/model/checkpoint_files.h"
#include "ppd/model/synth.h"
#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

// A GGUF reader independent of the writer: enough of the format to check what it wrote.
struct GgufKv {
  int32_t type = -1;
  uint32_t u32 = 0;
  float f32 = 0;
  std::string str;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // innermost first
  uint32_t type = 0;
  uint64_t offset = 0;
};

struct ParsedGguf {
  std::string bytes;
  uint32_t version = 0;
  int64_t num_kv = 0;
  std::map<std::string, GgufKv> kv;
  std::vector<GgufTensorInfo> tensors;
  size_t data_start = 0;

  const GgufTensorInfo* tensor(std::string_view name) const {
    for (const GgufTensorInfo& t : tensors) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
  const uint8_t* data(const GgufTensorInfo& t) const {
    return reinterpret_cast<const uint8_t*>(bytes.data()) + data_start + t.offset;
  }
};

class GgufByteReader {
 public:
  explicit GgufByteReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    T value{};
    if (pos_ + sizeof(T) > bytes_.size()) {
      failed_ = true;
      return value;
    }
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string get_string() {
    const auto size = get<uint64_t>();
    if (failed_ || size > bytes_.size() - pos_) {
      failed_ = true;
      return "";
    }
    pos_ += size;
    return std::string(bytes_.substr(pos_ - size, size));
  }
  size_t pos() const { return pos_; }
  bool failed() const { return failed_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

constexpr int32_t kValueU32 = 4, kValueF32 = 6, kValueString = 8;
constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ8_0 = 8;

GgufKv read_kv_value(GgufByteReader& in) {
  GgufKv kv;
  kv.type = in.get<int32_t>();
  if (kv.type == kValueU32) kv.u32 = in.get<uint32_t>();
  if (kv.type == kValueF32) kv.f32 = in.get<float>();
  if (kv.type == kValueString) kv.str = in.get_string();
  if (kv.type != kValueU32 && kv.type != kValueF32 && kv.type != kValueString)
    ADD_FAILURE() << "unexpected value type " << kv.type;
  return kv;
}

std::optional<ParsedGguf> parse_gguf(const std::string& path) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return std::nullopt;
  ParsedGguf gguf{std::move(*bytes)};
  GgufByteReader in(gguf.bytes);
  if (gguf.bytes.substr(0, 4) != "GGUF") return std::nullopt;
  in.get<uint32_t>();
  gguf.version = in.get<uint32_t>();
  const auto num_tensors = in.get<int64_t>();
  gguf.num_kv = in.get<int64_t>();
  for (int64_t i = 0; i < gguf.num_kv && !in.failed(); ++i) {
    std::string key = in.get_string();
    gguf.kv[key] = read_kv_value(in);
  }
  for (int64_t i = 0; i < num_tensors && !in.failed(); ++i) {
    GgufTensorInfo t{in.get_string()};
    const auto num_dims = in.get<uint32_t>();
    if (num_dims > 4) return std::nullopt;
    t.dims.resize(num_dims);
    for (int64_t& dim : t.dims) dim = in.get<int64_t>();
    t.type = in.get<uint32_t>();
    t.offset = in.get<uint64_t>();
    gguf.tensors.push_back(std::move(t));
  }
  if (in.failed()) return std::nullopt;
  gguf.data_start = (in.pos() + 31) / 32 * 32;
  return gguf;
}

uint64_t gguf_tensor_bytes(const GgufTensorInfo& t) {
  const int64_t rows = t.dims.size() == 2 ? t.dims[1] : 1;
  const WeightFormat format = t.type == kGgmlQ8_0  ? WeightFormat::kQ8_0
                              : t.type == kGgmlF16 ? WeightFormat::kF16
                                                   : WeightFormat::kF32;
  return rows * weight_row_bytes(format, t.dims[0]);
}

// The HF tensor's values as floats.
std::vector<float> hf_values(const std::string& dir, const std::string& name) {
  Result<CheckpointFiles> files = CheckpointFiles::open(dir);
  EXPECT_TRUE(files.ok()) << files.status().to_string();
  if (!files.ok()) return {};
  Result<CheckpointFiles::Located> located = files->find(name);
  EXPECT_TRUE(located.ok()) << name;
  if (!located.ok()) return {};
  std::vector<float> values(located->tensor->num_elements());
  located->tensor->copy_to_f32(values.data());
  return values;
}

// The tiny preset: hidden 128, MLP 384, 4 layers, 4 heads of 32, 2 KV heads, vocab 2048, tied.
class GgufWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    Result<ModelConfig> config = preset_config("tiny");
    ASSERT_TRUE(config.ok());
    ASSERT_TRUE(synthesize_model(SynthOptions{*config}, dir_->file("tiny")).ok());
    for (const GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kQ8_0}) {
      const std::string path = gguf_path(type);
      Result<GgufSummary> summary = write_gguf(model_dir(), path, type);
      ASSERT_TRUE(summary.ok()) << summary.status().to_string();
      EXPECT_EQ(summary->num_tensors, 38);
      EXPECT_EQ(summary->num_bytes, static_cast<int64_t>(std::filesystem::file_size(path)));
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string model_dir() { return dir_->file("tiny"); }
  static std::string gguf_path(GgufType type) { return dir_->file(fmt::format("tiny-{}.gguf", gguf_type_name(type))); }
  static ParsedGguf parsed(GgufType type) {
    std::optional<ParsedGguf> gguf = parse_gguf(gguf_path(type));
    EXPECT_TRUE(gguf.has_value()) << "malformed " << gguf_path(type);
    return gguf.value_or(ParsedGguf{});
  }

  static TempDir* dir_;
};

TempDir* GgufWriterTest::dir_ = nullptr;

TEST_F(GgufWriterTest, WritesHeaderAndMetadata) {
  for (const GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kQ8_0}) {
    SCOPED_TRACE(gguf_type_name(type));
    const ParsedGguf gguf = parsed(type);
    EXPECT_EQ(gguf.version, 3u);
    EXPECT_EQ(gguf.num_kv, 17);
    EXPECT_EQ(gguf.kv.size(), 17u);
    EXPECT_EQ(gguf.tensors.size(), 38u);
    const std::map<std::string, uint32_t> u32s = {{"general.file_type", type == GgufType::kF32   ? 0
                                                                        : type == GgufType::kF16 ? 1
                                                                                                 : 7},
                                                  {"general.alignment", 32},
                                                  {"llama.context_length", 1024},
                                                  {"llama.embedding_length", 128},
                                                  {"llama.block_count", 4},
                                                  {"llama.feed_forward_length", 384},
                                                  {"llama.attention.head_count", 4},
                                                  {"llama.attention.head_count_kv", 2},
                                                  {"llama.attention.key_length", 32},
                                                  {"llama.attention.value_length", 32},
                                                  {"llama.rope.dimension_count", 32},
                                                  {"llama.vocab_size", 2048}};
    for (const auto& [key, value] : u32s) {
      EXPECT_EQ(gguf.kv.count(key) ? gguf.kv.at(key).type : -1, kValueU32) << key;
      EXPECT_EQ(gguf.kv.count(key) ? gguf.kv.at(key).u32 : 0, value) << key;
    }
    ASSERT_EQ(gguf.kv.count("llama.rope.freq_base"), 1u);
    EXPECT_EQ(gguf.kv.at("llama.rope.freq_base").type, kValueF32);
    EXPECT_EQ(gguf.kv.at("llama.rope.freq_base").f32, 10000.0f);
    EXPECT_EQ(gguf.kv.at("llama.attention.layer_norm_rms_epsilon").f32, 1e-6f);
    EXPECT_EQ(gguf.kv.at("general.architecture").str, "llama");
    EXPECT_EQ(gguf.kv.at("general.name").str, "tiny");
    EXPECT_EQ(gguf.kv.at("tokenizer.ggml.model").str, "none");
  }
}

TEST_F(GgufWriterTest, ListsEveryTensorWithAlignedContiguousOffsets) {
  for (const GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kQ8_0}) {
    SCOPED_TRACE(gguf_type_name(type));
    const ParsedGguf gguf = parsed(type);
    const uint32_t matrix_type = type == GgufType::kF32 ? kGgmlF32 : type == GgufType::kF16 ? kGgmlF16 : kGgmlQ8_0;
    std::vector<std::tuple<std::string, std::vector<int64_t>, uint32_t>> expected = {
        {"token_embd.weight", {128, 2048}, matrix_type}, {"output_norm.weight", {128}, kGgmlF32}};
    for (int layer = 0; layer < 4; ++layer) {
      const std::string blk = fmt::format("blk.{}.", layer);
      expected.insert(expected.end(), {{blk + "attn_norm.weight", {128}, kGgmlF32},
                                       {blk + "attn_q.weight", {128, 128}, matrix_type},
                                       {blk + "attn_k.weight", {128, 64}, matrix_type},
                                       {blk + "attn_v.weight", {128, 64}, matrix_type},
                                       {blk + "attn_output.weight", {128, 128}, matrix_type},
                                       {blk + "ffn_norm.weight", {128}, kGgmlF32},
                                       {blk + "ffn_gate.weight", {128, 384}, matrix_type},
                                       {blk + "ffn_up.weight", {128, 384}, matrix_type},
                                       {blk + "ffn_down.weight", {384, 128}, matrix_type}});
    }
    ASSERT_EQ(gguf.tensors.size(), expected.size());
    EXPECT_EQ(gguf.data_start % 32, 0u);
    uint64_t offset = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const GgufTensorInfo& t = gguf.tensors[i];
      EXPECT_EQ(t.name, std::get<0>(expected[i]));
      EXPECT_EQ(t.dims, std::get<1>(expected[i])) << t.name;
      EXPECT_EQ(t.type, std::get<2>(expected[i])) << t.name;
      EXPECT_EQ(t.offset, offset) << t.name;
      EXPECT_EQ(t.offset % 32, 0u) << t.name;
      offset += (gguf_tensor_bytes(t) + 31) / 32 * 32;
    }
    EXPECT_EQ(gguf.bytes.size(), gguf.data_start + offset);
  }
}

TEST_F(GgufWriterTest, F32DataEqualsCheckpointValues) {
  const ParsedGguf gguf = parsed(GgufType::kF32);
  for (const auto& [name, hf_name] :
       {std::pair<std::string, std::string>{"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"},
        {"blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight"},
        {"token_embd.weight", "model.embed_tokens.weight"}}) {
    const GgufTensorInfo* t = gguf.tensor(name);
    ASSERT_NE(t, nullptr) << name;
    const std::vector<float> expected = hf_values(model_dir(), hf_name);
    ASSERT_EQ(gguf_tensor_bytes(*t), expected.size() * sizeof(float));
    EXPECT_EQ(std::memcmp(gguf.data(*t), expected.data(), expected.size() * sizeof(float)), 0) << name;
  }
}

// llama.cpp's RoPE rotates pairs (2i, 2i+1), HF's pairs (i, i+16) of a 32-row head: row 2i+j of
// each head must hold HF row 16j+i.
TEST_F(GgufWriterTest, QAndKRowsArePermutedToInterleavedRope) {
  const ParsedGguf gguf = parsed(GgufType::kF32);
  for (const auto& [name, hf_name, rows] :
       {std::tuple<std::string, std::string, int>{"blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight", 128},
        {"blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight", 64}}) {
    const GgufTensorInfo* t = gguf.tensor(name);
    ASSERT_NE(t, nullptr) << name;
    const std::vector<float> hf = hf_values(model_dir(), hf_name);
    ASSERT_EQ(hf.size(), rows * 128u);
    const auto* data = reinterpret_cast<const float*>(gguf.data(*t));
    auto same_row = [&](int gguf_row, int hf_row) {
      return std::memcmp(data + gguf_row * 128, hf.data() + hf_row * 128, 128 * sizeof(float)) == 0;
    };
    for (const auto& [gguf_row, hf_row] :
         {std::pair{0, 0}, {1, 16}, {2, 1}, {3, 17}, {30, 15}, {31, 31}, {32, 32}, {33, 48}, {34, 33}, {63, 63}}) {
      EXPECT_TRUE(same_row(gguf_row, hf_row)) << name << " row " << gguf_row << " should be HF row " << hf_row;
    }
    for (int head = 0; head < rows / 32; ++head) {
      for (int i = 0; i < 16; ++i) {
        for (int j = 0; j < 2; ++j) EXPECT_TRUE(same_row(head * 32 + 2 * i + j, head * 32 + 16 * j + i)) << name;
      }
    }
    EXPECT_FALSE(same_row(1, 1)) << name << " is not permuted";
  }
}

TEST_F(GgufWriterTest, F16AndQ8DataEncodeCheckpointRows) {
  const std::vector<float> down = hf_values(model_dir(), "model.layers.2.mlp.down_proj.weight");  // [128, 384]
  const std::vector<float> q = hf_values(model_dir(), "model.layers.2.self_attn.q_proj.weight");  // [128, 128]
  ASSERT_EQ(down.size(), 128u * 384u);
  for (const auto& [type, format] :
       {std::pair{GgufType::kF16, WeightFormat::kF16}, std::pair{GgufType::kQ8_0, WeightFormat::kQ8_0}}) {
    SCOPED_TRACE(gguf_type_name(type));
    const ParsedGguf gguf = parsed(type);
    const GgufTensorInfo* t = gguf.tensor("blk.2.ffn_down.weight");
    const GgufTensorInfo* tq = gguf.tensor("blk.2.attn_q.weight");
    ASSERT_TRUE(t != nullptr && tq != nullptr);
    const size_t row_bytes = weight_row_bytes(format, 384), q_row_bytes = weight_row_bytes(format, 128);
    std::vector<uint8_t> encoded(row_bytes);
    for (int row = 0; row < 128; ++row) {
      encode_weight_row(format, down.data() + row * 384, 384, encoded.data());
      ASSERT_EQ(std::memcmp(gguf.data(*t) + row * row_bytes, encoded.data(), row_bytes), 0) << "row " << row;
    }
    encode_weight_row(format, q.data() + 16 * 128, 128, encoded.data());  // GGUF row 1 is HF row 16
    EXPECT_EQ(std::memcmp(gguf.data(*tq) + q_row_bytes, encoded.data(), q_row_bytes), 0);
    const GgufTensorInfo* norm = gguf.tensor("blk.2.ffn_norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_EQ(reinterpret_cast<const float*>(gguf.data(*norm))[5], 1.0f);  // norms stay F32
  }
}

TEST_F(GgufWriterTest, UntiedShardedModelGetsOutputAndQ8RejectsOddRows) {
  Result<ModelConfig> config = preset_config("tiny");
  ASSERT_TRUE(config.ok());
  config->tie_word_embeddings = false;
  config->intermediate_size = 100;
  const std::string dir = dir_->file("untied");
  ASSERT_TRUE(synthesize_model(SynthOptions{.config = *config, .seed = 7, .num_shards = 3}, dir).ok());

  Result<GgufSummary> summary = write_gguf(dir, dir_->file("untied.gguf"), GgufType::kF32);
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->num_tensors, 39);
  const std::optional<ParsedGguf> gguf = parse_gguf(dir_->file("untied.gguf"));
  ASSERT_TRUE(gguf.has_value());
  const GgufTensorInfo* output = gguf->tensor("output.weight");
  ASSERT_NE(output, nullptr);
  const std::vector<float> lm_head = hf_values(dir, "lm_head.weight");
  ASSERT_EQ(gguf_tensor_bytes(*output), lm_head.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(gguf->data(*output), lm_head.data(), lm_head.size() * sizeof(float)), 0);

  const Result<GgufSummary> q8 = write_gguf(dir, dir_->file("untied-q8.gguf"), GgufType::kQ8_0);
  ASSERT_FALSE(q8.ok());
  EXPECT_EQ(q8.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(q8.status().message().find("blk.0.ffn_down.weight"), std::string::npos) << q8.status().message();
}

TEST_F(GgufWriterTest, WriteErrorsNameTheOutputPath) {
  const std::string missing = dir_->file("no-such-dir/x.gguf");
  const Result<GgufSummary> result = write_gguf(model_dir(), missing, GgufType::kF16);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find(missing), std::string::npos) << result.status().message();
  if (std::filesystem::exists("/dev/full")) {  // every write fails with ENOSPC: a full disk
    const Result<GgufSummary> full = write_gguf(model_dir(), "/dev/full", GgufType::kF16);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.status().message().find("/dev/full"), std::string::npos) << full.status().message();
  }
}

// TinyStories ties its embeddings and stores only lm_head.weight: that becomes token_embd.
TEST_F(GgufWriterTest, TinyStoriesEmbeddingComesFromLmHead) {
  const std::string dir = tinystories_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: no TinyStories model to read";
  const std::string path = dir_->file("tinystories.gguf");
  Result<GgufSummary> summary = write_gguf(dir, path, GgufType::kF32);
  ASSERT_TRUE(summary.ok()) << summary.status().to_string();
  EXPECT_EQ(summary->num_tensors, 20);
  const std::optional<ParsedGguf> gguf = parse_gguf(path);
  ASSERT_TRUE(gguf.has_value());
  EXPECT_EQ(gguf->tensor("output.weight"), nullptr);
  const GgufTensorInfo* embd = gguf->tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  const std::vector<float> lm_head = hf_values(dir, "lm_head.weight");
  ASSERT_EQ(gguf_tensor_bytes(*embd), lm_head.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(gguf->data(*embd), lm_head.data(), lm_head.size() * sizeof(float)), 0);
}

TEST(GgufTypeTest, ParsesItsOwnNames) {
  for (const GgufType type : {GgufType::kF32, GgufType::kF16, GgufType::kQ8_0}) {
    EXPECT_EQ(parse_gguf_type(gguf_type_name(type)), type);
  }
  EXPECT_EQ(parse_gguf_type("bf16"), std::nullopt);
}

}  // namespace
}  // namespace ppd::model
