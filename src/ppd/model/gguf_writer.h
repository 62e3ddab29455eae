// GGUF writer: converts an HF-layout Llama model directory into a GGUF v3 file that llama.cpp
// loads as architecture "llama", so that both engines run identical weights. The file carries
// the hyperparameters llama.cpp needs and no tokenizer (tokenizer.ggml.model "none" plus
// llama.vocab_size): llama-bench and llama-batched-bench feed token ids only. Q and K
// projection rows are reordered from HF's rotate-half layout to llama.cpp's interleaved RoPE
// layout (as convert_hf_to_gguf.py does), so the GGUF model computes what the HF model computes.
// Weights are converted one row at a time; the whole model is never held as F32.
// Thread-compatible: concurrent calls must write different files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd::model {

// The storage of the 2-D weights (embeddings included); 1-D tensors (norms) are always F32.
enum class GgufType { kF32, kF16, kQ8_0 };

// "f32", "f16" or "q8_0": the command-line spelling.
std::string_view gguf_type_name(GgufType type);
std::optional<GgufType> parse_gguf_type(std::string_view flag);

inline constexpr uint32_t kGgufAlignment = 32;  // general.alignment: every tensor's data offset

struct GgufSummary {
  int num_tensors = 0;
  int64_t num_bytes = 0;  // the file size
};

// Reads <model_dir>/config.json and its safetensors and writes `out_path` (truncated).
// Errors: the config's or checkpoint's own errors; UNIMPLEMENTED for what llama.cpp's llama
// architecture cannot express (qwen2, attention biases, llama3 RoPE scaling, a sliding window);
// INVALID_ARGUMENT naming the tensor when a tensor has the wrong shape or, for Q8_0, a row
// length that is not a multiple of 32; UNAVAILABLE naming `out_path` when writing fails.
Result<GgufSummary> write_gguf(const std::string& model_dir, const std::string& out_path, GgufType type);

}  // namespace ppd::model
