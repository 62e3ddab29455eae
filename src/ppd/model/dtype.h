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

namespace ppd::model {

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

}  // namespace ppd::model
