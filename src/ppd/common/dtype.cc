#include "ppd/common/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ppd {

std::string_view dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::kF32:
      return "F32";
    case Dtype::kF16:
      return "F16";
    case Dtype::kBF16:
      return "BF16";
  }
  return "?";
}

std::optional<Dtype> parse_dtype(std::string_view name) {
  if (name == "F32") return Dtype::kF32;
  if (name == "F16") return Dtype::kF16;
  if (name == "BF16") return Dtype::kBF16;
  return std::nullopt;
}

std::optional<Dtype> parse_dtype_flag(std::string_view flag) {
  if (flag == "f32") return Dtype::kF32;
  if (flag == "f16") return Dtype::kF16;
  if (flag == "bf16") return Dtype::kBF16;
  return std::nullopt;
}

size_t dtype_size_bytes(Dtype dtype) { return dtype == Dtype::kF32 ? 4 : 2; }

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_f16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u | ((abs >> 13) & 0x3ffu);  // NaN, quieted
  if (abs >= 0x477ff000u) return sign | 0x7c00u;                          // rounds past 65504: infinity
  if (abs >= 0x38800000u) {                                               // normal in f16
    uint32_t h = ((abs >> 23) - 112) << 10 | ((abs >> 13) & 0x3ffu);
    const uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry bumps the exponent
    return static_cast<uint16_t>(sign | h);
  }
  if (abs <= 0x33000000u) return sign;  // at most half the smallest subnormal: rounds to 0
  // Subnormal in f16: units of 2^-24.
  const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
  const int shift = 126 - static_cast<int>(abs >> 23);  // 14..24
  uint32_t h = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

uint16_t f32_to_bf16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t rounding_bias = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding_bias) >> 16);
}

void convert_to_f32(Dtype dtype, const uint8_t* src, size_t num_elements, float* dst) {
  if (num_elements == 0) return;  // the pointers may be null
  if (dtype == Dtype::kF32) {
    std::memcpy(dst, src, num_elements * sizeof(float));
    return;
  }
  const bool is_f16 = dtype == Dtype::kF16;
  for (size_t i = 0; i < num_elements; ++i) {
    uint16_t bits;
    std::memcpy(&bits, src + 2 * i, sizeof(bits));
    dst[i] = is_f16 ? f16_to_f32(bits) : bf16_to_f32(bits);
  }
}

void convert_from_f32(Dtype dtype, const float* src, size_t num_elements, uint8_t* dst) {
  if (num_elements == 0) return;  // the pointers may be null
  if (dtype == Dtype::kF32) {
    std::memcpy(dst, src, num_elements * sizeof(float));
    return;
  }
  const bool is_f16 = dtype == Dtype::kF16;
  for (size_t i = 0; i < num_elements; ++i) {
    const uint16_t bits = is_f16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &bits, sizeof(bits));
  }
}

std::string_view weight_format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32:
      return "f32";
    case WeightFormat::kF16:
      return "f16";
    case WeightFormat::kBF16:
      return "bf16";
    case WeightFormat::kQ8_0:
      return "q8_0";
  }
  return "?";
}

std::optional<WeightFormat> parse_weight_format(std::string_view flag) {
  if (flag == "q8_0") return WeightFormat::kQ8_0;
  const std::optional<Dtype> dtype = parse_dtype_flag(flag);
  if (!dtype) return std::nullopt;
  return weight_format_of(*dtype);
}

WeightFormat weight_format_of(Dtype dtype) {
  switch (dtype) {
    case Dtype::kF32:
      return WeightFormat::kF32;
    case Dtype::kF16:
      return WeightFormat::kF16;
    case Dtype::kBF16:
      return WeightFormat::kBF16;
  }
  return WeightFormat::kF32;
}

size_t weight_row_bytes(WeightFormat format, int64_t k) {
  const auto n = static_cast<size_t>(k);
  switch (format) {
    case WeightFormat::kF32:
      return 4 * n;
    case WeightFormat::kF16:
    case WeightFormat::kBF16:
      return 2 * n;
    case WeightFormat::kQ8_0:
      return n / kQ8BlockValues * kQ8BlockBytes;
  }
  return 0;
}

namespace {

void quantize_q8_0(const float* src, int64_t k, uint8_t* dst) {
  for (int64_t b = 0; b < k / kQ8BlockValues; ++b, dst += kQ8BlockBytes) {
    const float* x = src + b * kQ8BlockValues;
    float amax = 0.0f;
    for (int i = 0; i < kQ8BlockValues; ++i) amax = std::max(amax, std::fabs(x[i]));
    // The scale is stored in F16: quantize against the rounded scale so that d * q is what
    // was meant.
    const uint16_t d_bits = f32_to_f16(amax / 127.0f);
    const float d = f16_to_f32(d_bits);
    const float inv = d > 0.0f ? 1.0f / d : 0.0f;
    std::memcpy(dst, &d_bits, sizeof(d_bits));
    for (int i = 0; i < kQ8BlockValues; ++i) {
      const float q = std::clamp(std::nearbyint(x[i] * inv), -127.0f, 127.0f);
      dst[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
}

void dequantize_q8_0(const uint8_t* src, int64_t k, float* dst) {
  for (int64_t b = 0; b < k / kQ8BlockValues; ++b, src += kQ8BlockBytes) {
    uint16_t d_bits;
    std::memcpy(&d_bits, src, sizeof(d_bits));
    const float d = f16_to_f32(d_bits);
    for (int i = 0; i < kQ8BlockValues; ++i) {
      dst[b * kQ8BlockValues + i] = d * static_cast<float>(static_cast<int8_t>(src[2 + i]));
    }
  }
}

Dtype dtype_of(WeightFormat format) {
  return format == WeightFormat::kF16 ? Dtype::kF16 : format == WeightFormat::kBF16 ? Dtype::kBF16 : Dtype::kF32;
}

}  // namespace

void encode_weight_row(WeightFormat format, const float* src, int64_t k, uint8_t* dst) {
  if (format == WeightFormat::kQ8_0) return quantize_q8_0(src, k, dst);
  convert_from_f32(dtype_of(format), src, static_cast<size_t>(k), dst);
}

void decode_weight_row(WeightFormat format, const uint8_t* src, int64_t k, float* dst) {
  if (format == WeightFormat::kQ8_0) return dequantize_q8_0(src, k, dst);
  convert_to_f32(dtype_of(format), src, static_cast<size_t>(k), dst);
}

}  // namespace ppd
