#include "ppd/model/gguf_writer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "ppd/common/dtype.h"
#include "ppd/model/checkpoint_files.h"
#include "ppd/model/model_config.h"

namespace ppd::model {
namespace {

// GGUF value types (ggml/include/gguf.h) and ggml tensor types (ggml/include/ggml.h).
constexpr int32_t kGgufValueU32 = 4;
constexpr int32_t kGgufValueF32 = 6;
constexpr int32_t kGgufValueString = 8;
constexpr uint32_t kGgufVersion = 3;
constexpr uint32_t kGgmlTypeF32 = 0;
constexpr uint32_t kGgmlTypeF16 = 1;
constexpr uint32_t kGgmlTypeQ8_0 = 8;

uint64_t aligned(uint64_t n) { return (n + kGgufAlignment - 1) / kGgufAlignment * kGgufAlignment; }

// Little-endian bytes of the header: key-value pairs, tensor infos.
class Encoder {
 public:
  template <typename T>
  void put(T value) {
    put_bytes({reinterpret_cast<const char*>(&value), sizeof value});
  }
  void put_bytes(std::string_view bytes) { bytes_.append(bytes); }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    put_bytes(s);
  }
  void kv_u32(std::string_view key, int64_t value) {
    begin_kv(key, kGgufValueU32);
    put(static_cast<uint32_t>(value));
  }
  void kv_f32(std::string_view key, double value) {
    begin_kv(key, kGgufValueF32);
    put(static_cast<float>(value));
  }
  void kv_string(std::string_view key, std::string_view value) {
    begin_kv(key, kGgufValueString);
    put_string(value);
  }
  const std::string& bytes() const { return bytes_; }
  int64_t num_kv() const { return num_kv_; }

 private:
  void begin_kv(std::string_view key, int32_t type) {
    put_string(key);
    put(type);
    ++num_kv_;
  }

  std::string bytes_;
  int64_t num_kv_ = 0;
};

// One GGUF tensor and where its values come from.
struct PlannedTensor {
  std::string name;  // the GGUF name
  const TensorView* source = nullptr;
  WeightFormat format = WeightFormat::kF32;
  int64_t rows = 1;     // 1 for a 1-D tensor
  int64_t cols = 0;     // GGUF ne[0]
  int rope_heads = 0;   // > 0: rows reordered to llama.cpp's RoPE layout, in this many heads
  uint64_t offset = 0;  // in the data section

  uint64_t size_bytes() const { return static_cast<uint64_t>(rows) * weight_row_bytes(format, cols); }
};

WeightFormat matrix_format(GgufType type) {
  switch (type) {
    case GgufType::kF32:
      return WeightFormat::kF32;
    case GgufType::kF16:
      return WeightFormat::kF16;
    case GgufType::kQ8_0:
      return WeightFormat::kQ8_0;
  }
  return WeightFormat::kF32;
}

uint32_t ggml_type(WeightFormat format) {
  if (format == WeightFormat::kF16) return kGgmlTypeF16;
  return format == WeightFormat::kQ8_0 ? kGgmlTypeQ8_0 : kGgmlTypeF32;
}

// general.file_type: llama.cpp's LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q8_0.
uint32_t file_type(GgufType type) {
  if (type == GgufType::kF16) return 1;
  return type == GgufType::kQ8_0 ? 7 : 0;
}

Status check_supported(const ModelConfig& c) {
  if (c.architecture == Architecture::kQwen2 || c.attention_bias) {
    return unimplemented("gguf: {} with attention biases is not supported; only the llama architecture is",
                         architecture_name(c.architecture));
  }
  if (c.rope_scaling.kind == RopeScalingKind::kLlama3)
    return unimplemented("gguf: llama3 RoPE scaling is not supported");
  if (c.sliding_window > 0 && c.sliding_window < c.max_position_embeddings) {
    return unimplemented("gguf: a sliding window ({}) is not supported", c.sliding_window);
  }
  return Status::Ok();
}

Result<PlannedTensor> plan_tensor(const CheckpointFiles& files, std::string name, const std::string& hf_name,
                                  const std::vector<int64_t>& shape, WeightFormat format, int rope_heads) {
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles::Located located, files.find(hf_name));
  if (located.tensor->shape != shape) {
    return invalid_argument("{}: {} has shape {}; config.json needs {}", located.file->file_name(), hf_name,
                            format_shape(located.tensor->shape), format_shape(shape));
  }
  PlannedTensor t{std::move(name), located.tensor};
  t.format = shape.size() == 2 ? format : WeightFormat::kF32;
  t.rows = shape.size() == 2 ? shape[0] : 1;
  t.cols = shape.back();
  t.rope_heads = rope_heads;
  if (t.format == WeightFormat::kQ8_0 && t.cols % kQ8BlockValues != 0) {
    return invalid_argument("{} ({}): q8_0 needs a row length that is a multiple of {}; got {}", t.name, hf_name,
                            kQ8BlockValues, t.cols);
  }
  return t;
}

// A GGUF tensor's name, the HF tensor it comes from and the shape config.json gives it.
struct TensorSource {
  std::string name, hf_name;
  std::vector<int64_t> shape;
  int rope_heads = 0;
};

