// Rng: the workload generators' random source, a splitmix64 stream. A (seed, stream, index)
// triple names one independent stream, so conversation i of a generator is a pure function of
// its seed and i, and one kind of draw (say think times) never shifts another (say lengths).
// Integer draws are identical on every platform; exponential draws call std::log1p, which may
// differ in the last bit between libm versions. Value type; not thread-safe, copy per thread.
#pragma once

#include <cmath>
#include <cstdint>

#include "ppd/common/splitmix.h"

namespace ppd::workload {

// The stream of think times between turns, the same for every generator that draws them.
inline constexpr uint64_t kThinkTimeStream = 0x5448494e;  // "THIN"

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // The independent stream `stream` of `seed`, item `index` (e.g. a conversation id).
  static Rng for_stream(uint64_t seed, uint64_t stream, uint64_t index) {
    return Rng(splitmix64_mix(splitmix64_mix(seed ^ splitmix64_mix(stream + kGoldenGamma)) + index));
  }

  uint64_t next_bits() {
    state_ += kGoldenGamma;
    return splitmix64_mix(state_);
  }

  // Uniform in [lo, hi] by Lemire's multiply-shift (bias below 2^-64 * range). REQUIRES: lo <= hi.
  int64_t uniform_int(int64_t lo, int64_t hi) {
    const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;  // 0: all 2^64
    if (range == 0) return static_cast<int64_t>(next_bits());
    const U128 product = static_cast<U128>(next_bits()) * range;
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + static_cast<uint64_t>(product >> 64));
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_bits() >> 11) * 0x1.0p-53; }

  // Exponential with the given rate (mean 1/rate): -log(1 - u) / rate. REQUIRES: rate > 0.
  double exponential(double rate) { return -std::log1p(-uniform01()) / rate; }

 private:
  __extension__ typedef unsigned __int128 U128;
  uint64_t state_;
};

}  // namespace ppd::workload
