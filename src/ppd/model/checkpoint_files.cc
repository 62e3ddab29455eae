#include "ppd/model/checkpoint_files.h"

#include <algorithm>

#include "ppd/common/file.h"
#include "ppd/model/json_reader.h"

namespace ppd::model {
namespace {

using nlohmann::json;

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Reads the index's weight_map: tensor name -> shard file name.
Result<std::map<std::string, std::string>> read_weight_map(const std::string& path) {
  PPD_ASSIGN_OR_RETURN(std::string text, read_file(path));
  PPD_ASSIGN_OR_RETURN(json root, parse_json(text, kIndexFileName));
  if (!root.is_object()) return invalid_argument("{}: expected a JSON object", kIndexFileName);
  const auto it = root.find("weight_map");
  if (it == root.end()) return invalid_argument("{}: weight_map: missing", kIndexFileName);
  if (!it->is_object()) {
    return invalid_argument("{}: weight_map: expected an object; got {}", kIndexFileName, json_excerpt(*it));
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : it->items()) {
    if (!shard.is_string() || !is_plain_file_name(shard.get<std::string>())) {
      return invalid_argument("{}: weight_map[\"{}\"]: expected a file name in the model directory; got {}",
                              kIndexFileName, tensor, json_excerpt(shard));
    }
    weight_map[tensor] = shard.get<std::string>();
  }
  return weight_map;
}

}  // namespace

Result<CheckpointFiles> CheckpointFiles::open(const std::string& dir) {
  CheckpointFiles checkpoint;
  const std::string single = fmt::format("{}/{}", dir, kSingleFileName);
  if (file_exists(single)) {
    PPD_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(single));
    checkpoint.files_.push_back(std::move(file));
    return checkpoint;
  }
  if (!file_exists(fmt::format("{}/{}", dir, kIndexFileName))) {
    return not_found("{}: no {} or {}", dir, kSingleFileName, kIndexFileName);
  }
  PPD_RETURN_IF_ERROR(checkpoint.open_index(dir));
  return checkpoint;
}

Status CheckpointFiles::open_index(const std::string& dir) {
  PPD_ASSIGN_OR_RETURN(auto weight_map, read_weight_map(fmt::format("{}/{}", dir, kIndexFileName)));
  std::vector<std::string> shard_names;
  for (const auto& [tensor, shard] : weight_map) shard_names.push_back(shard);
  std::sort(shard_names.begin(), shard_names.end());
  shard_names.erase(std::unique(shard_names.begin(), shard_names.end()), shard_names.end());
  for (const std::string& shard : shard_names) {
    PPD_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(fmt::format("{}/{}", dir, shard)));
    files_.push_back(std::move(file));
  }
  for (const auto& [tensor, shard] : weight_map) {
    const auto it = std::lower_bound(shard_names.begin(), shard_names.end(), shard);
    weight_map_[tensor] = static_cast<size_t>(it - shard_names.begin());
  }
  return Status::Ok();
}

Result<CheckpointFiles::Located> CheckpointFiles::find(const std::string& name) const {
  size_t file_index = 0;
  if (!weight_map_.empty() || files_.size() != 1) {
    const auto it = weight_map_.find(name);
    if (it == weight_map_.end()) {
      return not_found("{}: tensor \"{}\": missing from weight_map", kIndexFileName, name);
    }
    file_index = it->second;
  }
  const SafetensorsFile& file = files_[file_index];
  const TensorView* tensor = file.find(name);
  if (tensor == nullptr) return not_found("{}: tensor \"{}\": missing", file.file_name(), name);
  return Located{&file, tensor};
}

}  // namespace ppd::model
