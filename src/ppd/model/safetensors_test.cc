#include "ppd/model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

// A raw safetensors file: 8-byte little-endian header length, header, data.
std::string raw_file(const std::string& header, const std::string& data, uint64_t header_length) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &header_length, 8);
  return out + header + data;
}
std::string raw_file(const std::string& header, const std::string& data) {
  return raw_file(header, data, header.size());
}

std::string open_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("model.safetensors");
  EXPECT_TRUE(write_file(path, bytes).ok());
  const Result<SafetensorsFile> file = SafetensorsFile::open(path);
  return file.ok() ? "OK" : file.status().message();
}

TEST(SafetensorsTest, RoundTripEveryDtype) {
  TempDir dir;
  const std::vector<float> values = {0.0f, -1.5f, 3.25f, 1e-3f, -65504.0f, 0.1f};
  for (const Dtype dtype : {Dtype::kF32, Dtype::kF16, Dtype::kBF16}) {
    const std::string path = dir.file(fmt::format("{}.safetensors", dtype_name(dtype)));
    const std::vector<TensorData> tensors = {{{"w", dtype, {2, 3}}, values}, {{"b", dtype, {1}}, {7.0f}}};
    const Result<int64_t> size = write_safetensors(path, tensors, {{"format", "pt"}});
    ASSERT_TRUE(size.ok()) << size.status().to_string();
    const Result<SafetensorsFile> file = SafetensorsFile::open(path);
    ASSERT_TRUE(file.ok()) << file.status().to_string();
    EXPECT_EQ(file->metadata().at("format"), "pt");
    EXPECT_EQ((8 + file->header_json().size()) % 8, 0u);
    EXPECT_EQ(static_cast<int64_t>(8 + file->header_json().size() + file->data_region().size()), *size);
    ASSERT_EQ(file->tensors().size(), 2u);
    EXPECT_EQ(file->tensors()[0].name, "b");  // sorted by name
    const TensorView* w = file->find("w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, dtype);
    EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
    std::vector<float> read(6);
    w->copy_to_f32(read.data());
    for (size_t i = 0; i < values.size(); ++i) {
      const float expected = dtype == Dtype::kF32   ? values[i]
                             : dtype == Dtype::kF16 ? f16_to_f32(f32_to_f16(values[i]))
                                                    : bf16_to_f32(f32_to_bf16(values[i]));
      EXPECT_EQ(read[i], expected) << dtype_name(dtype) << " " << i;
    }
    EXPECT_EQ(file->find("missing"), nullptr);
  }
}

TEST(SafetensorsTest, TruncatedData) {
  TempDir dir;
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"X":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}})";
  EXPECT_EQ(open_error(dir, raw_file(header, std::string(20, '\0'))),
            "model.safetensors: truncated: tensor \"X\" needs bytes [16, 32) of the data region "
            "but it holds 20");
  EXPECT_EQ(open_error(dir, raw_file(header, std::string(32, '\0'))), "OK");
}

TEST(SafetensorsTest, HeaderLengthBeyondFile) {
  TempDir dir;
  EXPECT_EQ(open_error(dir, raw_file("{}", "", 1000)),
            "model.safetensors: truncated: header length 1000 runs past the end of the file (2 "
            "bytes follow the length field)");
  EXPECT_EQ(open_error(dir, "abc"),
            "model.safetensors: truncated: the file holds 3 bytes; the header length field needs 8");
}

TEST(SafetensorsTest, MalformedHeader) {
  TempDir dir;
  const std::string bad_json = open_error(dir, raw_file("{\"a\": [1, 2", ""));
  EXPECT_TRUE(bad_json.starts_with("model.safetensors: header: invalid JSON: ")) << bad_json;
  EXPECT_EQ(open_error(dir, raw_file("[1]", "")), "model.safetensors: header: expected a JSON object");
  EXPECT_EQ(
      open_error(dir, raw_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0'))),
      "model.safetensors: tensor \"a\": shape: expected a list of non-negative integers");
  EXPECT_EQ(open_error(dir, raw_file(R"({"__metadata__":{"format":1}})", "")),
            "model.safetensors: __metadata__: expected an object of strings");
}

TEST(SafetensorsTest, BadOffsets) {
  TempDir dir;
  EXPECT_EQ(
      open_error(dir, raw_file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(16, '\0'))),
      "model.safetensors: tensor \"a\": data_offsets [0, 12] hold 12 bytes but F32 [2, 2] "
      "needs 16");
  EXPECT_EQ(
      open_error(dir, raw_file(R"({"a":{"dtype":"BF16","shape":[3],"data_offsets":[8,2]}})", std::string(16, '\0'))),
      "model.safetensors: tensor \"a\": data_offsets: expected [begin, end] with begin <= end");
  EXPECT_EQ(open_error(dir, raw_file(R"({"a":{"dtype":"F16","shape":[3],"data_offsets":[0]}})", std::string(16, '\0'))),
            "model.safetensors: tensor \"a\": data_offsets: expected [begin, end] with begin <= end");
}

TEST(SafetensorsTest, UnsupportedDtype) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(write_file(path, raw_file(R"({"X":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", "abcd")).ok());
  const Result<SafetensorsFile> file = SafetensorsFile::open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file.status().message(),
            "model.safetensors: tensor \"X\": dtype \"I8\" unsupported; supported: F32, F16, BF16");
}

TEST(SafetensorsTest, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(SafetensorsFile::open(dir.file("nope.safetensors")).status().code(), StatusCode::kNotFound);
}

TEST(SafetensorsTest, WriterRejectsDuplicateNames) {
  TempDir dir;
  const std::vector<TensorData> tensors = {{{"a", Dtype::kF32, {1}}, {1.0f}}, {{"a", Dtype::kF32, {1}}, {2.0f}}};
  EXPECT_EQ(write_safetensors(dir.file("x.safetensors"), tensors).status().message(),
            dir.file("x.safetensors") + ": tensor \"a\" appears twice");
}

}  // namespace
}  // namespace ppd::model
