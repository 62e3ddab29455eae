// CounterRng: the portable random source of synthetic models. Value i of a stream is a pure
// function of (key, i) (splitmix64's output mix applied to key + (i + 1) * golden gamma), so a
// seed gives the same bytes on every platform and standard library, in any order or split.
// Normal samples use the Irwin–Hall sum of four 16-bit uniforms: integer arithmetic plus one
// correctly rounded multiply, unlike Box–Muller, whose log/cos differ between libm versions.
// Its tails stop at ±3.46 sigma, which suits weight initialization. Immutable; thread-safe.
#pragma once

#include <cmath>
#include <cstdint>

#include "ppd/common/splitmix.h"

namespace ppd::model {

class CounterRng {
 public:
  explicit CounterRng(uint64_t key) : key_(key) {}

  uint64_t bits(uint64_t index) const { return splitmix64_mix(key_ + (index + 1) * kGoldenGamma); }

  // Uniform in [0, n) by multiply-shift (bias below 2^-32 for n < 2^32). REQUIRES: n >= 1.
  uint32_t below(uint64_t index, uint32_t n) const { return static_cast<uint32_t>(((bits(index) >> 32) * n) >> 32); }

  // Twice the centred sum of four 16-bit uniforms (doubled so it stays an integer): in
  // [-262140, 262140], mean 0, standard deviation irwin_hall_sigma().
  int64_t centered_irwin_hall(uint64_t index) const {
    const uint64_t x = bits(index);
    const int64_t sum = static_cast<int64_t>((x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) + (x >> 48));
    return 2 * sum - 4 * 65535;
  }
  // Standard deviation of centered_irwin_hall(): 2 * sqrt(4 * (65536^2 - 1) / 12).
  static double irwin_hall_sigma() { return 2.0 * std::sqrt((65536.0 * 65536.0 - 1.0) / 3.0); }

 private:
  uint64_t key_;
};

}  // namespace ppd::model
