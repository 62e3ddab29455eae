// splitmix64 (Steele, Lea and Flood), the project's one copy: its output mix, a bijective 64-bit
// finalizer used to derive seeded, platform-independent pseudo-random values and to hash small
// integers, and its full step. Pure.
#pragma once

#include <cstdint>

namespace ppd {

inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

inline constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One splitmix64 step from state `x`: the mix of x + the golden gamma.
inline constexpr uint64_t splitmix64(uint64_t x) { return splitmix64_mix(x + kGoldenGamma); }

// Maps a uniform 64-bit value (a splitmix64_mix output) to a uniform value in [0, n) with a
// multiply and a shift instead of a division (Lemire's range reduction on its high 32 bits).
inline constexpr uint32_t uniform_below(uint64_t h, uint32_t n) { return static_cast<uint32_t>(((h >> 32) * n) >> 32); }

}  // namespace ppd