// Every tensor llama.cpp's llama architecture loads.
std::vector<TensorSource> tensor_sources(const ModelConfig& c, const CheckpointFiles& files) {
  const int64_t h = c.hidden_size, ff = c.intermediate_size, vocab = c.vocab_size;
  const int64_t q = int64_t{c.num_heads} * c.head_dim, kv = int64_t{c.num_kv_heads} * c.head_dim;
  // With tied embeddings a checkpoint may store either table (TinyStories stores only lm_head).
  const bool embed_as_lm_head =
      c.tie_word_embeddings && !files.contains("model.embed_tokens.weight") && files.contains("lm_head.weight");
  std::vector<TensorSource> sources = {
      {"token_embd.weight", embed_as_lm_head ? "lm_head.weight" : "model.embed_tokens.weight", {vocab, h}},
      {"output_norm.weight", "model.norm.weight", {h}}};
  if (!c.tie_word_embeddings) sources.push_back({"output.weight", "lm_head.weight", {vocab, h}});
  for (int layer = 0; layer < c.num_layers; ++layer) {
    const std::string blk = fmt::format("blk.{}.", layer), hf = fmt::format("model.layers.{}.", layer);
    sources.insert(sources.end(), {{blk + "attn_norm.weight", hf + "input_layernorm.weight", {h}},
                                   {blk + "attn_q.weight", hf + "self_attn.q_proj.weight", {q, h}, c.num_heads},
                                   {blk + "attn_k.weight", hf + "self_attn.k_proj.weight", {kv, h}, c.num_kv_heads},
                                   {blk + "attn_v.weight", hf + "self_attn.v_proj.weight", {kv, h}},
                                   {blk + "attn_output.weight", hf + "self_attn.o_proj.weight", {h, q}},
                                   {blk + "ffn_norm.weight", hf + "post_attention_layernorm.weight", {h}},
                                   {blk + "ffn_gate.weight", hf + "mlp.gate_proj.weight", {ff, h}},
                                   {blk + "ffn_up.weight", hf + "mlp.up_proj.weight", {ff, h}},
                                   {blk + "ffn_down.weight", hf + "mlp.down_proj.weight", {h, ff}}});
  }
  return sources;
}

// The tensors with their data offsets assigned.
Result<std::vector<PlannedTensor>> plan_tensors(const ModelConfig& c, const CheckpointFiles& files,
                                                WeightFormat format) {
  std::vector<PlannedTensor> plan;
  uint64_t offset = 0;
  for (TensorSource& source : tensor_sources(c, files)) {
    PPD_ASSIGN_OR_RETURN(PlannedTensor t, plan_tensor(files, std::move(source.name), source.hf_name, source.shape,
                                                      format, source.rope_heads));
    t.offset = offset;
    offset += aligned(t.size_bytes());
    plan.push_back(std::move(t));
  }
  return plan;
}

std::string model_name(const std::string& dir) {
  std::filesystem::path path(dir);
  if (!path.has_filename()) path = path.parent_path();  // "dir/"
  return path.filename().string();
}

Encoder encode_metadata(const ModelConfig& c, const std::string& name, GgufType type) {
  Encoder kv;
  kv.kv_string("general.architecture", "llama");
  kv.kv_string("general.name", name);
  kv.kv_u32("general.file_type", file_type(type));
  kv.kv_u32("general.alignment", kGgufAlignment);
  kv.kv_u32("llama.context_length", c.max_position_embeddings);
  kv.kv_u32("llama.embedding_length", c.hidden_size);
  kv.kv_u32("llama.block_count", c.num_layers);
  kv.kv_u32("llama.feed_forward_length", c.intermediate_size);
  kv.kv_u32("llama.attention.head_count", c.num_heads);
  kv.kv_u32("llama.attention.head_count_kv", c.num_kv_heads);
  kv.kv_u32("llama.attention.key_length", c.head_dim);
  kv.kv_u32("llama.attention.value_length", c.head_dim);
  kv.kv_u32("llama.rope.dimension_count", c.head_dim);
  kv.kv_f32("llama.rope.freq_base", c.rope_theta);
  if (c.rope_scaling.kind == RopeScalingKind::kLinear) {
    kv.kv_string("llama.rope.scaling.type", "linear");
    kv.kv_f32("llama.rope.scaling.factor", c.rope_scaling.factor);
  }
  kv.kv_f32("llama.attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  kv.kv_u32("llama.vocab_size", c.vocab_size);
  kv.kv_string("tokenizer.ggml.model", "none");  // no tokenizer: llama.cpp makes vocab_size dummy tokens
  return kv;
}

// Magic, version, counts, key-value pairs and tensor infos, zero-padded to the alignment.
std::string encode_header(const Encoder& metadata, const std::vector<PlannedTensor>& plan) {
  Encoder header;
  header.put_bytes("GGUF");
  header.put<uint32_t>(kGgufVersion);
  header.put<int64_t>(static_cast<int64_t>(plan.size()));
  header.put<int64_t>(metadata.num_kv());
  header.put_bytes(metadata.bytes());
  for (const PlannedTensor& t : plan) {
    header.put_string(t.name);
    const bool matrix = t.source->shape.size() == 2;
    header.put<uint32_t>(matrix ? 2 : 1);
    header.put<int64_t>(t.cols);  // dims innermost first
    if (matrix) header.put<int64_t>(t.rows);
    header.put<uint32_t>(ggml_type(t.format));
    header.put<uint64_t>(t.offset);
  }
  std::string bytes = header.bytes();
  bytes.resize(aligned(bytes.size()), '\0');
  return bytes;
}

// The output file; every error names its path.
class OutFile {
 public:
  static Result<OutFile> create(const std::string& path) {
    OutFile out;
    out.path_ = path;
    out.file_.reset(std::fopen(path.c_str(), "wb"));
    if (!out.file_) return unavailable("{}: cannot create: {}", path, std::strerror(errno));
    return out;
  }

  uint64_t size() const { return size_; }
  Status write(const void* data, size_t size_bytes) {
    if (size_bytes > 0 && std::fwrite(data, 1, size_bytes, file_.get()) != size_bytes) {
      return unavailable("{}: write failed: {}", path_, std::strerror(errno));
    }
    size_ += size_bytes;
    return Status::Ok();
  }
  Status pad() {
    static constexpr char kZeros[kGgufAlignment] = {};
    return write(kZeros, aligned(size_) - size_);
  }
  Result<int64_t> close() {
    if (std::fclose(file_.release()) != 0) return unavailable("{}: write failed: {}", path_, std::strerror(errno));
    return static_cast<int64_t>(size_);
  }

 private:
  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };

  std::unique_ptr<std::FILE, Closer> file_;
  std::string path_;
  uint64_t size_ = 0;
};

