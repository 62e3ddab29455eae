#include "ppd/model/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "ppd/model/json_reader.h"

namespace ppd::model {
namespace {

using nlohmann::json;

constexpr size_t kLengthFieldBytes = 8;
constexpr int64_t kMaxDim = int64_t{1} << 40;

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status tensor_error(std::string_view file, std::string_view tensor, std::string_view message) {
  return data_loss("{}: tensor \"{}\": {}", file, tensor, message);
}

// A JSON array of non-negative integers below kMaxDim, or std::nullopt.
std::optional<std::vector<int64_t>> int_list(const json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<int64_t> out;
  for (const json& item : value) {
    if (!item.is_number_unsigned()) return std::nullopt;  // nlohmann parses n >= 0 as unsigned
    const uint64_t n = item.get<uint64_t>();
    if (n >= static_cast<uint64_t>(kMaxDim)) return std::nullopt;
    out.push_back(static_cast<int64_t>(n));
  }
  return out;
}

std::optional<int64_t> checked_num_elements(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (const int64_t dim : shape) {
    if (__builtin_mul_overflow(n, dim, &n)) return std::nullopt;
  }
  return n;
}

Result<Dtype> entry_dtype(std::string_view file, const std::string& name, const json& entry) {
  const auto it = entry.find("dtype");
  if (it == entry.end() || !it->is_string()) {
    return tensor_error(file, name, "dtype: expected a string");
  }
  const std::string text = it->get<std::string>();
  const std::optional<Dtype> dtype = parse_dtype(text);
  if (!dtype) {
    return invalid_argument("{}: tensor \"{}\": dtype \"{}\" unsupported; supported: F32, F16, BF16", file, name, text);
  }
  return *dtype;
}

std::optional<std::vector<int64_t>> int_list_field(const json& entry, std::string_view key) {
  const auto it = entry.find(key);
  return it == entry.end() ? std::nullopt : int_list(*it);
}

// Checks that data_offsets [begin, end) hold exactly the tensor's bytes inside the data region.
Status check_extent(std::string_view file, const TensorView& tensor, int64_t num_elements, int64_t begin, int64_t end,
                    size_t data_size) {
  const auto element_bytes = static_cast<int64_t>(dtype_size_bytes(tensor.dtype));
  int64_t needed = 0;
  if (__builtin_mul_overflow(num_elements, element_bytes, &needed) || needed != end - begin) {
    return tensor_error(file, tensor.name,
                        fmt::format("data_offsets [{}, {}] hold {} bytes but {} {} needs {}", begin, end, end - begin,
                                    dtype_name(tensor.dtype), format_shape(tensor.shape), needed));
  }
  if (end > static_cast<int64_t>(data_size)) {
    return data_loss("{}: truncated: tensor \"{}\" needs bytes [{}, {}) of the data region but it holds {}", file,
                     tensor.name, begin, end, data_size);
  }
  return Status::Ok();
}

Result<TensorView> parse_entry(std::string_view file, const std::string& name, const json& entry,
                               std::span<const uint8_t> data) {
  if (!entry.is_object()) return tensor_error(file, name, "expected a JSON object");
  TensorView tensor;
  tensor.name = name;
  PPD_ASSIGN_OR_RETURN(tensor.dtype, entry_dtype(file, name, entry));
  std::optional<std::vector<int64_t>> shape = int_list_field(entry, "shape");
  const std::optional<int64_t> num_elements = shape ? checked_num_elements(*shape) : std::nullopt;
  if (!num_elements) {
    return tensor_error(file, name, "shape: expected a list of non-negative integers");
  }
  tensor.shape = std::move(*shape);
  const std::optional<std::vector<int64_t>> offsets = int_list_field(entry, "data_offsets");
  if (!offsets || offsets->size() != 2 || (*offsets)[0] > (*offsets)[1]) {
    return tensor_error(file, name, "data_offsets: expected [begin, end] with begin <= end");
  }
  const int64_t begin = (*offsets)[0], end = (*offsets)[1];
  PPD_RETURN_IF_ERROR(check_extent(file, tensor, *num_elements, begin, end, data.size()));
  tensor.bytes = data.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
  return tensor;
}

Result<std::map<std::string, std::string>> parse_metadata(std::string_view file, const json& value) {
  std::map<std::string, std::string> metadata;
  if (!value.is_object()) return data_loss("{}: __metadata__: expected an object of strings", file);
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) return data_loss("{}: __metadata__: expected an object of strings", file);
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

}  // namespace

std::string format_shape(std::span<const int64_t> shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t TensorView::num_elements() const { return checked_num_elements(shape).value_or(0); }

void TensorView::copy_to_f32(float* dst) const {
  convert_to_f32(dtype, bytes.data(), bytes.size() / dtype_size_bytes(dtype), dst);
}

int64_t TensorSpec::num_elements() const { return checked_num_elements(shape).value_or(0); }

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile file;
  PPD_ASSIGN_OR_RETURN(file.file_, MappedFile::open(path));
  file.file_name_ = base_name(path);
  PPD_RETURN_IF_ERROR(file.parse_header());
  return file;
}

Status SafetensorsFile::parse_header() {
  const std::span<const uint8_t> bytes = file_.bytes();
  if (bytes.size() < kLengthFieldBytes) {
    return data_loss("{}: truncated: the file holds {} bytes; the header length field needs {}", file_name_,
                     bytes.size(), kLengthFieldBytes);
  }
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), sizeof(header_bytes));
  if (header_bytes > bytes.size() - kLengthFieldBytes) {
    return data_loss(
        "{}: truncated: header length {} runs past the end of the file ({} bytes follow the length "
        "field)",
        file_name_, header_bytes, bytes.size() - kLengthFieldBytes);
  }
  header_size_bytes_ = static_cast<size_t>(header_bytes);
  Result<json> header = parse_json(header_json(), file_name_ + ": header");
  if (!header.ok()) return Status(StatusCode::kDataLoss, header.status().message());
  if (!header->is_object()) return data_loss("{}: header: expected a JSON object", file_name_);
  for (const auto& [name, entry] : header->items()) {
    if (name == "__metadata__") {
      PPD_ASSIGN_OR_RETURN(metadata_, parse_metadata(file_name_, entry));
      continue;
    }
    PPD_ASSIGN_OR_RETURN(TensorView tensor, parse_entry(file_name_, name, entry, data_region()));
    tensors_.push_back(std::move(tensor));
  }
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
  return Status::Ok();
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorView& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

std::string_view SafetensorsFile::header_json() const {
  return {reinterpret_cast<const char*>(file_.bytes().data()) + kLengthFieldBytes, header_size_bytes_};
}

std::span<const uint8_t> SafetensorsFile::data_region() const {
  return file_.bytes().subspan(kLengthFieldBytes + header_size_bytes_);
}

}  // namespace ppd::model
