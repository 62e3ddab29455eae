// Dtype: the element types a safetensors checkpoint may use here (F32, F16, BF16), and exact
// conversions between them and float. Conversions to F32 are exact (subnormals, infinities,
// NaN payloads and -0 included); conversions from F32 round to nearest, ties to even.
// Pure functions; thread-safe. Assumes a little-endian host (checked at compile time).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ppd {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

enum class Dtype { kF32, kF16, kBF16 };

// "F32", "F16" or "BF16": the safetensors spelling.
std::string_view dtype_name(Dtype dtype);
// Parses a safetensors dtype string; std::nullopt for anything unsupported.
std::optional<Dtype> parse_dtype(std::string_view name);
// "f32", "f16" or "bf16": the command-line spelling.
std::optional<Dtype> parse_dtype_flag(std::string_view flag);
size_t dtype_size_bytes(Dtype dtype);

float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);   // overflow gives inf; NaN stays (quiet) NaN
uint16_t f32_to_bf16(float value);  // NaN stays (quiet) NaN

// Converts `num_elements` little-endian values of `dtype` at `src` (any alignment) to float.
void convert_to_f32(Dtype dtype, const uint8_t* src, size_t num_elements, float* dst);
// Converts floats to `dtype`, writing num_elements * dtype_size_bytes(dtype) bytes at `dst`.
void convert_from_f32(Dtype dtype, const float* src, size_t num_elements, uint8_t* dst);

// How the engine keeps a weight matrix: one of the Dtypes, or Q8_0 (llama.cpp's block layout:
// each run of 32 values along a row is 34 bytes, an F16 scale d then 32 int8 q, value = d * q).
enum class WeightFormat { kF32, kF16, kBF16, kQ8_0 };
constexpr int kQ8BlockValues = 32;
constexpr int kQ8BlockBytes = 2 + kQ8BlockValues;

// "f32", "f16", "bf16" or "q8_0": the command-line spelling.
std::string_view weight_format_name(WeightFormat format);
std::optional<WeightFormat> parse_weight_format(std::string_view flag);
WeightFormat weight_format_of(Dtype dtype);
// Bytes of one row of `k` values. REQUIRES: k % kQ8BlockValues == 0 for Q8_0.
size_t weight_row_bytes(WeightFormat format, int64_t k);
// Converts one row of `k` values to `format` (Q8_0: d = max|x| / 127, q = round(x / d)).
// REQUIRES: k % kQ8BlockValues == 0 for Q8_0; the values are finite.
void encode_weight_row(WeightFormat format, const float* src, int64_t k, uint8_t* dst);
// The inverse (exact for the Dtypes; d * q for Q8_0).
void decode_weight_row(WeightFormat format, const uint8_t* src, int64_t k, float* dst);

}  // namespace ppd
