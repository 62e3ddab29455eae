// splitmix64's output mix (Steele, Lea and Flood): a bijective 64-bit finalizer used to derive
// seeded, platform-independent pseudo-random values and to hash small integers. Pure.
#pragma once

#include <cstdint>

namespace ppd {

inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

inline constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ppd