// The HF row that GGUF row `row` holds. HF rotates pairs (i, i + d/2) of each head of d rows;
// llama.cpp's "normal" RoPE rotates pairs (2i, 2i + 1); so row 2i + j of a head is HF row j*d/2 + i
// (convert_hf_to_gguf.py's LlamaModel.permute).
int64_t source_row(const PlannedTensor& t, int64_t row) {
  if (t.rope_heads == 0) return row;
  const int64_t head_rows = t.rows / t.rope_heads;
  const int64_t head = row / head_rows, within = row % head_rows;
  return head * head_rows + (within % 2) * (head_rows / 2) + within / 2;
}

Status write_tensor(OutFile& out, const PlannedTensor& t, uint64_t data_start) {
  if (out.size() != data_start + t.offset) return internal_error("{}: data offset mismatch", t.name);
  const TensorView& src = *t.source;
  const size_t element_bytes = dtype_size_bytes(src.dtype);
  std::vector<float> row(static_cast<size_t>(t.cols));
  std::vector<uint8_t> encoded(weight_row_bytes(t.format, t.cols));
  for (int64_t r = 0; r < t.rows; ++r) {
    const size_t src_offset = static_cast<size_t>(source_row(t, r) * t.cols) * element_bytes;
    convert_to_f32(src.dtype, src.bytes.data() + src_offset, row.size(), row.data());
    if (t.format == WeightFormat::kQ8_0) {
      for (const float value : row) {
        if (!std::isfinite(value)) return invalid_argument("{}: q8_0 needs finite values; row {}", t.name, r);
      }
    }
    encode_weight_row(t.format, row.data(), t.cols, encoded.data());
    PPD_RETURN_IF_ERROR(out.write(encoded.data(), encoded.size()));
  }
  return out.pad();
}

}  // namespace

std::string_view gguf_type_name(GgufType type) { return weight_format_name(matrix_format(type)); }

std::optional<GgufType> parse_gguf_type(std::string_view flag) {
  if (flag == "f32") return GgufType::kF32;
  if (flag == "f16") return GgufType::kF16;
  if (flag == "q8_0") return GgufType::kQ8_0;
  return std::nullopt;
}

Result<GgufSummary> write_gguf(const std::string& model_dir, const std::string& out_path, GgufType type) {
  PPD_ASSIGN_OR_RETURN(const ModelConfig config, load_model_config(model_dir));
  PPD_RETURN_IF_ERROR(check_supported(config));
  PPD_ASSIGN_OR_RETURN(const CheckpointFiles files, CheckpointFiles::open(model_dir));
  PPD_ASSIGN_OR_RETURN(const std::vector<PlannedTensor> plan, plan_tensors(config, files, matrix_format(type)));
  const std::string header = encode_header(encode_metadata(config, model_name(model_dir), type), plan);
  PPD_ASSIGN_OR_RETURN(OutFile out, OutFile::create(out_path));
  PPD_RETURN_IF_ERROR(out.write(header.data(), header.size()));
  for (const PlannedTensor& t : plan) PPD_RETURN_IF_ERROR(write_tensor(out, t, header.size()));
  PPD_ASSIGN_OR_RETURN(const int64_t num_bytes, out.close());
  return GgufSummary{static_cast<int>(plan.size()), num_bytes};
}

}  // namespace ppd::model
