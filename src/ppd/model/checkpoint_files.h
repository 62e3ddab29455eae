// CheckpointFiles: the safetensors files of one HF model directory, either model.safetensors
// or the shards named by model.safetensors.index.json, opened and validated, with lookup of a
// tensor by name. Immutable after open; safe to read from many threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/model/safetensors.h"

namespace ppd::model {

inline constexpr std::string_view kSingleFileName = "model.safetensors";
inline constexpr std::string_view kIndexFileName = "model.safetensors.index.json";

class CheckpointFiles {
 public:
  struct Located {
    const SafetensorsFile* file;
    const TensorView* tensor;
  };

  // Opens <dir>/model.safetensors, or else the index and every shard it names.
  // Errors: NOT_FOUND "<dir>: no model.safetensors or model.safetensors.index.json", a
  // malformed index, or any shard's own error.
  static Result<CheckpointFiles> open(const std::string& dir);

  // Returns the tensor and its file, or NOT_FOUND naming the tensor.
  Result<Located> find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name).ok(); }
  const std::vector<SafetensorsFile>& files() const { return files_; }

 private:
  Status open_index(const std::string& dir);

  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> weight_map_;  // tensor name -> index in files_; sharded only
};

}  // namespace ppd::model
