// SafetensorsWriter and write_safetensors (declared in safetensors.h).
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "ppd/model/safetensors.h"

namespace ppd::model {
namespace {

constexpr size_t kFileBufferBytes = size_t{1} << 20;

// The header JSON, padded with spaces so that 8 + its size is a multiple of 8.
std::string header_text(const std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  int64_t offset = 0;
  for (const TensorSpec& spec : specs) {
    header[spec.name] = {{"dtype", dtype_name(spec.dtype)},
                         {"shape", spec.shape},
                         {"data_offsets", {offset, offset + spec.size_bytes()}}};
    offset += spec.size_bytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

Result<SafetensorsWriter> SafetensorsWriter::create(const std::string& path, std::vector<TensorSpec> specs,
                                                    const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> names;
  for (const TensorSpec& spec : specs) {
    if (!names.insert(spec.name).second) {
      return invalid_argument("{}: tensor \"{}\" appears twice", path, spec.name);
    }
  }
  SafetensorsWriter writer;
  writer.path_ = path;
  writer.file_.reset(std::fopen(path.c_str(), "wb"));
  if (!writer.file_) return unavailable("{}: cannot create: {}", path, std::strerror(errno));
  std::setvbuf(writer.file_.get(), nullptr, _IOFBF, kFileBufferBytes);
  const std::string header = header_text(specs, metadata);
  const uint64_t header_bytes = header.size();
  PPD_RETURN_IF_ERROR(writer.write(&header_bytes, sizeof(header_bytes)));
  PPD_RETURN_IF_ERROR(writer.write(header.data(), header.size()));
  writer.specs_ = std::move(specs);
  return writer;
}

Status SafetensorsWriter::write(const void* data, size_t size_bytes) {
  if (size_bytes > 0 && std::fwrite(data, 1, size_bytes, file_.get()) != size_bytes) {
    return unavailable("{}: write failed: {}", path_, std::strerror(errno));
  }
  num_bytes_written_ += static_cast<int64_t>(size_bytes);
  return Status::Ok();
}

Status SafetensorsWriter::append(std::span<const float> values) {
  if (!file_ || num_appended_ >= specs_.size() ||
      static_cast<int64_t>(values.size()) != specs_[num_appended_].num_elements()) {
    return internal_error("{}: append does not match the next tensor spec", path_);
  }
  const TensorSpec& spec = specs_[num_appended_++];
  if (spec.dtype == Dtype::kF32) return write(values.data(), values.size() * sizeof(float));
  scratch_.resize(static_cast<size_t>(spec.size_bytes()));
  convert_from_f32(spec.dtype, values.data(), values.size(), scratch_.data());
  return write(scratch_.data(), scratch_.size());
}

Result<int64_t> SafetensorsWriter::finish() {
  if (!file_ || num_appended_ != specs_.size()) {
    return internal_error("{}: finish before every tensor was appended", path_);
  }
  std::FILE* file = file_.release();
  if (std::fclose(file) != 0) return unavailable("{}: write failed: {}", path_, std::strerror(errno));
  return num_bytes_written_;
}

Result<int64_t> write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const TensorData& tensor : tensors) specs.push_back(tensor.spec);
  PPD_ASSIGN_OR_RETURN(SafetensorsWriter writer, SafetensorsWriter::create(path, std::move(specs), metadata));
  for (const TensorData& tensor : tensors) PPD_RETURN_IF_ERROR(writer.append(tensor.values));
  return writer.finish();
}

}  // namespace ppd::model
