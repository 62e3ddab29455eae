// Safetensors: a hand-written reader and writer for the Hugging Face safetensors format: an
// 8-byte little-endian header length N, N bytes of JSON header ({name: {dtype, shape,
// data_offsets: [begin, end]}} plus an optional "__metadata__" string map), then the data
// region that the offsets index. The reader validates the whole header when it opens a file,
// so every TensorView lies inside the mapping; it is then immutable and safe to share between
// threads. A writer is single-threaded. Error messages start with the file's base name.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/dtype.h"
#include "ppd/common/file.h"
#include "ppd/common/status.h"

namespace ppd::model {

// "[2, 3]": a shape as error messages print it.
std::string format_shape(std::span<const int64_t> shape);

struct TensorView {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<int64_t> shape;
  std::span<const uint8_t> bytes;  // inside the file's mapping; any alignment

  int64_t num_elements() const;
  // Converts every element to float. REQUIRES: dst holds num_elements() floats.
  void copy_to_f32(float* dst) const;
};

class SafetensorsFile {
 public:
  // Maps `path` and validates its header: NOT_FOUND when missing, DATA_LOSS when truncated
  // or malformed, INVALID_ARGUMENT for a dtype other than F32, F16, BF16.
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& file_name() const { return file_name_; }          // base name, for messages
  const std::vector<TensorView>& tensors() const { return tensors_; }  // sorted by name
  const TensorView* find(std::string_view name) const;                 // nullptr when absent
  // The header exactly as stored (padding included).
  std::string_view header_json() const;
  std::span<const uint8_t> data_region() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  Status parse_header();

  MappedFile file_;
  std::string file_name_;
  size_t header_size_bytes_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct TensorSpec {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<int64_t> shape;

  int64_t num_elements() const;
  int64_t size_bytes() const { return num_elements() * static_cast<int64_t>(dtype_size_bytes(dtype)); }
};

// Streams one safetensors file: the header at create(), then each tensor's values in the
// order of `specs`. The header is padded with spaces so the data region starts 8-byte aligned.
class SafetensorsWriter {
 public:
  // Creates (truncates) `path` and writes the header. Errors: duplicate tensor names, I/O.
  static Result<SafetensorsWriter> create(const std::string& path, std::vector<TensorSpec> specs,
                                          const std::map<std::string, std::string>& metadata);

  // Writes the next tensor, converting from float to its dtype.
  // REQUIRES: values.size() == num_elements() of the next spec.
  Status append(std::span<const float> values);
  // Flushes and closes; returns the file size in bytes. REQUIRES: every tensor appended.
  Result<int64_t> finish();

 private:
  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  Status write(const void* data, size_t size_bytes);

  std::unique_ptr<std::FILE, Closer> file_;
  std::string path_;
  std::vector<TensorSpec> specs_;
  size_t num_appended_ = 0;
  int64_t num_bytes_written_ = 0;
  std::vector<uint8_t> scratch_;
};

struct TensorData {
  TensorSpec spec;
  std::vector<float> values;  // [num_elements], row-major
};

// Writes `tensors` (in this order) to `path`. Returns the file size in bytes.
Result<int64_t> write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace ppd::model
